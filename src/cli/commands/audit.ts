/**
 * For the compliance officer (FR-RULES section 9: what every decision records):
 *
 * - `callgate audit export --from ISO --to ISO [--format csv|jsonl]` streams the decisions
 *   recorded in [from, to) to stdout, oldest first, with their reasons, legal references, legal
 *   basis and call outcome — a batch at a time, so millions of rows take constant memory.
 * - `callgate subject export N` prints everything held about one number as one JSON document, for
 *   a consumer's access request (RGPD art. 15): consents with their source, contracts, do-not-call
 *   entries, refusals, attempts, decisions.
 */
import { existsSync } from 'node:fs';
import { decisionToJson } from '../../core/decision-json';
import type { DecisionRow } from '../../gate/store';
import { parseInstant, parseNumber } from '../args';
import { loadCliConfig, withRuntime } from '../context';
import { EXIT_OK, usage } from '../errors';
import { historyToJson } from '../format';
import type { Io } from '../io';

export type AuditExportOptions = { from?: string; to?: string; format?: string; config?: string };

export const AUDIT_CSV_COLUMNS = [
  'decision_id',
  'at',
  'number',
  'professional',
  'campaign',
  'verdict',
  'regime',
  'basis',
  'reasons',
  'legal_refs',
  'rules',
  'tags',
  'monitor_only',
  'pbx',
  'channel_id',
  'answered',
  'dial_status',
  'hangup_cause',
  'duration_ms',
  'ended_at',
] as const;

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
function field(v: string | number | boolean | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(r: DecisionRow): string {
  const d = r.decision;
  const o = r.outcome;
  return (
    [
      r.id,
      r.at.toISOString(),
      r.e164,
      r.professional,
      d.campaign.id,
      r.verdict,
      d.regime,
      d.basis,
      d.reasons.map((x) => x.code).join(';'),
      d.reasons.map((x) => `${x.rule}: ${x.legalRef}`).join(';'),
      d.rules.map((x) => `${x.rule}=${x.outcome}`).join(';'),
      d.tags.join(';'),
      d.monitorOnly,
      d.source.pbx,
      d.source.channelId,
      o?.answered,
      o?.dialStatus,
      o?.hangupCause,
      o?.durationMs,
      o?.endedAt.toISOString(),
    ]
      .map(field)
      .join(',') + '\n'
  );
}

function jsonLine(r: DecisionRow): string {
  return (
    JSON.stringify({
      id: r.id,
      at: r.at.toISOString(),
      ...(r.e164 !== undefined ? { number: r.e164 } : {}),
      professional: r.professional,
      verdict: r.verdict,
      ...(r.outcome ? { outcome: { ...r.outcome, endedAt: r.outcome.endedAt.toISOString() } } : {}),
      decision: decisionToJson(r.decision),
    }) + '\n'
  );
}

export async function auditExport(opts: AuditExportOptions, io: Io): Promise<number> {
  if (opts.from === undefined) throw usage('--from: give the start of the period, e.g. --from 2026-11-01');
  if (opts.to === undefined) throw usage('--to: give the end of the period (excluded), e.g. --to 2026-12-01');
  const from = parseInstant(opts.from, '--from');
  const to = parseInstant(opts.to, '--to');
  if (to.getTime() <= from.getTime())
    throw usage(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
  const format = opts.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl')
    throw usage(`--format: '${format}' is not an export format; use csv or jsonl`);
  const config = loadCliConfig(opts.config);
  const line = format === 'csv' ? csvLine : jsonLine;
  if (format === 'csv') io.out(AUDIT_CSV_COLUMNS.join(',') + '\n');
  // a read-only command must not create a database
  if (config.store.driver === 'sqlite' && !existsSync(config.store.path)) {
    io.err(`callgate: no database at ${config.store.path} yet (store.path): nothing recorded\n`);
    return EXIT_OK;
  }
  return withRuntime(config, async (rt) => {
    let n = 0;
    for await (const batch of rt.store.auditBetween(from, to, 1000)) {
      io.out(batch.map(line).join(''));
      n += batch.length;
    }
    io.err(`callgate: ${n} decision${n === 1 ? '' : 's'} from ${from.toISOString()} to ${to.toISOString()}\n`);
    return EXIT_OK;
  });
}

export type SubjectExportOptions = { config?: string };

export async function subjectExport(number: string, opts: SubjectExportOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const config = loadCliConfig(opts.config);
  const doc = (h: unknown) => {
    io.out(
      JSON.stringify({
        subject: e164,
        generatedAt: new Date().toISOString(),
        note: 'everything callgate holds about this number: consents (with their source), contracts, do-not-call entries, refusals, call attempts and decisions (with their rules, legal references and outcomes)',
        ...(h as object),
      }) + '\n',
    );
    return EXIT_OK;
  };
  if (config.store.driver === 'sqlite' && !existsSync(config.store.path)) {
    io.err(`callgate: no database at ${config.store.path} yet (store.path): nothing recorded\n`);
    return doc({ attempts: [], decisions: [], consents: [], contracts: [], dnc: [], refusals: [] });
  }
  return withRuntime(config, async (rt) => doc(historyToJson(await rt.store.history(e164))));
}
