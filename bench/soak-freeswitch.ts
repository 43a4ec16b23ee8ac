/** The FreeSWITCH half of the soak (bench/soak.ts): placeholder until the Event Socket run is written. */
import type { Gate } from '../src/gate/gate';
import type { createLogger } from '../src/gate/logger';
import type { PbxRun } from './soak';

export async function eslStandInRun(_s: number, _rate: number): Promise<PbxRun> {
  throw new Error('the FreeSWITCH soak is not written yet');
}
export async function eslGateRun(
  _gate: Gate,
  _logger: ReturnType<typeof createLogger>,
  _s: number,
  _rate: number,
): Promise<PbxRun> {
  throw new Error('the FreeSWITCH soak is not written yet');
}
