/**
 * The `freeswitch:` section of callgate.yaml. Owned by the FreeSWITCH adapter; included by config/schema.ts.
 *
 * The defaults match the shipped dialplan (dialplan/freeswitch/callgate.xml):
 * synchronous `socket 127.0.0.1:8085 full`, a 3 s `sched_hangup` safety net.
 */
import { z } from 'zod';

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
        /** Reconnect backoff bounds, ms (capped exponential, reset after a good connection). */
        reconnectMinMs: z.number().int().positive().default(200),
        reconnectMaxMs: z.number().int().positive().default(10000),
      })
      .strict()
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
    /** Decision deadline passed to the gate, ms; absent = the gate's own configured deadline. */
    deadlineMs: z.number().int().positive().optional(),
    /**
     * If the gate has not answered this long after the socket connected, the adapter drops the socket
     * and the dialplan's next action decides (the shipped one hangs up: fail closed). Must stay below
     * the dialplan's sched_hangup / park_timeout.
     */
    backstopMs: z.number().int().positive().default(2500),
    /** In sync mode, cancel the dialplan's sched_hangup (sched_cancel) before releasing an allowed call. */
    cancelScheduledHangup: z.boolean().default(true),
  })
  .strict();

export type FreeswitchConfig = z.infer<typeof freeswitchConfigSchema>;
export type FreeswitchConfigInput = z.input<typeof freeswitchConfigSchema>;
