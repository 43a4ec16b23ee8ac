/** The gate's clock, injectable (config `clock`) so runs are deterministic. */
export interface Clock {
  now(): Date;
  /** Human description for the start-up log, e.g. 'system' or 'fixed 2026-11-30T10:00:00+01:00'. */
  readonly describe: string;
}

export const systemClock: Clock = { now: () => new Date(), describe: 'system' };

export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()), describe: `fixed ${at.toISOString()}` };
}

/** A clock that runs from `start` as if the gate had been started at that instant. */
export function shiftedClock(start: Date, base: () => number = Date.now): Clock {
  const offset = start.getTime() - base();
  return {
    now: () => new Date(base() + offset),
    describe: `shifted to start at ${start.toISOString()} (offset ${offset} ms)`,
  };
}
