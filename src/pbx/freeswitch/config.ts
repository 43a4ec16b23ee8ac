/**
 * The `freeswitch:` section of callgate.yaml. Owned by the FreeSWITCH adapter; included by config/schema.ts.
 *
 * The defaults match the shipped dialplan (dialplan/freeswitch/callgate.xml):
 * synchronous `socket 127.0.0.1:8085 full`, a `sched_hangup +3` backstop (callgate_backstop_s).
 *
 * The order of the backstops (issue 12.4): the gate decides within gate.deadlineMs (its fail mode
 * otherwise); the adapter stops waiting BACKSTOP_GRACE_MS later and drops the socket (the dialplan's
 * next action refuses the call). The dialplan's `sched_hangup +N` has one-second resolution: it fires
 * between N − 1 and N seconds after it is set (seen on FreeSWITCH 1.11: `+3` fired 2.0–3.1 s later).
 * So N − 1 s must leave at least DIALPLAN_MARGIN_MS after the adapter's backstop; dialplanBackstopS
 * (the N of the snippet) is checked against gate.deadlineMs when the configuration is read.
 */
import { z } from 'zod';
import { removedKey } from '../../config/removed';

/** The adapter stops waiting for the gate this long after gate.deadlineMs. */
export const BACKSTOP_GRACE_MS = 250;
/** sched_hangup / park_timeout count whole seconds: `+N` may fire N − 1 s after it was set. */
export const DIALPLAN_RESOLUTION_MS = 1000;
/** Margin between the adapter's backstop and the earliest the dialplan's may fire. */
export const DIALPLAN_MARGIN_MS = 1000;

/** callgate_backstop_s of the shipped callgate.xml. */
export const DEFAULT_DIALPLAN_BACKSTOP_S = 3;

/** The smallest `sched_hangup +N` (seconds) that cannot overlap the gate's deadline and backstop. */
export function minDialplanBackstopS(deadlineMs: number): number {
  return Math.ceil((deadlineMs + BACKSTOP_GRACE_MS + DIALPLAN_MARGIN_MS + DIALPLAN_RESOLUTION_MS) / 1000);
}

/** The problem with this pair, or undefined when the dialplan's backstop comes safely after the gate's. */
export function backstopProblem(deadlineMs: number, dialplanBackstopS: number): string | undefined {
  const need = minDialplanBackstopS(deadlineMs);
  if (dialplanBackstopS >= need) return undefined;
  return `the dialplan's backstop (sched_hangup +${dialplanBackstopS}, callgate_backstop_s in callgate.xml) may fire ${dialplanBackstopS - 1} s after it is set (one-second resolution), before the gate has surely released or dropped the call (gate.deadlineMs ${deadlineMs} ms + ${BACKSTOP_GRACE_MS} ms, + ${DIALPLAN_MARGIN_MS} ms of margin): raise callgate_backstop_s in callgate.xml and freeswitch.dialplanBackstopS to at least ${need}, or lower gate.deadlineMs to at most ${(dialplanBackstopS - 1) * 1000 - DIALPLAN_MARGIN_MS - BACKSTOP_GRACE_MS} ms`;
}

const port = z.number().int().min(1).max(65535);

export const freeswitchConfigSchema = z
  .object({
    /** Outbound-socket server the dialplan's `socket` app connects to. Loopback by default. */
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: port.default(8085) })
      .strict()
      .default({ host: '127.0.0.1', port: 8085 }),
    /**
     * How the dialplan runs `socket`: 'sync' (`socket … full`, the shipped default: commands run at once,
     * the deadline is a `sched_hangup` the gate cancels when it releases the call) or 'async'
     * (`socket … async full`: the call is parked, queued commands run on 20 ms park ticks, the deadline
     * is `park_timeout`). Must match callgate.xml.
     */
    mode: z.enum(['sync', 'async']).default('sync'),
    /** Inbound Event Socket connection used to follow call outcomes. Absent = outcomes are not followed. */
    inbound: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(8021),
        password: z.string().min(1).default('ClueCon'),
        /**
         * Reconnect backoff, ms: the first retry after reconnectMinMs, doubling, capped at reconnectMaxMs,
         * each delay drawn between half and all of its value (jitter), forever. Capped at 1000 so that the
         * outcomes are followed again within a second of FreeSWITCH being back.
         */
        reconnectMinMs: z.number().int().positive().max(1000).default(100),
        reconnectMaxMs: z.number().int().positive().max(1000).default(750),
      })
      .strict()
      .refine((c) => c.reconnectMinMs <= c.reconnectMaxMs, {
        message: 'reconnectMinMs must not be above reconnectMaxMs',
        path: ['reconnectMinMs'],
      })
      .optional(),
    /**
     * The gated context of the dialplan (the one that runs the `socket` app): the admin API's
     * POST /v1/originate places its calls as loopback/NUMBER/originateContext, so the gate decides them.
     * Originates need `inbound` (they are sent on an inbound Event Socket connection).
     */
    originateContext: z.string().min(1).default('callgate-outbound'),
    /** Context an allowed call is transferred to (extension = the number). */
    allowContext: z.string().min(1),
    /** Context for blocked calls; absent = hang up with hangupCause. */
    blockContext: z.string().min(1).optional(),
    /** Q.850 cause name for blocked calls; CALL_REJECTED (21) reaches a SIP phone as 603 Decline. */
    hangupCause: z
      .string()
      .regex(/^[A-Z_]+$|^\d{1,3}$/, 'a FreeSWITCH cause name such as CALL_REJECTED, or a Q.850 number')
      .default('CALL_REJECTED'),
    /** Timeout of each Event Socket command, ms (esl defaults to 1 s, 10 s or 9 hours). */
    commandTimeoutMs: z.number().int().positive().default(2000),
    deadlineMs: removedKey(
      'freeswitch.deadlineMs no longer exists: the gate has one deadline, gate.deadlineMs; remove this line',
    ),
    backstopMs: removedKey(
      `freeswitch.backstopMs no longer exists: the adapter drops a call the gate has not answered ${BACKSTOP_GRACE_MS} ms after gate.deadlineMs; remove this line`,
    ),
    /**
     * The N of the dialplan's `sched_hangup +N` (callgate_backstop_s in callgate.xml; park_timeout in
     * the async variant): keep them equal. Checked against gate.deadlineMs (see minDialplanBackstopS).
     */
    dialplanBackstopS: z.number().int().min(2).max(60).default(DEFAULT_DIALPLAN_BACKSTOP_S),
    /** In sync mode, cancel the dialplan's sched_hangup (sched_cancel) before releasing an allowed call. */
    cancelScheduledHangup: z.boolean().default(true),
  })
  .strict();

export type FreeswitchConfig = z.infer<typeof freeswitchConfigSchema>;
export type FreeswitchConfigInput = z.input<typeof freeswitchConfigSchema>;
