/**
 * One seed for every property test of test/property (fast-check): runs are reproducible, and a
 * failure message carries the seed and the path of the shrunk counter-example (fast-check prints
 * both). Replay with CALLGATE_PROPERTY_SEED=<seed>; explore other inputs with another seed.
 */
import type { Parameters } from 'fast-check';

export const PROPERTY_SEED = Number(process.env.CALLGATE_PROPERTY_SEED ?? 1412);

/** fast-check options: the fixed seed, `numRuns` runs, the seed in the failure message. */
export function runs<T>(numRuns: number): Parameters<T> {
  return { numRuns, seed: PROPERTY_SEED };
}
