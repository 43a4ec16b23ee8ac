/**
 * Decisions as plain JSON, for the audit store, the CLI (--json) and the API; and a short human explanation.
 *
 * decisionToJson: Dates → ISO-8601 UTC strings, optional fields omitted when absent, keys in a fixed order
 * (so two equal decisions serialize to the same text). decisionFromJson is its inverse and checks the shape,
 * throwing an Error that names the first bad field (a corrupt audit row is a fault, not a verdict).
 * Every reason keeps its legal reference (FR-RULES.md section 9: decisions are auditable).
 */
import {
  type Callee,
  type Decision,
  type LegalBasis,
  REASON_CODES,
  type Reason,
  RULE_IDS,
  type RuleOutcome,
} from './types';

export type ReasonJson = Omit<Reason, 'retryAfter'> & { retryAfter?: string };
export type DecisionJson = {
  id: string;
  verdict: Decision['verdict'];
  at: string;
  regime: Decision['regime'];
  basis: LegalBasis;
  monitorOnly: boolean;
  reasons: ReasonJson[];
  tags: string[];
  callee?: Callee;
  callerId: Decision['callerId'];
  campaign: Decision['campaign'];
  rules: RuleOutcome[];
  source: Decision['source'];
};

/**
 * d.toISOString(), without V8's printf-style formatting (~0.4 µs) on the hot path: the last
 * instant is remembered (at thousands of decisions per second many share the same millisecond),
 * and so is the last minute's "YYYY-MM-DDTHH:MM:" prefix, to which only the seconds and
 * milliseconds are added (a decision's instant and its log line's time alternate within one
 * minute). Years outside 0000–9999 (a longer form) always go through toISOString. Throws, like
 * toISOString, on an invalid Date.
 */
let lastMs = NaN;
let lastIso = '';
let lastMinute = NaN;
let lastMinutePrefix = '';
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
export function isoString(d: Date): string {
  const t = d.getTime();
  if (t === lastMs) return lastIso;
  const minute = Math.floor(t / 60_000);
  if (minute === lastMinute) {
    const inMinute = t - minute * 60_000;
    const s = Math.floor(inMinute / 1000);
    lastIso = `${lastMinutePrefix}${TWO_DIGITS[s]}.${THREE_DIGITS[inMinute - s * 1000]}Z`;
  } else {
    lastIso = d.toISOString();
    if (lastIso.length === 24) {
      lastMinute = minute;
      lastMinutePrefix = lastIso.slice(0, 17);
    }
  }
  lastMs = t;
  return lastIso;
}

function reasonToJson(r: Reason): ReasonJson {
  const j: ReasonJson = { code: r.code, rule: r.rule, message: r.message, legalRef: r.legalRef };
  if (r.retryAfter !== undefined) j.retryAfter = r.retryAfter.toISOString();
  if (r.detail !== undefined) j.detail = r.detail;
  return j;
}

export function decisionToJson(d: Decision): DecisionJson {
  const j: DecisionJson = {
    id: d.id,
    verdict: d.verdict,
    at: isoString(d.at),
    regime: d.regime,
    basis: d.basis,
    monitorOnly: d.monitorOnly,
    reasons: d.reasons.map(reasonToJson),
    tags: [...d.tags],
  } as DecisionJson;
  if (d.callee) {
    const c = d.callee;
    j.callee = {
      e164: c.e164,
      territory: c.territory,
      timeZone: c.timeZone,
      timeZones: [...c.timeZones],
      localTime: c.localTime,
      zoneSource: c.zoneSource,
    };
  }
  j.callerId = { number: d.callerId.number, presentation: d.callerId.presentation };
  if (d.callerId.e164 !== undefined) j.callerId.e164 = d.callerId.e164;
  j.campaign = {
    id: d.campaign.id,
    professional: d.campaign.professional,
    dialing: d.campaign.dialing,
    purpose: d.campaign.purpose,
  };
  j.rules = d.rules.map((r) =>
    r.note === undefined ? { rule: r.rule, outcome: r.outcome } : { rule: r.rule, outcome: r.outcome, note: r.note },
  );
  j.source =
    d.source.channelId === undefined ? { pbx: d.source.pbx } : { pbx: d.source.pbx, channelId: d.source.channelId };
  return j;
}

// ------------------------------------------------------------------------------------------ parsing

class Shape {
  constructor(private readonly path: string) {}
  fail(what: string): never {
    throw new Error(`decisionFromJson: ${this.path} ${what}`);
  }
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) new Shape(path).fail('must be an object');
  return v as Record<string, unknown>;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string') new Shape(path).fail(`must be a string, got ${JSON.stringify(v)}`);
  return v as string;
}
function optStr(v: unknown, path: string): string | undefined {
  return v === undefined ? undefined : str(v, path);
}
function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
  if (!allowed.includes(v as T)) new Shape(path).fail(`must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}
function date(v: unknown, path: string): Date {
  const d = new Date(str(v, path));
  if (Number.isNaN(d.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(v as string))
    new Shape(path).fail(`must be an ISO-8601 date-time, got ${JSON.stringify(v)}`);
  return d;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) new Shape(path).fail('must be an array');
  return v as unknown[];
}

export function decisionFromJson(input: unknown): Decision {
  const j = obj(input, 'decision');
  const reasons: Reason[] = arr(j.reasons, 'reasons').map((x, i) => {
    const r = obj(x, `reasons[${i}]`);
    const reason: Reason = {
      code: oneOf(r.code, REASON_CODES, `reasons[${i}].code`),
      rule: oneOf(r.rule, RULE_IDS, `reasons[${i}].rule`),
      message: str(r.message, `reasons[${i}].message`),
      legalRef: str(r.legalRef, `reasons[${i}].legalRef`),
    };
    if (r.retryAfter !== undefined) reason.retryAfter = date(r.retryAfter, `reasons[${i}].retryAfter`);
    if (r.detail !== undefined) reason.detail = str(r.detail, `reasons[${i}].detail`);
    return reason;
  });
  const cid = obj(j.callerId, 'callerId');
  const callerId: Decision['callerId'] = {
    number: str(cid.number, 'callerId.number'),
    presentation: oneOf(cid.presentation, ['allowed', 'restricted'] as const, 'callerId.presentation'),
  };
  const cidE164 = optStr(cid.e164, 'callerId.e164');
  if (cidE164 !== undefined) callerId.e164 = cidE164;
  const cp = obj(j.campaign, 'campaign');
  const src = obj(j.source, 'source');
  const source: Decision['source'] = {
    pbx: oneOf(src.pbx, ['asterisk', 'freeswitch', 'api', 'cli', 'bench'] as const, 'source.pbx'),
  };
  const channelId = optStr(src.channelId, 'source.channelId');
  if (channelId !== undefined) source.channelId = channelId;
  const d: Decision = {
    id: str(j.id, 'id'),
    verdict: oneOf(j.verdict, ['allow', 'block'] as const, 'verdict'),
    reasons,
    tags: arr(j.tags, 'tags').map((t, i) => str(t, `tags[${i}]`)),
    regime: oneOf(j.regime, ['opposition', 'consent'] as const, 'regime'),
    basis: oneOf(j.basis, ['consent', 'contract', 'press', 'none'] as const, 'basis'),
    at: date(j.at, 'at'),
    callerId,
    campaign: {
      id: str(cp.id, 'campaign.id'),
      professional: str(cp.professional, 'campaign.professional'),
      dialing: oneOf(cp.dialing, ['manual', 'automated', 'prerecorded'] as const, 'campaign.dialing'),
      purpose: oneOf(
        cp.purpose,
        ['prospecting', 'press', 'service', 'survey', 'charity', 'collection'] as const,
        'campaign.purpose',
      ),
    },
    rules: arr(j.rules, 'rules').map((x, i) => {
      const r = obj(x, `rules[${i}]`);
      const o: RuleOutcome = {
        rule: oneOf(r.rule, RULE_IDS, `rules[${i}].rule`),
        outcome: oneOf(r.outcome, ['pass', 'fail', 'skip', 'exempt'] as const, `rules[${i}].outcome`),
      };
      const note = optStr(r.note, `rules[${i}].note`);
      if (note !== undefined) o.note = note;
      return o;
    }),
    monitorOnly: j.monitorOnly === true,
    source,
  };
  if (typeof j.monitorOnly !== 'boolean') new Shape('monitorOnly').fail('must be a boolean');
  if (j.callee !== undefined) {
    const c = obj(j.callee, 'callee');
    d.callee = {
      e164: str(c.e164, 'callee.e164'),
      territory: str(c.territory, 'callee.territory'),
      timeZone: str(c.timeZone, 'callee.timeZone'),
      timeZones: arr(c.timeZones, 'callee.timeZones').map((z, i) => str(z, `callee.timeZones[${i}]`)),
      localTime: str(c.localTime, 'callee.localTime'),
      zoneSource: str(c.zoneSource, 'callee.zoneSource'),
    };
  }
  return d;
}

// ------------------------------------------------------------------------------------------ explanation

/** Short human text for `callgate check`: verdict, where and when, then one line per reason. */
export function explainDecision(d: Decision): string {
  const lines: string[] = [];
  const to = d.callee ? d.callee.e164 : '(invalid destination)';
  const head =
    d.verdict === 'block'
      ? `BLOCK ${to}: ${d.reasons.length} rule${d.reasons.length === 1 ? '' : 's'} failed`
      : d.reasons.length > 0
        ? `ALLOW ${to} (monitor mode: would block on ${d.reasons.length} rule${d.reasons.length === 1 ? '' : 's'})`
        : `ALLOW ${to}`;
  lines.push(head);
  if (d.callee) {
    const zones = d.callee.timeZones.length > 1 ? ` (also ${d.callee.timeZones.slice(1).join(', ')})` : '';
    lines.push(
      `  local time ${d.callee.localTime} in ${d.callee.timeZone}${zones}, zone from ${d.callee.zoneSource}; territory ${d.callee.territory}`,
    );
  }
  lines.push(`  at ${d.at.toISOString()} UTC; ${d.regime} regime (French law of that day); legal basis ${d.basis}`);
  lines.push(
    `  campaign ${d.campaign.id} of ${d.campaign.professional} (${d.campaign.purpose}, ${d.campaign.dialing} dialing); caller ID ${d.callerId.e164 ?? (d.callerId.number || '(none)')}${d.callerId.presentation === 'restricted' ? ' (restricted)' : ''}`,
  );
  for (const r of d.reasons) {
    const retry =
      r.retryAfter && !r.message.includes(r.retryAfter.toISOString())
        ? ` Retry after ${r.retryAfter.toISOString()}.`
        : '';
    lines.push(`  - ${r.code} [${r.rule}, ${r.legalRef}]: ${r.message}.${retry}`.replace(/\.\./g, '.'));
  }
  if (d.tags.length > 0) lines.push(`  tags: ${d.tags.join(', ')}`);
  return lines.join('\n') + '\n';
}
