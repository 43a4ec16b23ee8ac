/**
 * A small typed layer over the `esl` 11.2.1 package that handles its quirks (read in its source):
 * - every command gets an explicit timeout (esl: command() 1 s, send() 10 s, api() 9 h, bgapi() none);
 * - `bgapi` results are checked in the BACKGROUND_JOB body (esl resolves on `-ERR …`);
 * - FreeSwitchError has an empty `message`: describeEslError() gives a readable one, without
 *   command arguments (an `auth` command carries the password);
 * - sendmsg is written with our own headers (esl's hangup() defaults to NORMAL_UNSPECIFIED and its
 *   execute() cannot set event-lock);
 * - esl sends one command per round trip and one TCP write per command: sendBatch() pipelines
 *   several in one write (FreeSWITCH reads and answers a connection's commands one after another).
 *
 * What esl costs per connection that no public API avoids: every FreeSwitchResponse draws a ulid
 * (`__ref`, a class field: the constructor takes only the socket and a logger, FreeSwitchServer builds
 * the same), one crypto.getRandomValues call per character, ~0.1 ms of CPU per connection on the
 * shared VM (127 µs per construction, median of 7 × 3,000, 100-114 µs of it the 16 random draws) —
 * one connection per call in outbound mode. Its parser splits every header line with a regex (the
 * ~150-line connect reply, each plain event) and copies its buffer per chunk and per message.
 */
import { FreeSwitchError, FreeSwitchTimeout, type FreeSwitchResponse, type StringMap } from 'esl';

export type EslCall = FreeSwitchResponse;

/** esl logs every command (including `auth <password>`) at debug/info: keep it quiet. */
export const silentEslLogger = { debug: () => undefined, info: () => undefined, error: () => undefined };

export function describeEslError(e: unknown): string {
  if (e instanceof FreeSwitchTimeout) return `no reply within ${e.timeout} ms`;
  if (e instanceof FreeSwitchError) {
    const reply = typeof e.args.reply === 'string' ? e.args.reply : undefined;
    const when = typeof e.args.when === 'string' ? e.args.when : 'error';
    return reply !== undefined ? `${when}: ${reply}` : when;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The Reply-Text of a rejected command, if the error is one. */
export function replyOf(e: unknown): string | undefined {
  if (e instanceof FreeSwitchError && typeof e.args.reply === 'string') return e.args.reply;
  return undefined;
}

const LINE_BREAK = /[\r\n]/;

/** Raises if a value would break the Event Socket framing (esl writes values verbatim). */
function checkValue(what: string, v: string): void {
  if (LINE_BREAK.test(v)) throw new Error(`${what} contains a line break`);
}

export type Sendmsg = { uuid: string; timeoutMs: number };

export type Command = {
  command: string;
  args: StringMap;
  /** A `-ERR` reply matching this is an answer, not a failure (e.g. `noevents` on a connection that listens to nothing). */
  mayFail?: RegExp;
};

/** The `sendmsg <uuid>` + execute command (event-lock: queued messages run strictly one after another). */
export function executeCommand(uuid: string, app: string, arg: string, eventUuid?: string): Command {
  // one test over the values (the command line's uuid included); which one, only when one has a line break
  if (LINE_BREAK.test(eventUuid === undefined ? uuid + app + arg : uuid + app + arg + eventUuid)) {
    checkValue('the channel uuid', uuid);
    checkValue('header execute-app-name', app);
    checkValue('header execute-app-arg', arg);
    if (eventUuid !== undefined) checkValue('header Event-UUID', eventUuid);
  }
  const args: StringMap = { 'execute-app-name': app, 'execute-app-arg': arg };
  if (eventUuid !== undefined) args['Event-UUID'] = eventUuid;
  args['event-lock'] = 'true';
  args['call-command'] = 'execute';
  return { command: `sendmsg ${uuid}`, args };
}

/** `sendmsg <uuid>` + execute; resolves on the command reply (the app is queued or, in sync mode, done). */
export async function execute(call: EslCall, s: Sendmsg, app: string, arg: string, eventUuid?: string): Promise<void> {
  const c = executeCommand(s.uuid, app, arg, eventUuid);
  await call.send(c.command, c.args, s.timeoutMs);
}

/** The `sendmsg <uuid>` + hangup command with an explicit cause. */
export function hangupCommand(uuid: string, cause: string): Command {
  if (LINE_BREAK.test(uuid + cause)) {
    checkValue('the channel uuid', uuid);
    checkValue('header hangup-cause', cause);
  }
  return { command: `sendmsg ${uuid}`, args: { 'hangup-cause': cause, 'call-command': 'hangup' } };
}

/** `sendmsg <uuid>` + hangup with an explicit cause. */
export async function hangup(call: EslCall, s: Sendmsg, cause: string): Promise<void> {
  const c = hangupCommand(s.uuid, cause);
  await call.send(c.command, c.args, s.timeoutMs);
}

export type Reply = { headers: StringMap; body: unknown };

/** A command as it goes on the wire, as esl's write() formats it: the command line, its headers, a blank line. */
function frame(c: Command): string {
  let text = `${c.command}\n`;
  for (const key in c.args) {
    const value = c.args[key];
    if (value !== undefined) text += `${key}: ${value}\n`;
  }
  return `${text}\n`;
}

/**
 * Pipelining: writes `commands` in ONE TCP write, then waits for their replies, which come in order.
 * Resolves with the replies (headers, body) once all have arrived; rejects (FreeSwitchError, like esl's
 * send) on the first `-ERR` reply — the commands after it may still run — , on the socket closing, or
 * with FreeSwitchTimeout when the replies are not all in within `timeoutMs`.
 *
 * Runs in esl's per-connection queue, so no esl command can interleave its reply with ours.
 * The batch goes through esl's own write() as one text (esl writes `command\n` + headers + `\n`
 * verbatim, so the frames joined, less the last blank line, come out byte for byte as esl would write
 * them one by one): one string, one socket.write and one syscall per batch, with esl's checks (a write
 * on a closed connection rejects; a failing write ends it). esl's write() per command cost a
 * socket.write, a promise and an encode each, and their cork/uncork a writev of many small strings.
 */
export async function sendBatch(call: EslCall, commands: Command[], timeoutMs: number): Promise<Reply[]> {
  if (commands.length === 0) return [];
  let text = '';
  for (const c of commands) text += frame(c);
  // esl's write() appends "\n" after the command line and "\n" after the (here absent) headers
  const command = text.slice(0, -2);
  return call.enqueue(
    () =>
      new Promise<Reply[]>((resolve, reject) => {
        const texts: Reply[] = [];
        const cleanup = (): void => {
          clearTimeout(timer);
          call.removeListener('freeswitch_command_reply', onReply);
          call.removeListener('socket.close', onClose);
          call.removeListener('socket.end', onEnd);
          call.removeListener('socket.error', onEnd);
        };
        const fail = (e: Error): void => {
          cleanup();
          reject(e);
        };
        const onReply = (res: Reply): void => {
          const reply = res.headers['Reply-Text'] ?? '';
          const i = texts.length;
          texts.push(res);
          const c = commands[i] as Command;
          if (reply.startsWith('-') && !(c.mayFail?.test(reply) ?? false)) {
            fail(
              new FreeSwitchError(res as { headers: StringMap; body: string }, {
                when: 'command reply',
                reply,
                command: c.command,
              }),
            );
          } else if (texts.length === commands.length) {
            cleanup();
            resolve(texts);
          }
        };
        const onClose = (): void =>
          fail(new Error(`socket closed after ${texts.length} of ${commands.length} replies`));
        const onEnd = (): void =>
          fail(new Error(`connection ended after ${texts.length} of ${commands.length} replies`));
        call.on('freeswitch_command_reply', onReply);
        call.once('socket.close', onClose);
        call.once('socket.end', onEnd);
        call.once('socket.error', onEnd);
        const timer = setTimeout(
          () => fail(new FreeSwitchTimeout(timeoutMs, `${commands.length} pipelined commands`)),
          timeoutMs,
        );
        call.write(command, {}).catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
      }),
  );
}

/** `exit`: FreeSWITCH answers +OK bye, sends the disconnect notice and closes. */
export async function exit(call: EslCall, timeoutMs: number): Promise<void> {
  await call.send('exit', {}, timeoutMs);
}

/** `api` with an explicit timeout; rejects on a `-ERR` body (esl does) */
export async function api(call: EslCall, command: string, timeoutMs: number): Promise<string> {
  const res = await call.api(command, timeoutMs);
  return res.body;
}

/** `bgapi` with an explicit timeout; rejects when the job's result starts with `-`. */
export async function bgapi(call: EslCall, command: string, timeoutMs: number): Promise<string> {
  const res = await call.bgapi(command, timeoutMs);
  const body = res.body['_body'] ?? '';
  if (body.startsWith('-')) throw new Error(`bgapi ${command.split(' ')[0]} failed: ${body.trim()}`);
  return body;
}
