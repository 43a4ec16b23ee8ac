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

// ------------------------------------------------------------------------------------------ text by hand

/*
 * The JSON text of decisionToJson, built by hand on the hot paths (the audit text of every decision,
 * the API's answer to every POST /v1/attempts): JSON.stringify of the ~2 KB object costs several
 * times what concatenating its fragments does, and the fragments that repeat from one decision to
 * the next (the campaign, the caller ID, each rule's outcome) are remembered. Every builder returns
 * undefined for a decision of another shape than core's (a field of an unexpected type, which
 * JSON.stringify would spell or drop in its own way): the caller then falls back to JSON.stringify.
 * test/property/audit-text.test.ts holds them to JSON.stringify's bytes, escaping included.
 */

const q = JSON.stringify as (s: string) => string;
const isStr = (v: unknown): v is string => typeof v === 'string';

/** JSON of a string array, or undefined when it is not a plain array of strings. */
export function stringsJson(a: unknown): string | undefined {
  if (!Array.isArray(a)) return undefined;
  let out = '[';
  for (let i = 0; i < a.length; i++) {
    const v: unknown = a[i];
    if (!isStr(v)) return undefined;
    out += i === 0 ? q(v) : `,${q(v)}`;
  }
  return `${out}]`;
}

/** The last campaign and caller ID fragments, with what they were made from (decisions of a gate repeat them). */
let lastCampaign: { id: unknown; professional: unknown; dialing: unknown; purpose: unknown; json: string } | undefined;
let lastCallerId: { number: unknown; presentation: unknown; e164: unknown; json: string } | undefined;

function campaignJson(c: Decision['campaign']): string | undefined {
  const l = lastCampaign;
  if (l && l.id === c.id && l.professional === c.professional && l.dialing === c.dialing && l.purpose === c.purpose)
    return l.json;
  if (!isStr(c.id) || !isStr(c.professional) || !isStr(c.dialing) || !isStr(c.purpose)) return undefined;
  const json = `{"id":${q(c.id)},"professional":${q(c.professional)},"dialing":${q(c.dialing)},"purpose":${q(c.purpose)}}`;
  lastCampaign = { id: c.id, professional: c.professional, dialing: c.dialing, purpose: c.purpose, json };
  return json;
}

function callerIdJson(c: Decision['callerId']): string | undefined {
  const l = lastCallerId;
  if (l && l.number === c.number && l.presentation === c.presentation && l.e164 === c.e164) return l.json;
  if (!isStr(c.number) || !isStr(c.presentation) || !(c.e164 === undefined || isStr(c.e164))) return undefined;
  const json = `{"number":${q(c.number)},"presentation":${q(c.presentation)}${c.e164 === undefined ? '' : `,"e164":${q(c.e164)}`}}`;
  lastCallerId = { number: c.number, presentation: c.presentation, e164: c.e164, json };
  return json;
}

/**
 * The text of decisionToJson(d) from its first field to `campaign` included, without the closing
 * brace: `{"id":…,"campaign":{…}` (the fields that follow, `rules` and `source`, are spelled by the
 * caller: core's form, or the audit text's short rules). Undefined for a decision of another shape.
 */
export function decisionHeadJson(d: Decision): string | undefined {
  if (
    !isStr(d.id) ||
    !isStr(d.verdict) ||
    !isStr(d.regime) ||
    !isStr(d.basis) ||
    typeof d.monitorOnly !== 'boolean' ||
    !(d.at instanceof Date) ||
    !Array.isArray(d.reasons) ||
    typeof d.campaign !== 'object' ||
    d.campaign === null ||
    typeof d.callerId !== 'object' ||
    d.callerId === null
  )
    return undefined;
  let reasons = '[';
  for (let i = 0; i < d.reasons.length; i++) {
    const r = d.reasons[i]!;
    if (!isStr(r.code) || !isStr(r.rule) || !isStr(r.message) || !isStr(r.legalRef)) return undefined;
    let one = `{"code":${q(r.code)},"rule":${q(r.rule)},"message":${q(r.message)},"legalRef":${q(r.legalRef)}`;
    if (r.retryAfter !== undefined) {
      if (!(r.retryAfter instanceof Date)) return undefined;
      one += `,"retryAfter":"${r.retryAfter.toISOString()}"`;
    }
    if (r.detail !== undefined) {
      if (!isStr(r.detail)) return undefined;
      one += `,"detail":${q(r.detail)}`;
    }
    reasons += i === 0 ? `${one}}` : `,${one}}`;
  }
  reasons += ']';
  const tags = stringsJson(d.tags);
  if (tags === undefined) return undefined;
  let callee = '';
  const c = d.callee;
  if (c) {
    const zones = stringsJson(c.timeZones);
    if (
      zones === undefined ||
      !isStr(c.e164) ||
      !isStr(c.territory) ||
      !isStr(c.timeZone) ||
      !isStr(c.localTime) ||
      !isStr(c.zoneSource)
    )
      return undefined;
    callee = `,"callee":{"e164":${q(c.e164)},"territory":${q(c.territory)},"timeZone":${q(c.timeZone)},"timeZones":${zones},"localTime":${q(c.localTime)},"zoneSource":${q(c.zoneSource)}}`;
  }
  const callerId = callerIdJson(d.callerId);
  const campaign = campaignJson(d.campaign);
  if (callerId === undefined || campaign === undefined) return undefined;
  return `{"id":${q(d.id)},"verdict":${q(d.verdict)},"at":"${isoString(d.at)}","regime":${q(d.regime)},"basis":${q(d.basis)},"monitorOnly":${d.monitorOnly},"reasons":${reasons},"tags":${tags}${callee},"callerId":${callerId},"campaign":${campaign}`;
}

/** The text of decisionToJson(d).source, or undefined for a source of another shape. */
export function sourceJson(s: Decision['source']): string | undefined {
  if (typeof s !== 'object' || s === null) return undefined;
  const { pbx, channelId } = s;
  if (!isStr(pbx) || !(channelId === undefined || isStr(channelId))) return undefined;
  return channelId === undefined ? `{"pbx":${q(pbx)}}` : `{"pbx":${q(pbx)},"channelId":${q(channelId)}}`;
}

/**
 * Each rule outcome's fragment as last spelled at its place in the list (a gate's decisions list
 * the same rules in the same order, mostly with the same outcomes and notes). Bounded: places past
 * RULE_MEMO are spelled every time.
 */
const RULE_MEMO = 64;
const lastRules: { rule: unknown; outcome: unknown; note: unknown; json: string }[] = [];

/** The text of decisionToJson(d).rules, or undefined for rules of another shape. */
function rulesJson(rules: unknown): string | undefined {
  if (!Array.isArray(rules)) return undefined;
  let out = '[';
  for (let i = 0; i < rules.length; i++) {
    const r: unknown = rules[i];
    if (typeof r !== 'object' || r === null) return undefined;
    const { rule, outcome, note } = r as { rule: unknown; outcome: unknown; note: unknown };
    let m = lastRules[i];
    if (m === undefined || m.rule !== rule || m.outcome !== outcome || m.note !== note) {
      if (!isStr(rule) || !isStr(outcome) || !(note === undefined || isStr(note))) return undefined;
      const json =
        note === undefined
          ? `{"rule":${q(rule)},"outcome":${q(outcome)}}`
          : `{"rule":${q(rule)},"outcome":${q(outcome)},"note":${q(note)}}`;
      m = { rule, outcome, note, json };
      if (i < RULE_MEMO) lastRules[i] = m;
    }
    out += i === 0 ? m.json : `,${m.json}`;
  }
  return `${out}]`;
}

/**
 * JSON.stringify(decisionToJson(d)), byte for byte, built by hand; with `clock`, the text of
 * `{ ...decisionToJson(d), clock }` (how `callgate check --json` and the API tell which clock chose
 * the instant). Throws what decisionToJson throws (an invalid instant).
 */
export function decisionJsonText(d: Decision, clock?: string): string {
  const head = decisionHeadJson(d);
  const rules = head === undefined ? undefined : rulesJson(d.rules);
  const source = rules === undefined ? undefined : sourceJson(d.source);
  if (source === undefined)
    return JSON.stringify(clock === undefined ? decisionToJson(d) : { ...decisionToJson(d), clock });
  return clock === undefined
    ? `${head!},"rules":${rules!},"source":${source}}`
    : `${head!},"rules":${rules!},"source":${source},"clock":${q(clock)}}`;
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
