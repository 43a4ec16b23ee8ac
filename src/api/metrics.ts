/**
 * Prometheus metrics (GET /metrics, text format 0.0.4), by prom-client, named by Prometheus
 * conventions (units in the name, _total for counters):
 *
 *   callgate_decisions_total{verdict,reason,campaign}   decisions given; reason = the first reason
 *       (FR-RULES order) or "none", so the series add up to the number of decisions
 *   callgate_decision_duration_seconds                  histogram, from decide() to the decision
 *   callgate_pbx_connected{pbx}                         1 when the gate can take calls from that PBX
 *   callgate_pbx_reconnects_total{pbx}                  times the PBX connection came back
 *   callgate_store_errors_total                         store faults (decisions, outcomes, API requests)
 *   callgate_fail_mode_decisions_total                  decisions the fail mode took (GATE-1)
 *   + prom-client's default process and Node metrics (callgate_process_*, callgate_nodejs_*)
 *
 * Nothing here runs on the gate's hot path: the decision counts live in LiveHub's typed arrays and
 * the other values in the gate's and adapters' own counters; they are read when Prometheus scrapes.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { PbxAdapter } from '../gate/service';
import { DURATION_BUCKETS, type LiveHub } from './live';

type Sample = { value: number; labels: Record<string, string>; metricName?: string };

/** A metric whose values are computed at scrape time (prom-client's registerMetric contract). */
function computed(name: string, help: string, type: 'counter' | 'histogram', values: () => Sample[]) {
  return {
    name,
    help,
    type,
    aggregator: 'sum' as const,
    collect: () => undefined,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: values() }),
    reset: () => undefined,
  };
}

export type MetricsDeps = {
  hub: LiveHub;
  gate: { readonly stats: { storeErrors: number; failModeDecisions: number } };
  adapters: readonly PbxAdapter[];
  /** Store faults met by the API's own requests (consents, lookups…). */
  apiStoreErrors: () => number;
};

export function createMetrics(deps: MetricsDeps): Registry {
  const registry = new Registry();
  const { hub } = deps;
  collectDefaultMetrics({ register: registry, prefix: 'callgate_' });

  registry.registerMetric(
    computed(
      'callgate_decisions_total',
      'Decisions given by the gate, by verdict, first reason code (none when allowed without reasons) and campaign (other: not a configured campaign).',
      'counter',
      () => {
        const out: Sample[] = [];
        const R = hub.reasons.length;
        const C = hub.campaigns.length;
        for (let v = 0; v < 2; v++)
          for (let r = 0; r < R; r++)
            for (let c = 0; c < C; c++) {
              const n = hub.decisionCounts[(v * R + r) * C + c]!;
              if (n > 0)
                out.push({
                  value: n,
                  labels: {
                    verdict: v === 1 ? 'block' : 'allow',
                    reason: hub.reasons[r]!,
                    campaign: hub.campaigns[c]!,
                  },
                });
            }
        return out;
      },
    ) as never,
  );

  registry.registerMetric(
    computed(
      'callgate_decision_duration_seconds',
      'Time from a call attempt reaching the gate to its decision, in seconds (fail-mode decisions included).',
      'histogram',
      () => {
        const name = 'callgate_decision_duration_seconds';
        const out: Sample[] = [];
        let cumulative = 0;
        DURATION_BUCKETS.forEach((le, i) => {
          cumulative += hub.durationBuckets[i]!;
          out.push({ metricName: `${name}_bucket`, labels: { le: String(le) }, value: cumulative });
        });
        cumulative += hub.durationBuckets[DURATION_BUCKETS.length]!;
        out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: cumulative });
        out.push({ metricName: `${name}_sum`, labels: {}, value: hub.durationSumNs / 1e9 });
        out.push({ metricName: `${name}_count`, labels: {}, value: hub.durationCount });
        return out;
      },
    ) as never,
  );

  const status = (a: PbxAdapter) => a.status?.() ?? { connected: false, reconnects: 0 };
  new Gauge({
    name: 'callgate_pbx_connected',
    help: 'Whether the gate can take calls from each configured PBX right now (1) or not (0).',
    labelNames: ['pbx'],
    registers: [registry],
    collect() {
      for (const a of deps.adapters) this.set({ pbx: a.name }, status(a).connected ? 1 : 0);
    },
  });
  new Counter({
    name: 'callgate_pbx_reconnects_total',
    help: 'Times the connection to each configured PBX came back after it was lost.',
    labelNames: ['pbx'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of deps.adapters) this.inc({ pbx: a.name }, status(a).reconnects);
    },
  });
  new Counter({
    name: 'callgate_store_errors_total',
    help: 'Store faults: reads and writes of decisions, outcomes and admin API requests that failed.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.gate.stats.storeErrors + deps.apiStoreErrors());
    },
  });
  new Counter({
    name: 'callgate_fail_mode_decisions_total',
    help: 'Decisions taken by the fail mode (policy.failMode, GATE-1) because the gate could not decide in time.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(deps.gate.stats.failModeDecisions);
    },
  });
  return registry;
}
