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
 */
import type { Socket } from 'node:net';
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

/** Raises if a header value would break the Event Socket framing (esl writes values verbatim). */
function checkHeaders(args: StringMap): void {
  for (const [k, v] of Object.entries(args)) {
    if (v !== undefined && /[\r\n]/.test(v)) throw new Error(`header ${k} contains a line break`);
  }
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
  const args: StringMap = { 'execute-app-name': app, 'execute-app-arg': arg };
  if (eventUuid !== undefined) args['Event-UUID'] = eventUuid;
  args['event-lock'] = 'true';
  args['call-command'] = 'execute';
  checkHeaders(args);
  return { command: `sendmsg ${uuid}`, args };
}

/** `sendmsg <uuid>` + execute; resolves on the command reply (the app is queued or, in sync mode, done). */
export async function execute(call: EslCall, s: Sendmsg, app: string, arg: string, eventUuid?: string): Promise<void> {
  const c = executeCommand(s.uuid, app, arg, eventUuid);
  await call.send(c.command, c.args, s.timeoutMs);
}

/** The `sendmsg <uuid>` + hangup command with an explicit cause. */
export function hangupCommand(uuid: string, cause: string): Command {
  return { command: `sendmsg ${uuid}`, args: { 'hangup-cause': cause, 'call-command': 'hangup' } };
}

/** `sendmsg <uuid>` + hangup with an explicit cause. */
export async function hangup(call: EslCall, s: Sendmsg, cause: string): Promise<void> {
  const c = hangupCommand(s.uuid, cause);
  await call.send(c.command, c.args, s.timeoutMs);
}

type CallInternals = { __socket?: Socket };
export type Reply = { headers: StringMap; body: unknown };

/**
 * Pipelining: writes `commands` in ONE TCP write, then waits for their replies, which come in order.
 * Resolves with the replies (headers, body) once all have arrived; rejects (FreeSwitchError, like esl's
 * send) on the first `-ERR` reply — the commands after it may still run — , on the socket closing, or
 * with FreeSwitchTimeout when the replies are not all in within `timeoutMs`.
 *
 * Runs in esl's per-connection queue, so no esl command can interleave its reply with ours.
 * (esl writes each command with its own socket.write, i.e. one syscall and one TCP segment each;
 * on loopback that write is most of the CPU a command costs.)
 */
export async function sendBatch(call: EslCall, commands: Command[], timeoutMs: number): Promise<Reply[]> {
  if (commands.length === 0) return [];
  return call.enqueue(
    () =>
      new Promise<Reply[]>((resolve, reject) => {
        const texts: Reply[] = [];
        let timer: NodeJS.Timeout | undefined;
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
        timer = setTimeout(
          () => fail(new FreeSwitchTimeout(timeoutMs, `${commands.length} pipelined commands`)),
          timeoutMs,
        );
        const socket = (call as unknown as CallInternals).__socket;
        socket?.cork();
        try {
          for (const c of commands)
            call.write(c.command, c.args).catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
        } finally {
          socket?.uncork();
        }
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
