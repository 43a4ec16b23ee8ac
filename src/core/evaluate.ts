/**
 * evaluate(attempt, facts, context) → Decision: every rule of docs/FR-RULES.md on one attempt.
 *
 * Order of judgement (each rule family cites its legal source in src/core/rules/):
 *   SCOPE-1 emergency → allow, nothing else can block (rules/scope.ts)
 *   SCOPE-3 invalid destination → block, caller-ID rules still checked
 *   SCOPE-2 not consumer prospecting → only caller-ID rules (tag 'not_prospecting')
 *   CID-1..6 (rules/caller-id.ts) — every gated call
 *   SEC-1..3, CONS-1..6 or OPP-1..2 (regime from regime.ts), DNC-1/REF-1, TIME-1..4, FREQ-1, AUTO-1 — consumer prospecting
 *   SIL-2 tag — every non-emergency call
 * Every failed rule is listed in `reasons` (not only the first); `rules` lists each rule with pass/fail/skip/exempt.
 * Monitor mode (policy.monitorOnly): verdict 'allow', reasons kept, tags 'monitor' and 'would_block:<code>'.
 *
 * Total: bad input yields a decision, never an exception (an unreadable attempt instant blocks with
 * gate_unavailable whatever the fail mode: the gate cannot judge a call it cannot place in time).
 * Pure: no clock, no I/O; independent of the host time zone.
 */
import { localTimeIso } from './calling-time';
import type { Place } from './holidays';
import { type NumberInfo, normalizeNumber } from './numbers';
import { locatePostalCode, locateTimeZone, TERRITORY_ZONE } from './postal';
import { regimeAt } from './regime';
import { checkAbandonRate } from './rules/abandon';
import { isJudgeableInstant, MAX_YEAR, MIN_YEAR } from './instant';
import { checkCallerId } from './rules/caller-id';
import { checkDnc } from './rules/dnc';
import { checkFrequency } from './rules/frequency';
import { checkLegalBasis } from './rules/legal-basis';
import { type Acc, exempt, fail, newAcc, pass, skip, tag } from './rules/result';
import { checkRobocall } from './rules/robocall';
import { isConsumerProspecting, isEmergency } from './rules/scope';
import { checkSector } from './rules/sector';
import { checkTime } from './rules/time';
import {
  type CallAttempt,
  type Callee,
  type Campaign,
  DEFAULT_POLICY,
  type Decision,
  type Facts,
  type LegalBasis,
  type Policy,
  type Professional,
  type Regime,
  RULE_IDS,
  type RuleId,
} from './types';
import { quoteValue } from './quote';

export type EvaluationContext = {
  decisionId: string;
  /** Already resolved by the gate (the configured default campaign when the attempt has none). */
  campaign: Campaign;
  /** False when the attempt named no campaign or an unknown one (tag 'campaign:default' / 'campaign:unknown'). */
  campaignKnown: boolean;
  /** Undefined → callerIds treated as not declared. */
  professional?: Professional;
  policy: Policy;
};

export const EMPTY_FACTS: Facts = Object.freeze({
  consents: Object.freeze([]) as unknown as Facts['consents'],
  contracts: Object.freeze([]) as unknown as Facts['contracts'],
  dnc: Object.freeze([]) as unknown as Facts['dnc'],
  refusals: Object.freeze([]) as unknown as Facts['refusals'],
  opposition: Object.freeze({ listed: false }),
  recentAttempts: Object.freeze([]) as unknown as Facts['recentAttempts'],
}) as Facts;

export type ZoneSource = 'number' | 'postal-code' | 'contact-zone';
export type Located =
  { ok: true; number: NumberInfo; places: Place[]; zoneSource: ZoneSource } | { ok: false; error: string };

/** Places (one per candidate zone). Each lists first the territories whose zone it is, so 'by-location' holidays
 * judge Indian/Reunion as RE and Indian/Mayotte as YT for an ambiguous 09478 number. */
function placesOf(
  timeZones: readonly string[],
  territories: readonly string[],
  alsaceMoselle: boolean | 'unknown',
): Place[] {
  const places: Place[] = [];
  for (const timeZone of timeZones) {
    const own = territories.filter((t) => TERRITORY_ZONE[t] === timeZone);
    const ordered =
      own.length === 0 || own[0] === territories[0]
        ? [...territories]
        : [...own, ...territories.filter((t) => !own.includes(t))];
    places.push({ timeZone, territories: ordered, alsaceMoselle });
  }
  return places;
}

/**
 * normalizeNumber is pure and costs ~7 µs (libphonenumber 'max' metadata); the gate normalizes each destination
 * twice (locateCallee, then evaluate) and caller IDs repeat on every call. A bounded cache of recent results
 * (cleared when full) keeps evaluate() cheap. Cached NumberInfo objects are shared: treat them as read-only.
 */
const NORMALIZE_CACHE_SIZE = 4096;
const normalized = new Map<string, ReturnType<typeof normalizeNumber>>();

export function normalizeCached(raw: string): ReturnType<typeof normalizeNumber> {
  let r = normalized.get(raw);
  if (r === undefined) {
    r = normalizeNumber(raw);
    if (normalized.size >= NORMALIZE_CACHE_SIZE) normalized.clear();
    normalized.set(raw, r);
  }
  return r;
}

function locate(attempt: CallAttempt): Located & { ignored?: string } {
  const to = attempt?.to;
  if (typeof to !== 'string') return { ok: false, error: 'the destination is missing (not a string)' };
  const parsed = normalizeCached(to);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const number = parsed.value;
  const contact = attempt.contact;
  let ignored: string | undefined;
  if (contact && typeof contact.postalCode === 'string' && contact.postalCode.trim() !== '') {
    const r = locatePostalCode(contact.postalCode);
    if (r.ok) {
      return {
        ok: true,
        number,
        places: placesOf(r.value.timeZones, r.value.territories, r.value.alsaceMoselle),
        zoneSource: 'postal-code',
      };
    }
    ignored = `postal code ignored: ${r.error}`;
  }
  if (contact && typeof contact.timeZone === 'string' && contact.timeZone.trim() !== '') {
    const r = locateTimeZone(contact.timeZone);
    if (r.ok) {
      return {
        ok: true,
        number,
        places: placesOf(r.value.timeZones, r.value.territories, r.value.alsaceMoselle),
        zoneSource: 'contact-zone',
        ignored,
      };
    }
    ignored = (ignored ? ignored + '; ' : '') + `time zone ignored: ${r.error}`;
  }
  if (number.timeZones.length === 0) return { ok: false, error: `no time zone is known for ${number.e164}` };
  return {
    ok: true,
    number,
    places: placesOf(number.timeZones, number.territories, number.alsaceMoselle),
    zoneSource: 'number',
    ignored,
  };
}

/** Where the callee is: normalization + postal code / contact zone override (section 7). */
export function locateCallee(
  attempt: CallAttempt,
): { ok: true; number: NumberInfo; places: Place[]; zoneSource: ZoneSource } | { ok: false; error: string } {
  const r = locate(attempt);
  if (!r.ok) return r;
  return { ok: true, number: r.number, places: r.places, zoneSource: r.zoneSource };
}

function calleeOf(loc: Located, at: Date): Callee | undefined {
  if (!loc.ok) return undefined;
  const timeZones = loc.places.map((p) => p.timeZone);
  const timeZone = timeZones[0];
  let localTime: string;
  try {
    localTime = localTimeIso(at, timeZone);
  } catch {
    localTime = at.toISOString();
  }
  const territory =
    loc.zoneSource === 'number' ? loc.number.territory : (loc.places[0]?.territories[0] ?? loc.number.territory);
  return { e164: loc.number.e164, territory, timeZone, timeZones, localTime, zoneSource: loc.zoneSource };
}

function campaignTag(acc: Acc, attempt: CallAttempt, ctx: EvaluationContext): void {
  if (!ctx.campaignKnown) tag(acc, attempt?.campaignId === undefined ? 'campaign:default' : 'campaign:unknown');
}

/** Not judged per attempt by the core: FREQ-2/3 and SIL-1 are how the store counts, GATE-1 is the fail mode. */
const NOT_EVALUATED: ReadonlySet<RuleId> = new Set<RuleId>(['FREQ-2', 'FREQ-3', 'SIL-1', 'GATE-1']);
const ALL_BUT = (done: RuleId): RuleId[] => RULE_IDS.filter((r) => r !== done && !NOT_EVALUATED.has(r));

/** Rules the core evaluates; FREQ-2/3 and SIL-1 are applied by the store's count (see rules/frequency.ts). */
const CONSUMER_RULES: readonly RuleId[] = [
  'SEC-1',
  'SEC-2',
  'SEC-3',
  'CONS-1',
  'CONS-2',
  'CONS-3',
  'CONS-4',
  'CONS-5',
  'CONS-6',
  'OPP-1',
  'OPP-2',
  'DNC-1',
  'REF-1',
  'TIME-1',
  'TIME-2',
  'TIME-3',
  'TIME-4',
  'FREQ-1',
  'AUTO-1',
];

function finish(
  acc: Acc,
  attempt: CallAttempt,
  ctx: EvaluationContext,
  at: Date,
  regime: Regime,
  basis: LegalBasis,
  callee: Callee | undefined,
  callerE164: string | undefined,
): Decision {
  const monitorOnly = ctx.policy.monitorOnly === true;
  let verdict: Decision['verdict'] = acc.reasons.length === 0 ? 'allow' : 'block';
  if (monitorOnly && verdict === 'block') {
    verdict = 'allow';
    tag(acc, 'monitor');
    for (const r of acc.reasons) tag(acc, `would_block:${r.code}`);
  } else if (monitorOnly) {
    tag(acc, 'monitor');
  }
  const c = ctx.campaign;
  const cid = attempt?.callerId;
  const callerId: Decision['callerId'] = {
    number: typeof cid?.number === 'string' ? cid.number : '',
    presentation: cid?.presentation === 'restricted' ? 'restricted' : 'allowed',
  };
  if (callerE164 !== undefined) callerId.e164 = callerE164;
  const d: Decision = {
    id: ctx.decisionId,
    verdict,
    reasons: acc.reasons,
    tags: acc.tags,
    regime,
    basis,
    at,
    callerId,
    campaign: { id: c.id, professional: c.professional, dialing: c.dialing, purpose: c.purpose },
    rules: acc.rules,
    monitorOnly,
    source: attempt?.source ?? { pbx: 'api' },
  };
  if (callee) d.callee = callee;
  return d;
}

export function evaluate(attempt: CallAttempt, facts: Facts, ctx: EvaluationContext): Decision {
  const { policy, campaign } = ctx;
  const acc = newAcc();
  const at = attempt?.at;
  const loc = locate(attempt);
  campaignTag(acc, attempt, ctx);

  // SCOPE-1: nothing blocks an emergency call, not even a withheld caller ID or an unreadable instant.
  if (isEmergency(attempt?.to, loc.ok ? loc.number : undefined)) {
    const when = isJudgeableInstant(at) ? at : new Date(0);
    exempt(acc, 'SCOPE-1', 'emergency number: never blocked');
    skip(acc, ALL_BUT('SCOPE-1'), 'emergency number (SCOPE-1)');
    tag(acc, 'emergency');
    const d = finish(acc, attempt, ctx, when, regimeAt(when, policy), 'none', calleeOf(loc, when), undefined);
    return d;
  }
  if (!isJudgeableInstant(at)) {
    const when = new Date(0);
    // A valid Date far outside the years the rules know (a clock or a dialer gone wrong) is no
    // better than none: calendar arithmetic and local times leave the Date range near its ends.
    const given: unknown = at;
    const valid = given instanceof Date && !Number.isNaN(given.getTime());
    fail(acc, 'GATE-1', 'gate_unavailable', {
      message: valid
        ? `the attempt's instant ${(given as Date).toISOString()} is outside the years ${MIN_YEAR}–${MAX_YEAR} callgate judges (attempt.at); the dialer or adapter must send the real time`
        : 'the attempt has no valid instant (attempt.at); the dialer or adapter must send one',
    });
    // The destination is still audited (FR-RULES §9), so that the number's history shows the block;
    // like `at`, its local time is that of the epoch, the fail-mode stand-in for "no instant".
    return finish(acc, attempt, ctx, when, regimeAt(when, policy), 'none', calleeOf(loc, when), undefined);
  }

  const regime = regimeAt(at, policy);
  const f = facts ?? EMPTY_FACTS;
  const prospecting = isConsumerProspecting(campaign, ctx.campaignKnown);

  pass(acc, 'SCOPE-1', 'not an emergency number');
  if (prospecting) pass(acc, 'SCOPE-2', 'consumer prospecting');
  else {
    exempt(
      acc,
      'SCOPE-2',
      `purpose '${campaign.purpose}', audience '${campaign.audience}': only caller-ID rules apply`,
    );
    tag(acc, 'not_prospecting');
  }
  if (loc.ok) {
    pass(acc, 'SCOPE-3');
    if (loc.ignored) tag(acc, 'contact_location_ignored');
  } else {
    fail(acc, 'SCOPE-3', 'invalid_destination', {
      message: `the destination ${quoteValue(attempt?.to ?? '')} is not a valid dialable number (${loc.error}); fix the number in the contact file`,
    });
  }

  const caller = checkCallerId(acc, attempt?.callerId, campaign, ctx.professional, policy, normalizeCached);

  let basis: LegalBasis = 'none';
  if (!prospecting) {
    skip(acc, CONSUMER_RULES, 'not consumer prospecting (SCOPE-2)');
  } else if (!loc.ok) {
    // Without a number there are no facts about the consumer: only the campaign-level sector bans are judged.
    checkSector(acc, at, f.contracts, campaign);
    skip(acc, CONSUMER_RULES.slice(3), 'destination invalid (SCOPE-3): no consumer to look up');
  } else {
    checkSector(acc, at, f.contracts, campaign);
    const legal = checkLegalBasis(acc, regime, at, f, campaign, policy);
    basis = legal.basis;
    checkDnc(acc, regime, at, f, campaign, policy);
    checkTime(acc, at, loc.places, legal.validConsents, policy);
    checkFrequency(acc, at, f, policy);
    checkRobocall(acc, legal.validConsents, campaign, policy);
  }
  checkAbandonRate(acc, f, policy);
  return finish(acc, attempt, ctx, at, regime, basis, calleeOf(loc, at), caller?.e164);
}

/**
 * The fail-mode decision (GATE-1): closed → block gate_unavailable; open → allow with tag 'gate_unavailable'.
 * Emergency numbers are allowed in both modes (SCOPE-1).
 *
 * The one builder of fail-mode decisions, for the gate and for every adapter's backstop: it must answer
 * when everything else has failed, so it never throws, whatever it is given. It first copies what it
 * reads of the attempt and the context into plain values of the expected types (a field that is
 * missing, of the wrong type, or whose getter throws counts as absent), and the steps that call into
 * libraries (number and postal-code lookup) are guarded: at worst the decision is a block without a
 * located callee, which is what GATE-1 asks for.
 */
export function failModeDecision(attempt: CallAttempt, ctx: EvaluationContext, why: string): Decision {
  const a = plainAttempt(attempt);
  const c = plainContext(ctx);
  const reason = plainText(why);
  const acc = newAcc();
  const at = isJudgeableInstant(a.at) ? a.at : new Date(0);
  let loc: ReturnType<typeof locate>;
  try {
    loc = locate(a);
  } catch {
    loc = { ok: false, error: 'the destination could not be read' };
  }
  campaignTag(acc, a, c);
  const emergency = isEmergency(a.to, loc.ok ? loc.number : undefined);
  if (emergency) {
    exempt(acc, 'SCOPE-1', 'emergency number: never blocked');
    exempt(acc, 'GATE-1', `gate unavailable (${reason}); emergency call let through`);
    tag(acc, 'emergency');
    tag(acc, 'gate_unavailable');
  } else if (c.policy.failMode === 'open') {
    pass(acc, 'GATE-1', `gate unavailable (${reason}); failMode open lets the call through unchecked`);
    tag(acc, 'gate_unavailable');
  } else {
    fail(acc, 'GATE-1', 'gate_unavailable', {
      message: `the gate could not decide (${reason}) and fails closed (failMode: closed); fix the cause or set failMode: open`,
    });
  }
  return finish(acc, a, c, at, regimeAt(at, c.policy), 'none', calleeOf(loc, at), undefined);
}

/** Reads one property; a getter that throws, or a value that is not an object, reads as undefined. */
function field(o: unknown, key: string): unknown {
  if ((typeof o !== 'object' && typeof o !== 'function') || o === null) return undefined;
  try {
    return (o as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function plainText(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return typeof v === 'symbol' ? v.toString() : String(v);
  } catch {
    return 'unreadable reason';
  }
}

/** A copy of a Date (a fresh one, so a later change to the caller's object cannot alter the decision); anything else → an invalid date. */
function dateOf(v: unknown): Date {
  try {
    return v instanceof Date ? new Date(Date.prototype.getTime.call(v)) : new Date(NaN);
  } catch {
    return new Date(NaN);
  }
}

/** The attempt as plain values of the expected types (what failModeDecision reads of it, nothing else). */
function plainAttempt(attempt: unknown): CallAttempt {
  const cid = field(attempt, 'callerId');
  const contact = field(attempt, 'contact');
  const source = field(attempt, 'source');
  const pbx = text(field(source, 'pbx'));
  const channelId = text(field(source, 'channelId'));
  const atRaw = field(attempt, 'at');
  const a: CallAttempt = {
    to: text(field(attempt, 'to')) as string, // undefined reads as "no destination", as in evaluate
    callerId: {
      number: text(field(cid, 'number')) ?? '',
      presentation: field(cid, 'presentation') === 'restricted' ? 'restricted' : 'allowed',
    },
    at: dateOf(atRaw),
    source: {
      pbx: pbx === 'asterisk' || pbx === 'freeswitch' || pbx === 'cli' ? pbx : 'api',
      ...(channelId !== undefined ? { channelId } : {}),
    },
  };
  const campaignId = text(field(attempt, 'campaignId'));
  if (campaignId !== undefined) a.campaignId = campaignId;
  const postalCode = text(field(contact, 'postalCode'));
  const timeZone = text(field(contact, 'timeZone'));
  if (postalCode !== undefined || timeZone !== undefined)
    a.contact = {
      ...(postalCode !== undefined ? { postalCode } : {}),
      ...(timeZone !== undefined ? { timeZone } : {}),
    };
  return a;
}

/** The context as plain values: missing or mistyped policy fields take DEFAULT_POLICY's value, an unreadable fail mode is closed. */
function plainContext(ctx: unknown): EvaluationContext {
  const p = field(ctx, 'policy');
  const camp = field(ctx, 'campaign');
  const regime = field(p, 'regime');
  const policy: Policy = {
    ...DEFAULT_POLICY,
    regime: regime === 'consent' || regime === 'opposition' || regime === 'auto' ? regime : DEFAULT_POLICY.regime,
    consentRegimeStart: text(field(p, 'consentRegimeStart')) ?? DEFAULT_POLICY.consentRegimeStart,
    monitorOnly: field(p, 'monitorOnly') === true,
    failMode: field(p, 'failMode') === 'open' ? 'open' : 'closed',
  };
  const campaign: Campaign = {
    id: text(field(camp, 'id')) ?? '',
    professional: text(field(camp, 'professional')) ?? '',
    purpose: (text(field(camp, 'purpose')) ?? 'prospecting') as Campaign['purpose'],
    audience: (text(field(camp, 'audience')) ?? 'unknown') as Campaign['audience'],
    dialing: (text(field(camp, 'dialing')) ?? 'manual') as Campaign['dialing'],
    sector: (text(field(camp, 'sector')) ?? 'other') as Campaign['sector'],
    categories: [],
  };
  return {
    decisionId: text(field(ctx, 'decisionId')) ?? '',
    campaign,
    campaignKnown: field(ctx, 'campaignKnown') === true,
    policy,
  };
}
