/**
 * FreeSWITCH adapter: the outbound-socket server that gates each call (server.ts) and, when
 * configured, the inbound client that follows outcomes (outcomes.ts). See dialplan/freeswitch/.
 */
import type { Logger } from 'pino';
import type { GateService, OriginateRequest, PbxAdapter, PbxStatus } from '../../gate/service';
import { DEFAULT_DEADLINE_MS } from '../../config/schema';
import type { FreeswitchConfig } from './config';
import { originateThroughInbound } from './originate';
import { OutcomeFollower } from './outcomes';
import { OutboundServer, type CallTiming } from './server';

export type FreeswitchAdapterDeps = {
  gate: GateService;
  config: FreeswitchConfig;
  /** gate.deadlineMs (default 500 ms, the configuration's default). */
  deadlineMs?: number;
  logger: Logger;
  onCall?: (t: CallTiming) => void;
};

export type FreeswitchAdapter = PbxAdapter & {
  readonly server: OutboundServer;
  readonly outcomes: OutcomeFollower | undefined;
};

export function createFreeswitchAdapter(deps: FreeswitchAdapterDeps): FreeswitchAdapter {
  const outcomes =
    deps.config.inbound !== undefined
      ? new OutcomeFollower({
          gate: deps.gate,
          inbound: deps.config.inbound,
          commandTimeoutMs: deps.config.commandTimeoutMs,
          logger: deps.logger,
        })
      : undefined;
  const server = new OutboundServer({
    ...deps,
    deadlineMs: deps.deadlineMs ?? DEFAULT_DEADLINE_MS,
    ...(outcomes ? { allowed: outcomes } : {}),
  });
  return {
    name: 'freeswitch',
    server,
    outcomes,
    async start() {
      await server.start();
      outcomes?.start();
    },
    async stop() {
      await outcomes?.stop();
      await server.stop();
    },
    /** Up when the socket-app listener listens and, if configured, the inbound connection is connected. */
    status(): PbxStatus {
      const listening = server.address() !== undefined;
      return {
        connected: listening && (outcomes === undefined || outcomes.state === 'connected'),
        reconnects: Math.max(0, (outcomes?.stats.connects ?? 0) - 1),
      };
    },
    // originates go out on an inbound Event Socket connection: only with freeswitch.inbound
    ...(deps.config.inbound !== undefined
      ? { originate: (req: OriginateRequest) => originateThroughInbound(deps.config, req) }
      : {}),
  };
}

export {
  freeswitchConfigSchema,
  backstopProblem,
  minDialplanBackstopS,
  BACKSTOP_GRACE_MS,
  type FreeswitchConfig,
} from './config';
export { attemptFromChannelData, hidesNumber } from './channel';
export { planFor } from './actions';
export { outcomeFromHangup, OutcomeFollower, type InboundState } from './outcomes';
export { OutboundServer, type CallTiming } from './server';
