/**
 * For the compliance officer (FR-RULES section 9: what every decision records):
 *
 * - `callgate audit export --from ISO --to ISO [--format csv|jsonl]` streams the decisions
 *   recorded in [from, to) to stdout, oldest first, with their reasons, legal references, legal
 *   basis and call outcome — a batch at a time, so millions of rows take constant memory.
 * - `callgate audit verify [--heads] [--against FILE]` checks the audit chains (docs/audit-trail.md).
 * - `callgate subject export N` prints everything held about one number as one JSON document, for
 *   a consumer's access request (RGPD art. 15): consents with their source, contracts, do-not-call
 *   entries, refusals, attempts, decisions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { decisionToJson } from '../../core/decision-json';
import type { DecisionRow } from '../../gate/store';
import { parseInstant, parseNumber } from '../args';
import { loadCliConfig, withRuntime } from '../context';
import { type AnchoredHead, verifyChains } from '../../store/audit-chain';
import { PG_CHAIN_SCHEMA } from '../../store/postgres/migrations';
import { CHAIN_SCHEMA } from '../../store/sqlite/migrations';
import { EXIT_BLOCKED, EXIT_OK, usage } from '../errors';
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

export type AuditVerifyOptions = { config?: string; heads?: boolean; against?: string };

/** An anchored heads file (`audit verify --heads` output saved elsewhere): one JSON head a line. */
function readAnchored(file: string): AnchoredHead[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw usage(
      `--against: cannot read ${file} (${(err as Error).message}); give the file \`audit verify --heads\` wrote`,
    );
  }
  const out: AnchoredHead[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let h: { chain?: unknown; position?: unknown; hash?: unknown };
    try {
      h = JSON.parse(line) as typeof h;
    } catch {
      throw usage(`--against: ${file} line ${i + 1} is not JSON; give the file \`audit verify --heads\` wrote`);
    }
    if (
      typeof h?.chain !== 'string' ||
      !/^[0-9a-f]{32}$/.test(h.chain) ||
      !Number.isSafeInteger(h.position) ||
      (h.position as number) < 0 ||
      typeof h.hash !== 'string' ||
      !/^[0-9a-f]{64}$/.test(h.hash)
    )
      throw usage(
        `--against: ${file} line ${i + 1} is not a chain head ({"chain": 32 hex digits, "position": N, "hash": 64 hex digits})`,
      );
    out.push({ chain: h.chain, position: h.position as number, hash: h.hash });
  }
  return out;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * `callgate audit verify [--heads] [--against FILE]`: checks every audit chain (docs/audit-trail.md)
 * and names, per chain, the first row edited, deleted, inserted or reordered. Streams the rows
 * (constant memory). Exit 0 intact, 1 not, 2 usage or store error. --heads prints each chain's
 * head as one JSON line on stdout (to keep elsewhere); --against compares with such a file.
 */
export async function auditVerify(opts: AuditVerifyOptions, io: Io): Promise<number> {
  const against = opts.against === undefined ? undefined : readAnchored(opts.against);
  const config = loadCliConfig(opts.config);
  if (config.store.driver === 'sqlite' && !existsSync(config.store.path)) {
    io.err(`callgate: no database at ${config.store.path} yet (store.path): nothing recorded, nothing to verify\n`);
    return EXIT_OK;
  }
  return withRuntime(config, async (rt) => {
    const r = await verifyChains(rt.store, { batchSize: 1000, against });
    for (const p of r.problems)
      io.err(
        `callgate: audit chain ${p.chain} position ${p.position}${p.decisionId === undefined ? '' : ` (decision ${p.decisionId})`}: ${p.kind}: ${p.message}\n`,
      );
    if (opts.heads)
      for (const h of r.heads)
        io.out(
          JSON.stringify({
            chain: h.chain,
            position: h.position,
            hash: h.hash,
            anchorPosition: h.anchorPosition,
            updatedAt: new Date(h.updatedAt).toISOString(),
          }) + '\n',
        );
    const schema = rt.store.driver === 'postgres' ? PG_CHAIN_SCHEMA : CHAIN_SCHEMA;
    const parts = [
      plural(r.chains, 'chain'),
      `${plural(r.rows, 'row')} checked`,
      ...(r.unchained > 0 ? [`${plural(r.unchained, 'row')} unchained (written before schema ${schema})`] : []),
      ...(r.anchored ? [`${r.anchored.checked} anchored head${r.anchored.checked === 1 ? '' : 's'} compared`] : []),
      `${(r.ms / 1000).toFixed(1)} s`,
    ];
    const bad = r.problems.length;
    io.err(
      `callgate: audit verify: ${parts.join(', ')}: ${bad === 0 ? 'intact' : `NOT INTACT (${plural(bad, 'chain')} with a problem)`}\n`,
    );
    return bad === 0 ? EXIT_OK : EXIT_BLOCKED;
  });
}
