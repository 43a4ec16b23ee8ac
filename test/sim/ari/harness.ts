/**
 * Test harness: the ARI simulator running the shipped dialplan snippet verbatim, plus the
 * Asterisk adapter connected to it with real ari-client, over loopback only.
 */
import * as fs from 'node:fs';
import pino, { type Logger } from 'pino';
import { AsteriskAdapter, type AsteriskCallReport } from '../../../src/pbx/asterisk/adapter';
import { asteriskConfigSchema, type AsteriskConfig } from '../../../src/pbx/asterisk/config';
import type { GateService } from '../../../src/gate/service';
import { SNIPPET_PATH } from './paths';
import { AriSimulator, type OriginateOptions, type SimOptions } from './server';

export { SNIPPET_PATH };
export const USER = 'callgate';
export const PASS = 's3cret:pa ss';

export function shippedDialplan(): string {
  return fs.readFileSync(SNIPPET_PATH, 'utf8');
}

export async function startSim(extra: Partial<SimOptions> = {}): Promise<AriSimulator> {
  const sim = new AriSimulator({ username: USER, password: PASS, dialplan: [shippedDialplan()], ...extra });
  await sim.start();
  return sim;
}

export function testLogger(): Logger {
  return pino({ level: process.env.CALLGATE_TEST_LOG ?? 'silent' });
}

export function adapterConfig(sim: AriSimulator, over: Partial<AsteriskConfig> = {}): AsteriskConfig {
  return asteriskConfigSchema.parse({
    url: sim.url,
    username: USER,
    password: PASS,
    allowContext: 'callgate-allowed',
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
    requestTimeoutMs: 1000,
    ...over,
  });
}

export type Running = {
  adapter: AsteriskAdapter;
  reports: AsteriskCallReport[];
  stop(): Promise<void>;
};

export async function startAdapter(
  sim: AriSimulator,
  gate: GateService,
  over: Partial<AsteriskConfig> = {},
  logger = testLogger(),
): Promise<Running> {
  const reports: AsteriskCallReport[] = [];
  const adapter = new AsteriskAdapter({
    gate,
    config: adapterConfig(sim, over),
    logger,
    onHandled: (r) => reports.push(r),
  });
  await adapter.start();
  return { adapter, reports, stop: () => adapter.stop() };
}

/** A dialer's call into [callgate-outbound] with a presented caller ID. */
export function dial(sim: AriSimulator, exten: string, o: Partial<OriginateOptions> & { campaign?: string } = {}) {
  return sim.originate({
    exten,
    callerId: { number: '+33123456789', name: 'Agent 7' },
    pres: 'allowed_not_screened',
    ...o,
    vars: { ...(o.campaign ? { CALLGATE_CAMPAIGN: o.campaign } : {}), ...(o.vars ?? {}) },
  });
}

/** Waits until `cond` holds, polling on the event loop (no wall-clock assertion). */
export async function until(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
