/**
 * Checks that a PBX adapter keeps nothing of a finished call: the decisions it received are
 * tracked with WeakRefs (each one the adapter's own copy, so only the adapter can hold it), and
 * after a full garbage collection none may still be reachable.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Decision } from '../../src/core/types';
import type { GateService } from '../../src/gate/service';

/** A full garbage collection, without starting node with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export function trackingGate(gate: GateService): { gate: GateService; seen: WeakRef<Decision>[] } {
  const seen: WeakRef<Decision>[] = [];
  return {
    seen,
    gate: {
      clock: gate.clock,
      recordOutcome: (id, o) => gate.recordOutcome(id, o),
      failModeDecision: (a, why, o) => gate.failModeDecision(a, why, o),
      decide: async (a, o) => {
        const d = structuredClone(await gate.decide(a, o));
        seen.push(new WeakRef(d));
        return d;
      },
    },
  };
}

/** How many of the tracked decisions are still reachable after full collections. */
export async function stillReachable(seen: WeakRef<Decision>[]): Promise<number> {
  const gc = collector();
  for (let i = 0; i < 5 && seen.some((w) => w.deref() !== undefined); i++) {
    await new Promise((res) => setTimeout(res, 20));
    gc();
  }
  return seen.filter((w) => w.deref() !== undefined).length;
}
