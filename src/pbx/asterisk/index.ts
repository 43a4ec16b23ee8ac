/** Placeholder until the Asterisk adapter lands: same signature the composition root calls. */
import type { Logger } from 'pino';
import type { GateService, PbxAdapter } from '../../gate/service';
import type { AsteriskConfig } from './config';

export type AsteriskAdapterDeps = { gate: GateService; config: AsteriskConfig; logger: Logger };

export function createAsteriskAdapter(_deps: AsteriskAdapterDeps): PbxAdapter {
  throw new Error('the asterisk adapter is not implemented yet');
}
