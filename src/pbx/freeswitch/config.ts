/** The `freeswitch:` section of callgate.yaml. Owned by the FreeSWITCH adapter; included by config/schema.ts. */
import { z } from 'zod';

export const freeswitchConfigSchema = z
  .object({
    /** Outbound-socket server the dialplan's `socket` app connects to. Loopback by default. */
    listen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535).default(8085) })
      .strict()
      .default({ host: '127.0.0.1', port: 8085 }),
    /** Inbound Event Socket connection used to follow call outcomes. */
    inbound: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(1).max(65535).default(8021),
        password: z.string().min(1).default('ClueCon'),
      })
      .strict()
      .optional(),
    /** Context an allowed call is transferred to (extension = the number). */
    allowContext: z.string().min(1),
    /** Context for blocked calls; absent = hang up with hangupCause. */
    blockContext: z.string().min(1).optional(),
    hangupCause: z.string().min(1).default('CALL_REJECTED'),
    /** Timeout of each Event Socket command, ms (esl defaults to 1 s or 9 hours). */
    commandTimeoutMs: z.number().int().positive().default(2000),
  })
  .strict();

export type FreeswitchConfig = z.infer<typeof freeswitchConfigSchema>;
