/** Placeholder until the Freeswitch adapter lands: same signature the composition root calls. */
import type { Logger } from 'pino';
import type { GateService, PbxAdapter } from '../../gate/service';
import type { FreeswitchConfig } from './config';

export type FreeswitchAdapterDeps = { gate: GateService; config: FreeswitchConfig; logger: Logger };

export function createFreeswitchAdapter(_deps: FreeswitchAdapterDeps): PbxAdapter {
  throw new Error('the freeswitch adapter is not implemented yet');
}
