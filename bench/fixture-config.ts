/** The configuration the benchmarks run the real gate with. */
import { parseConfig } from '../src/config';
import type { Config } from '../src/config';

/** Tuesday 1 December 2026, 11:00 Paris: inside the calling windows, consent regime. */
export const BENCH_AT = new Date('2026-12-01T10:00:00Z');

export function benchConfig(dbPath: string, extraYaml = ''): Config {
  return parseConfig(
    `
store: { driver: sqlite, path: ${JSON.stringify(dbPath)} }
professionals:
  - id: acme
    callerIds: ['+33162000001']
campaigns:
  - { id: bench, professional: acme, purpose: prospecting, audience: consumer, dialing: manual, sector: other, categories: [energy-supply] }
defaultCampaign: { id: default, professional: acme, purpose: prospecting, audience: consumer, dialing: manual, sector: other, categories: [] }
clock: { mode: fixed, at: ${BENCH_AT.toISOString()} }
log: { level: info, maskNumbers: true }
${extraYaml}
`,
    'bench',
  );
}
