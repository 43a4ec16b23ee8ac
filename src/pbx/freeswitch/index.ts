/**
 * FreeSWITCH adapter: the outbound-socket server that gates each call (server.ts) and, when
 * configured, the inbound client that follows outcomes (outcomes.ts). See dialplan/freeswitch/.
 */
import type { Logger } from 'pino';
import type { GateService, PbxAdapter } from '../../gate/service';
import type { FreeswitchConfig } from './config';
import { OutcomeFollower } from './outcomes';
import { OutboundServer, type CallTiming } from './server';

export type FreeswitchAdapterDeps = {
  gate: GateService;
  config: FreeswitchConfig;
  logger: Logger;
  onCall?: (t: CallTiming) => void;
};

export type FreeswitchAdapter = PbxAdapter & {
  readonly server: OutboundServer;
  readonly outcomes: OutcomeFollower | undefined;
};

export function createFreeswitchAdapter(deps: FreeswitchAdapterDeps): FreeswitchAdapter {
  const server = new OutboundServer(deps);
  const outcomes =
    deps.config.inbound !== undefined
      ? new OutcomeFollower({
          gate: deps.gate,
          inbound: deps.config.inbound,
          commandTimeoutMs: deps.config.commandTimeoutMs,
          logger: deps.logger,
        })
      : undefined;
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
  };
}

export { freeswitchConfigSchema, type FreeswitchConfig } from './config';
export { attemptFromChannelData, hidesNumber } from './channel';
export { planFor } from './actions';
export { outcomeFromHangup, OutcomeFollower, type InboundState } from './outcomes';
export { OutboundServer, type CallTiming } from './server';
