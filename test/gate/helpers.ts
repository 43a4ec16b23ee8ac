/** Test helpers for the gate: a config, an attempt, a log sink, a Store wrapper whose calls can be held or made to fail. */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { parseConfig, type Config } from '../../src/config';
import type { CallAttempt } from '../../src/core/types';
import { createLogger } from '../../src/gate/logger';
import type { Store } from '../../src/gate/store';

export const CONSUMER = '+33612345678';
/** Monday 30 November 2026, 10:30 in Paris: consent regime, inside calling hours, not a holiday. */
export const AT = new Date('2026-11-30T09:30:00Z');

export function testConfig(extra = ''): Config {
  return parseConfig(
    `
store: {driver: memory}
professionals:
  - id: acme
    callerIds: ['+33162000001']
campaigns:
  - {id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}
clock: {mode: fixed, at: '2026-11-30T09:30:00Z'}
${extra}`,
    'test',
  );
}

/** The store, after giving CONSUMER's consent to acme (every category). */
export async function withConsent<S extends Store>(store: S): Promise<S> {
  await store.addConsent({
    e164: CONSUMER,
    professional: 'acme',
    categories: [],
    collectedAt: new Date('2026-10-01T10:00:00Z'),
  });
  return store;
}

export function attempt(over: Partial<CallAttempt> = {}): CallAttempt {
  return {
    to: '06 12 34 56 78',
    callerId: { number: '+33162000001', presentation: 'allowed' },
    at: AT,
    campaignId: 'acme-energy',
    source: { pbx: 'asterisk', channelId: 'chan-1' },
    ...over,
  };
}

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export function logSink(
  level: Config['log']['level'] = 'info',
  maskNumbers = true,
): { logger: Logger; lines: () => LogLine[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level, maskNumbers }, stream);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogLine),
  };
}

export type Deferred = { promise: Promise<void>; resolve: () => void };
export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

type Hook = (name: keyof Store, args: unknown[]) => Promise<void> | void;

/**
 * A Store that delegates to `inner`, calling `before` first for every method
 * (to hold or fail it) and `after` once the inner call has resolved (to hold
 * its answer back, as a slow store would after writing).
 */
export function wrapStore(
  inner: Store,
  before: Hook,
  after?: (name: keyof Store, result: unknown) => Promise<void> | void,
): Store {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        await before(prop as keyof Store, args);
        const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await after?.(prop as keyof Store, result);
        return result;
      };
    },
  });
}

/**
 * Waits until `cond` holds, yielding to timers and I/O between checks (no timing assertion). What
 * it waits for may be behind an fdatasync on libuv's thread pool, which takes a few hundred ms on
 * a loaded CI machine: the bound is wall-clock (15 s, under jest's 30 s), not a count of turns
 * (1,000 setImmediate turns ran out before one fsync there).
 */
export async function until(cond: () => boolean, what: string, maxMs = 15_000): Promise<void> {
  const end = Date.now() + maxMs;
  for (let i = 0; !cond(); i++) {
    if (Date.now() > end) throw new Error(`never happened within ${maxMs} ms: ${what}`);
    // the first turns on setImmediate (most waits end within a few), then a timer (no busy loop)
    await new Promise((r) => (i < 100 ? setImmediate(r) : setTimeout(r, 2)));
  }
}
