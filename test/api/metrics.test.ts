/** GET /metrics, read by a real Prometheus text-format parser (issue 13 point 2). */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { PbxAdapter, PbxStatus } from '../../src/gate/service';
import { call, CONSUMER, harness, type Harness } from './helpers';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

type Families = ReturnType<typeof parsePrometheusTextFormat>;
async function scrape(): Promise<Families> {
  const r = await call(h, 'GET', '/metrics');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusTextFormat(r.text);
}
const family = (f: Families, name: string) => {
  const found = f.find((x) => x.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found;
};
const value = (f: Families, name: string, labels: Record<string, string> = {}) =>
  Number(family(f, name).metrics.find((m) => JSON.stringify(m.labels ?? {}) === JSON.stringify(labels))?.value ?? NaN);

/** An adapter whose status the test sets. */
function fakeAdapter(name: 'asterisk' | 'freeswitch', status: PbxStatus): PbxAdapter & { status(): PbxStatus } {
  return { name, start: async () => undefined, stop: async () => undefined, status: () => status };
}

const attempt = (over: Record<string, unknown> = {}) => ({
  to: '06 12 34 56 78',
  callerId: '01 62 00 00 01',
  campaign: 'acme-energy',
  ...over,
});

test('decisions by verdict, first reason and campaign; their durations; the PBX connections; faults', async () => {
  const asterisk = { connected: true, reconnects: 2 };
  h = await harness({
    adapters: [fakeAdapter('asterisk', asterisk), fakeAdapter('freeswitch', { connected: false, reconnects: 0 })],
  });
  await h.rt.store.addConsent({
    e164: CONSUMER,
    professional: 'acme',
    categories: [],
    collectedAt: new Date('2026-10-01'),
  });
  for (let i = 0; i < 3; i++) await call(h, 'POST', '/v1/attempts', attempt());
  await call(h, 'POST', '/v1/check', attempt({ to: '06 98 76 54 32' })); // no_consent
  await call(h, 'POST', '/v1/check', attempt({ to: '06 98 76 54 32', callerId: 'anonymous', campaign: undefined })); // CID-1 first
  let f = await scrape();

  expect(family(f, 'callgate_decisions_total').type).toBe('COUNTER');
  expect(family(f, 'callgate_decisions_total').metrics.map((m) => [m.labels, Number(m.value)])).toEqual([
    [{ verdict: 'allow', reason: 'none', campaign: 'acme-energy' }, 3],
    [{ verdict: 'block', reason: 'caller_id_withheld', campaign: 'default' }, 1],
    [{ verdict: 'block', reason: 'no_consent', campaign: 'acme-energy' }, 1],
  ]);
  const duration = family(f, 'callgate_decision_duration_seconds');
  expect(duration.type).toBe('HISTOGRAM');
  const hist = duration.metrics[0]!;
  expect(Number(hist.count)).toBe(5);
  expect(Number(hist.sum)).toBeGreaterThan(0);
  const buckets = Object.entries(hist.buckets!)
    .map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)] as const)
    .sort((a, b) => a[0] - b[0]);
  expect(buckets.map(([le]) => le)).toEqual([
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    Infinity,
  ]);
  buckets.forEach(([, n], i) => i > 0 && expect(n).toBeGreaterThanOrEqual(buckets[i - 1]![1]));
  expect(buckets[buckets.length - 1]![1]).toBe(5);

  expect(family(f, 'callgate_pbx_connected').type).toBe('GAUGE');
  expect(value(f, 'callgate_pbx_connected', { pbx: 'asterisk' })).toBe(1);
  expect(value(f, 'callgate_pbx_connected', { pbx: 'freeswitch' })).toBe(0);
  expect(value(f, 'callgate_pbx_reconnects_total', { pbx: 'asterisk' })).toBe(2);
  expect(value(f, 'callgate_store_errors_total')).toBe(0);
  expect(value(f, 'callgate_fail_mode_decisions_total')).toBe(0);
  // prom-client's process and Node metrics
  expect(family(f, 'callgate_process_cpu_user_seconds_total').type).toBe('COUNTER');
  expect(family(f, 'callgate_nodejs_eventloop_lag_seconds').type).toBe('GAUGE');

  // a store fault: the gate's fail mode decides (counted twice: a store error, a fail-mode decision),
  // and an API request fails (a store error)
  asterisk.connected = false;
  asterisk.reconnects = 3;
  h.rt.store.decideAndCommit = () => Promise.reject(new Error('disk on fire'));
  const failed = await call(h, 'POST', '/v1/attempts', attempt());
  expect(failed.json.reasons.map((r: { code: string }) => r.code)).toEqual(['gate_unavailable']);
  h.rt.store.addRefusal = () =>
    Promise.reject(new (require('../../src/gate/store').StoreError)('CG_ERR_STORE_FAULT', 'locked')); // eslint-disable-line @typescript-eslint/no-require-imports
  expect((await call(h, 'POST', '/v1/refusals', { number: '0612345678', professional: 'acme' })).status).toBe(503);
  f = await scrape();
  expect(value(f, 'callgate_store_errors_total')).toBe(2);
  expect(value(f, 'callgate_fail_mode_decisions_total')).toBe(1);
  expect(
    value(f, 'callgate_decisions_total', { verdict: 'block', reason: 'gate_unavailable', campaign: 'acme-energy' }),
  ).toBe(1);
  expect(value(f, 'callgate_pbx_connected', { pbx: 'asterisk' })).toBe(0);
  expect(value(f, 'callgate_pbx_reconnects_total', { pbx: 'asterisk' })).toBe(3);
});

test('campaign ids the configuration does not know never become labels', async () => {
  h = await harness();
  // a PBX may send any campaign id: the gate judges them as the default campaign
  for (let i = 0; i < 50; i++)
    await h.rt.gate.decide({
      to: '0612345678',
      callerId: { number: '0162000001', presentation: 'allowed' },
      at: new Date('2026-11-30T09:30:00Z'),
      campaignId: `made-up-${i}`,
      source: { pbx: 'asterisk', channelId: `c-${i}` },
    });
  const f = await scrape();
  const series = family(f, 'callgate_decisions_total').metrics;
  expect(series.map((m) => m.labels)).toEqual([{ verdict: 'block', reason: 'no_consent', campaign: 'default' }]);
  expect(Number(series[0]!.value)).toBe(50);
  expect(h.api.hub.campaigns).toEqual(['acme-energy', 'acme-robot', 'default', 'other']);
});

test('the Grafana dashboard of docs/ queries only metrics /metrics exposes', async () => {
  h = await harness();
  await call(h, 'POST', '/v1/check', attempt());
  const exposed = new Set<string>();
  for (const f of await scrape()) {
    exposed.add(f.name);
    if (f.type === 'HISTOGRAM') for (const s of ['_bucket', '_sum', '_count']) exposed.add(f.name + s);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dashboard = require('../../docs/grafana-dashboard.json') as { panels: { targets: { expr: string }[] }[] };
  const queried = new Set(
    dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/\bcallgate_[a-z0-9_]+/g)].map((m) => m[0])),
    ),
  );
  expect(queried.size).toBeGreaterThanOrEqual(9);
  expect([...queried].filter((m) => !exposed.has(m))).toEqual([]);
});
