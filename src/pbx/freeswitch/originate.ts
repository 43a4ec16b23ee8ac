/**
 * The admin API's originate on FreeSWITCH: `bgapi originate` on a short inbound Event Socket
 * connection of its own (freeswitch.inbound's host, port and password), into the gated dialplan path
 * (the dialplan/freeswitch/README.md gated path; FreeSWITCH mod_commands' originate):
 *
 *   bgapi originate {origination_uuid=U,origination_caller_id_number=N,originate_timeout=T,
 *                    callgate_campaign=C,callgate_postal_code=P}loopback/NUMBER/<originateContext> EXT XML CTX
 *
 * The loopback B leg runs NUMBER in the gated context (the `socket` app: this gate decides the call
 * again and records its attempt) before any trunk leg exists; the originated A leg, whose Unique-ID
 * is U, goes to EXT in context CTX once the callee answers. `bgapi` answers at once with a Job-UUID;
 * the job itself (ringing, answer) goes on inside FreeSWITCH after this connection closes.
 *
 * Its own connection, not the outcome follower's: an originate is rare next to the calls, and this
 * way it never waits behind (or disturbs) the outcome subscription. esl's FreeSwitchResponse is the
 * parser and command layer, as for the outbound server; every step has a timeout.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { FreeSwitchResponse } from 'esl';
import { CallgateError } from '../../errors';
import type { OriginateRequest, OriginateResult } from '../../gate/service';
import type { FreeswitchConfig } from './config';
import { describeEslError, replyOf, silentEslLogger } from './esl';

/** Values put in the {…} block of an originate: no separator, brace, quote or space can break it. */
const SAFE_VALUE = /^[A-Za-z0-9+_.:@#*/-]{1,128}$/;

function channelVariables(req: OriginateRequest, uuid: string): string {
  const vars: [string, string | undefined][] = [
    ['origination_uuid', uuid],
    ['origination_caller_id_number', req.callerId],
    ['originate_timeout', String(req.timeoutSec)],
    ['callgate_campaign', req.campaign],
    ['callgate_postal_code', req.postalCode],
  ];
  return vars
    .filter((kv): kv is [string, string] => kv[1] !== undefined)
    .map(([k, v]) => {
      if (!SAFE_VALUE.test(v))
        throw new CallgateError('CG_ERR_PBX_ORIGINATE', `${k}: value not allowed in an originate`);
      return `${k}=${v}`;
    })
    .join(',');
}

/** The originate command text (exported for tests). */
export function originateCommand(req: OriginateRequest, uuid: string, gatedContext: string): string {
  for (const v of [req.to, gatedContext, req.connect.context, req.connect.extension])
    if (!SAFE_VALUE.test(v))
      throw new CallgateError('CG_ERR_PBX_ORIGINATE', `${JSON.stringify(v)} is not allowed in an originate`);
  return `originate {${channelVariables(req, uuid)}}loopback/${req.to}/${gatedContext} ${req.connect.extension} XML ${req.connect.context}`;
}

export async function originateThroughInbound(
  config: FreeswitchConfig,
  req: OriginateRequest,
): Promise<OriginateResult> {
  const inbound = config.inbound;
  if (!inbound)
    throw new CallgateError(
      'CG_ERR_PBX_ORIGINATE',
      'FreeSWITCH originates need the inbound Event Socket: set freeswitch.inbound (host, port, password) in callgate.yaml',
    );
  const uuid = randomUUID();
  const command = originateCommand(req, uuid, config.originateContext);
  const t = config.commandTimeoutMs;
  const socket = new net.Socket();
  const call = new FreeSwitchResponse(socket, silentEslLogger);
  const where = `${inbound.host}:${inbound.port}`;
  try {
    const connected = new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const authRequest = call.onceAsync('freeswitch_auth_request', t, 'originate: authentication request');
    socket.connect({ host: inbound.host, port: inbound.port });
    await withTimeout(connected, t, `connecting to ${where}`);
    await authRequest;
    try {
      await call.auth(inbound.password);
    } catch (e) {
      throw new Error(
        `FreeSWITCH at ${where} refused the Event Socket password (${replyOf(e) ?? describeEslError(e)})`,
        {
          cause: e,
        },
      );
    }
    await call.send(`bgapi ${command}`, { 'Job-UUID': randomUUID() }, t);
    return { channelId: uuid };
  } catch (e) {
    if (e instanceof CallgateError) throw e;
    throw new CallgateError(
      'CG_ERR_PBX_ORIGINATE',
      `FreeSWITCH did not take the originate: ${e instanceof Error && e.message ? e.message : describeEslError(e)}`,
      { cause: e },
    );
  } finally {
    call.end();
    socket.destroy();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}
