/**
 * The Asterisk (ARI) adapter, as the composition root sees it. See adapter.ts for the flow,
 * ari.ts for the ari-client wrapper, and dialplan/asterisk/README.md for the PBX side.
 */
import type { Logger } from 'pino';
import type { GateService, PbxAdapter } from '../../gate/service';
import { AsteriskAdapter, type AsteriskCallReport } from './adapter';
import type { AsteriskConfig } from './config';

export type AsteriskAdapterDeps = {
  gate: GateService;
  config: AsteriskConfig;
  /** gate.deadlineMs (the adapter's backstop is derived from it). */
  deadlineMs: number;
  /** policy.failMode (what the adapter's backstop says it applies). */
  failMode: 'closed' | 'open';
  logger: Logger;
  /** Optional hook called after each call's action was accepted by Asterisk. */
  onHandled?: (r: AsteriskCallReport) => void;
};

export function createAsteriskAdapter(deps: AsteriskAdapterDeps): PbxAdapter {
  return new AsteriskAdapter(deps);
}

export { AsteriskAdapter, type AsteriskCallReport } from './adapter';
export { asteriskConfigSchema, type AsteriskConfig } from './config';
