/** The `asterisk:` section of callgate.yaml. Owned by the Asterisk adapter; included by config/schema.ts. */
import { z } from 'zod';
import { removedKey } from '../../config/removed';

export const asteriskConfigSchema = z
  .object({
    /** ARI base URL, e.g. http://127.0.0.1:8088 */
    url: z.string().url(),
    username: z.string().min(1),
    password: z.string().min(1),
    /** Stasis application name, as in Stasis(callgate,…) */
    app: z.string().min(1).default('callgate'),
    /** Context where an allowed call continues (extension = the number, priority 1). */
    allowContext: z.string().min(1),
    /**
     * The gated context of the dialplan (the one that sends calls into Stasis): the admin API's
     * POST /v1/originate places its calls as Local/NUMBER@originateContext/n, so the gate decides them.
     */
    originateContext: z.string().min(1).default('callgate-outbound'),
    /** Context for blocked calls (an announcement to the agent); absent = hang up with hangupReason. */
    blockContext: z.string().min(1).optional(),
    /** ARI hangup reason for blocked calls: rejected = cause 21. */
    hangupReason: z
      .enum([
        'normal',
        'busy',
        'congestion',
        'no_answer',
        'timeout',
        'rejected',
        'unallocated',
        'normal_unspecified',
        'number_incomplete',
        'codec_mismatch',
        'interworking',
        'failure',
        'answered_elsewhere',
      ])
      .default('rejected'),
    /** Per-request timeout for ARI REST calls (ari-client's never settle on a dropped connection), ms. */
    requestTimeoutMs: z.number().int().positive().default(2000),
    /**
     * Reconnect backoff, ms: the first retry after reconnectMinMs, doubling, capped at reconnectMaxMs,
     * each delay drawn between half and all of its value (jitter), forever. Capped at 1000 so that the
     * gate finds an Asterisk that is back within a second.
     */
    reconnectMinMs: z.number().int().positive().max(1000).default(100),
    reconnectMaxMs: z.number().int().positive().max(1000).default(750),
    /** Removed: the one deadline is gate.deadlineMs (the adapter's backstop is derived from it). */
    deadlineMs: removedKey(
      "asterisk.deadlineMs was removed: the deadline is gate.deadlineMs (set it there; the adapter's backstop fires 250 ms after it)",
    ),
    /** Removed: the one fail mode is policy.failMode. */
    failMode: removedKey(
      "asterisk.failMode was removed: the fail mode is policy.failMode (set it there; the adapter's backstop applies it too)",
    ),
    /** At most this many ARI REST requests in flight; keep it under http.conf sessionlimit (default 100). */
    maxConcurrentRequests: z.number().int().positive().default(32),
    /**
     * Transport of the per-call REST requests. direct: Node http on a keep-alive agent, each request
     * built from the operation in the API description ari-client loaded; a timed-out request is
     * aborted. ari-client: its swagger-client/shred stack (more CPU per request; a request cut by a
     * dropped connection is abandoned, never settled).
     */
    rest: z.enum(['direct', 'ari-client']).default('direct'),
    /** WebSocket keep-alive: ping period, ms; no pong by the next ping = reconnect. */
    pingIntervalMs: z.number().int().positive().default(5000),
  })
  .strict()
  .refine((c) => c.reconnectMinMs <= c.reconnectMaxMs, {
    message: 'reconnectMinMs must not be above reconnectMaxMs',
    path: ['reconnectMinMs'],
  });

export type AsteriskConfig = Omit<z.infer<typeof asteriskConfigSchema>, 'deadlineMs' | 'failMode'>;
