/**
 * A small typed layer over the `esl` 11.2.1 package that handles its quirks (PROTOCOLS.md §B.6):
 * - every command gets an explicit timeout (esl: command() 1 s, send() 10 s, api() 9 h, bgapi() none);
 * - `bgapi` results are checked in the BACKGROUND_JOB body (esl resolves on `-ERR …`);
 * - FreeSwitchError has an empty `message`: describeEslError() gives a readable one, without
 *   command arguments (an `auth` command carries the password);
 * - sendmsg is written with our own headers (esl's hangup() defaults to NORMAL_UNSPECIFIED and its
 *   execute() cannot set event-lock).
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

/** Raises if a header value would break the Event Socket framing (esl writes values verbatim). */
function checkHeaders(args: StringMap): void {
  for (const [k, v] of Object.entries(args)) {
    if (v !== undefined && /[\r\n]/.test(v)) throw new Error(`header ${k} contains a line break`);
  }
}

export type Sendmsg = { uuid: string; timeoutMs: number };

/** `sendmsg <uuid>` + execute; resolves on the command reply (the app is queued or, in sync mode, done). */
export async function execute(call: EslCall, s: Sendmsg, app: string, arg: string, eventUuid?: string): Promise<void> {
  const args: StringMap = { 'execute-app-name': app, 'execute-app-arg': arg };
  if (eventUuid !== undefined) args['Event-UUID'] = eventUuid;
  args['event-lock'] = 'true';
  args['call-command'] = 'execute';
  checkHeaders(args);
  await call.send(`sendmsg ${s.uuid}`, args, s.timeoutMs);
}

/** `sendmsg <uuid>` + hangup with an explicit cause. */
export async function hangup(call: EslCall, s: Sendmsg, cause: string): Promise<void> {
  await call.send(`sendmsg ${s.uuid}`, { 'hangup-cause': cause, 'call-command': 'hangup' }, s.timeoutMs);
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
