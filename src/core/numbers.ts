/**
 * Number normalization: a number as dialled → E.164, French national form,
 * territory, candidate time zones, kind, NPV and Alsace-Moselle.
 *
 * Legal sources (FR-RULES.md):
 * - §1 SCOPE-1: emergency and public-safety numbers 15, 17, 18, 112, 114, 115,
 *   116xxx, 119, 191, 196, 197 are never blocked (list as in FR-RULES §1).
 *   SCOPE-3: a destination that is not a valid dialable number is blocked.
 * - kinds: 01–05 fixed, 06/07 mobile, 09 VoIP, 0800–0805 toll-free, 0806–0809
 *   'other' (ordinary-rate non-geographic, not free), 081x/082x shared cost,
 *   089x premium, other 08 ranges as libphonenumber classifies them.
 * - §2 CID-2..5: the kinds below feed callerid-ranges.ts (arrêté du 5 juillet
 *   2016; ARCEP décision 2022-1583).
 * - §7: overseas numbers have a French national form (0596…) that a naive parse
 *   takes for metropolitan: national prefixes are mapped to their territory
 *   BEFORE validating (ARCEP plan de numérotation; the extra overseas blocks
 *   05987/05988/05989, 02688/02689, 0709x, 09395–09399, 0976x follow the ARCEP
 *   allocations as recorded in libphonenumber-js 'max' metadata).
 *
 * Accepted input (decisions):
 * - separators: spaces (incl. no-break), dots, dashes, slashes, parentheses;
 *   a '(0)' after an international prefix is dropped ('+33 (0)6 12…').
 * - national: '0' + 9 digits. International: '+' or '00' + country code.
 *   '+33 0612…' (trunk 0 kept) is accepted. The wrong '+33 596…', '0033 596…'
 *   forms of overseas numbers are mapped to '+596 596…' etc.
 * - bare digits without '+'/'00'/'0' are accepted only when unambiguous:
 *   '33' + 9 digits (11 digits) and '262'/'590'/'594'/'596' + 9 digits
 *   (12 digits) — no French national or short number has those shapes
 *   (bare '508…' is refused: it collides with '5 08…' missing its 0).
 *   Bare short codes: the emergency list, 3BPQ (4 digits), 118xyz.
 * - validation uses libphonenumber-js 'max' metadata: the 'min' metadata
 *   accepts any 9 digits after +33 (e.g. the unassigned 070…); 'max' knows the
 *   assigned ranges. Exception: the prefixes of the §7 table (0590, 0596,
 *   0639, 09478…) are trusted whole, because 'max' is finer than the legal
 *   table and lags allocations (it refuses 0596 12…, 0639 12…).
 * - Guadeloupe/Saint-Martin/Saint-Barthélemy share +590: candidates are always
 *   GP, MF, BL, the ones whose ranges hold the number first (0590 87… → MF).
 * - other countries: territory = libphonenumber's ISO country; time zones from
 *   countryTimeZones() (ICU's zones for the country, distinct ones only, main
 *   first). A country with no known zone is an error, not a guess.
 * - Alsace-Moselle: metropolitan geographic 0387/0388/0389/0390 → true; 0382
 *   (Thionville, Moselle, shared with Meurthe-et-Moselle) → 'unknown'; other
 *   metropolitan geographic → false; metropolitan non-geographic → 'unknown';
 *   outside metropolitan France → false.
 *
 * Pure: no I/O, no clock, no process.env. Never throws on bad input.
 */
import { type CountryCode, Metadata } from 'libphonenumber-js/core';
import { parsePhoneNumberFromString, PhoneNumber } from 'libphonenumber-js/max';
import maxMetadata from 'libphonenumber-js/metadata.max.json';
import { isNpvNumber } from './callerid-ranges';
import { countryTimeZones, TERRITORY_ZONE } from './postal';
import { quoteValue } from './quote';

export type NumberKind =
  'emergency' | 'mobile' | 'fixed' | 'voip' | 'toll_free' | 'shared_cost' | 'premium' | 'directory' | 'short' | 'other';

export type NumberInfo = {
  input: string;
  /** '+33612345678', '+596596123456'; emergency/short codes: the bare digits, e.g. '112', '3010'. */
  e164: string;
  /** French national form when in the French plan: '0612345678', '0596123456'. */
  national?: string;
  /** Primary territory: 'FR' (metropolitan), 'GP','MF','BL','GF','MQ','RE','YT','PM', or another ISO country. */
  territory: string;
  /** Candidates, primary first: 0590 → ['GP','MF','BL']; 09478 → ['RE','YT']. */
  territories: string[];
  /** IANA zones, primary first, one per distinct zone: 09478 → ['Indian/Reunion','Indian/Mayotte']. */
  timeZones: string[];
  kind: NumberKind;
  /** Numéro polyvalent vérifié (CID-5 list). */
  npv: boolean;
  /** See the header: true / false / 'unknown'. */
  alsaceMoselle: boolean | 'unknown';
};

export type NormalizeResult = { ok: true; value: NumberInfo } | { ok: false; error: string };

// ---------------------------------------------------------------- overseas plan

type Place = { cc: string; territories: readonly string[]; name: string };

const GP: Place = { cc: '590', territories: ['GP', 'MF', 'BL'], name: 'Guadeloupe, Saint-Martin, Saint-Barthélemy' };
const GF: Place = { cc: '594', territories: ['GF'], name: 'Guyane' };
const MQ: Place = { cc: '596', territories: ['MQ'], name: 'Martinique' };
const RE: Place = { cc: '262', territories: ['RE'], name: 'La Réunion' };
const YT: Place = { cc: '262', territories: ['YT'], name: 'Mayotte' };
const RE_YT: Place = { cc: '262', territories: ['RE', 'YT'], name: 'La Réunion or Mayotte' };
const METRO: Place = { cc: '33', territories: ['FR'], name: 'metropolitan France' };

/** The FR-RULES §7 table: whole blocks trusted as assigned (a 0596 12… number is accepted). */
const LEGAL_TABLE: ReadonlyMap<string, Place> = new Map<string, Place>([
  ...['0590', '0690', '0691', '09475'].map((p) => [p, GP] as const),
  ...['0594', '0694', '09476'].map((p) => [p, GF] as const),
  ...['0596', '0696', '0697', '09477'].map((p) => [p, MQ] as const),
  ...['0262', '0263', '0692', '0693'].map((p) => [p, RE] as const),
  ...['0269', '0639'].map((p) => [p, YT] as const),
  ...['09478', '09479'].map((p) => [p, RE_YT] as const),
]);

/** National prefixes of the overseas departments: the legal table, then the newer blocks. */
const OVERSEAS_PREFIXES: ReadonlyMap<string, Place> = new Map<string, Place>([
  ...LEGAL_TABLE,
  // Newer overseas blocks (ARCEP allocations, as in libphonenumber-js max metadata): validated number by number.
  ...['05987', '07090', '09395', '09760', '09761', '09768'].map((p) => [p, GP] as const),
  ...['05988', '070930', '070931', '070932', '070933', '09396', '09764', '09765'].map((p) => [p, GF] as const),
  ...['05989', '07091', '09397', '09766', '09767'].map((p) => [p, MQ] as const),
  ...['02688', '07092', '09399', '09762', '09763'].map((p) => [p, RE] as const),
  ...['02689', '070935', '070936', '070937', '09398', '09769'].map((p) => [p, YT] as const),
]);

const OVERSEAS_CODES: ReadonlyMap<string, Place> = new Map([
  ['590', GP],
  ['594', GF],
  ['596', MQ],
  ['262', RE_YT],
]);

function overseasPrefix(national: string): string | undefined {
  for (let len = 6; len >= 4; len--) {
    if (OVERSEAS_PREFIXES.has(national.slice(0, len))) return national.slice(0, len);
  }
  return undefined;
}

function overseasPlace(national: string): Place | undefined {
  const prefix = overseasPrefix(national);
  return prefix === undefined ? undefined : OVERSEAS_PREFIXES.get(prefix);
}

function inLegalTable(national: string): boolean {
  return LEGAL_TABLE.has(national.slice(0, 4)) || LEGAL_TABLE.has(national.slice(0, 5));
}

/** libphonenumber's PhoneNumber for an explicit region (the runtime constructor takes one). */
const RegionNumber = PhoneNumber as unknown as new (region: string, nsn: string, metadata: object) => PhoneNumber;

/** Validate against one region's assigned ranges, without re-parsing a string (≈3× faster than parsing). */
function regionNumber(region: string, nsn: string): PhoneNumber {
  return new RegionNumber(region, nsn, maxMetadata);
}

/** libphonenumber's number types, as its getNumberType tries them (FIXED_LINE first). */
const LP_TYPES = [
  'FIXED_LINE',
  'MOBILE',
  'PREMIUM_RATE',
  'TOLL_FREE',
  'SHARED_COST',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
  'UAN',
  'VOICEMAIL',
] as const;
type RegionCheck = { general: RegExp; types: { re: RegExp; lengths?: number[] }[] };
/** The part of libphonenumber's runtime numbering plan used here (its typings do not declare it). */
type LpPlan = {
  nationalNumberPattern(): string;
  type(t: string): { pattern(): string; possibleLengths(): number[] | undefined } | undefined;
};
const REGION_CHECKS = new Map<string, RegionCheck>();

/**
 * regionNumber(region, nsn).isValid(), with the region's patterns compiled
 * once: libphonenumber compiles each pattern again at every call (~2.5 µs per
 * number, on the gate's hot path). Same rule as its isValid: the general
 * pattern, then some type pattern whose possible lengths allow the length
 * (checked against it number by number in test/core/numbers-valid.test.ts).
 */
export function isAssigned(region: string, nsn: string): boolean {
  let c = REGION_CHECKS.get(region);
  if (c === undefined) {
    const m = new Metadata(maxMetadata as unknown as ConstructorParameters<typeof Metadata>[0]);
    m.selectNumberingPlan(region as CountryCode);
    const plan = m.numberingPlan as unknown as LpPlan;
    const whole = (p: string) => new RegExp(`^(?:${p})$`);
    const types: RegionCheck['types'] = [];
    for (const t of LP_TYPES) {
      const def = plan.type(t);
      const pattern = def?.pattern();
      if (def === undefined || !pattern) continue;
      types.push({ re: whole(pattern), lengths: def.possibleLengths() });
    }
    c = { general: whole(plan.nationalNumberPattern()), types };
    REGION_CHECKS.set(region, c);
  }
  if (!c.general.test(nsn)) return false;
  for (const t of c.types) {
    if (t.lengths && !t.lengths.includes(nsn.length)) continue;
    if (t.re.test(nsn)) return true;
  }
  return false;
}

/** `region`: the first region whose ranges hold the number (for its libphonenumber type, if needed). */
type Found = { ordered: string[]; holds: number; region?: string };

/**
 * The place's regions whose assigned ranges hold the number, first, then the
 * others. +590 is shared by GP, MF and BL; the metadata tells some fixed
 * blocks apart (0590 87… is MF or BL, 0590 81… GP) while mobile and VoIP
 * ranges are the same in the three. +262 is shared by RE and YT.
 */
function assignedRegions(place: Place, nsn: string): Found {
  const regions = place === GP && nsn[0] !== '5' ? ['GP'] : place.territories;
  const holds = regions.filter((r) => isAssigned(r, nsn));
  const region = holds[0];
  if (regions.length < place.territories.length) {
    return { ordered: [...place.territories], holds: holds.length && place.territories.length, region };
  }
  return {
    ordered: [...holds, ...place.territories.filter((t) => !holds.includes(t))],
    holds: holds.length,
    region,
  };
}

// ------------------------------------------------------------------ short codes

const EMERGENCY = new Set(['15', '17', '18', '112', '114', '115', '119', '191', '196', '197']);

function isEmergencyDigits(digits: string): boolean {
  return EMERGENCY.has(digits) || /^116\d{3}$/.test(digits);
}

/** SCOPE-1: 15, 17, 18, 112, 114, 115, 116xxx, 119, 191, 196, 197 (separators allowed). Never throws. */
export function isEmergencyNumber(raw: string): boolean {
  if (typeof raw !== 'string') return false;
  const s = raw.trim();
  if (!/^[\d\s.-]+$/.test(s)) return false;
  return isEmergencyDigits(s.replace(/\D/g, ''));
}

function shortInfo(input: string, digits: string, kind: NumberKind): NormalizeResult {
  return {
    ok: true,
    value: {
      input,
      e164: digits,
      national: digits,
      territory: 'FR',
      territories: ['FR'],
      timeZones: [TERRITORY_ZONE.FR],
      kind,
      npv: false,
      alsaceMoselle: 'unknown',
    },
  };
}

// ---------------------------------------------------------------------- kinds

const LP_KIND: Readonly<Record<string, NumberKind>> = {
  FIXED_LINE: 'fixed',
  MOBILE: 'mobile',
  TOLL_FREE: 'toll_free',
  PREMIUM_RATE: 'premium',
  SHARED_COST: 'shared_cost',
  VOIP: 'voip',
};

function lpKind(p: PhoneNumber): NumberKind {
  const t = p.getType();
  return (t && LP_KIND[t]) || 'other';
}

/** Kind of a French-plan number from its national prefix (arrêté du 5 juillet 2016, ARCEP plan). */
function frenchKind(national: string, parsed: () => PhoneNumber): NumberKind {
  const d = national[1];
  if (d >= '1' && d <= '5') return 'fixed';
  if (d === '6' || d === '7') return 'mobile';
  if (d === '9') return 'voip';
  const p3 = national.slice(0, 3);
  if (p3 === '080') return national[3] <= '5' ? 'toll_free' : 'other'; // 0806–0809: ordinary-rate non-geographic
  if (p3 === '081' || p3 === '082') return 'shared_cost';
  if (p3 === '089') return 'premium';
  return lpKind(parsed());
}

function alsaceMoselle(national: string, kind: NumberKind): boolean | 'unknown' {
  if (kind !== 'fixed') return 'unknown';
  const p4 = national.slice(0, 4);
  if (p4 === '0387' || p4 === '0388' || p4 === '0389' || p4 === '0390') return true;
  if (p4 === '0382') return 'unknown';
  return false;
}

// ---------------------------------------------------------------- normalization

const fail = (error: string): NormalizeResult => ({ ok: false, error });

function frenchPlan(input: string, national: string, givenCc?: string): NormalizeResult {
  const nsn = national.slice(1);
  let place = overseasPlace(national) ?? METRO;
  let found: Found | undefined;
  if (givenCc && givenCc !== '33' && place.cc !== givenCc) {
    const code = OVERSEAS_CODES.get(givenCc) as Place;
    found = assignedRegions(code, nsn);
    if (found.holds === 0) {
      return fail(
        place !== METRO
          ? `${quoteValue(input)}: prefix ${overseasPrefix(national)} belongs to ${place.name} (+${place.cc}), not +${givenCc}`
          : `${quoteValue(input)} is not an assigned number of ${code.name} (+${givenCc})`,
      );
    }
    place = code;
  }
  const e164 = '+' + place.cc + nsn;
  // Blocks of the legal table are trusted whole (9 digits is always a possible length here);
  // everything else must be in an assigned range. +590 fixed lines are always checked, to order GP/MF/BL.
  const trusted = place !== METRO && inLegalTable(national);
  if (!found && (!trusted || (place === GP && nsn[0] === '5'))) found = assignedRegions(place, nsn);
  if (!trusted && found && found.holds === 0) {
    return fail(`${quoteValue(input)} (${e164}) is not an assigned number in ${place.name} (+${place.cc}, ARCEP plan)`);
  }
  const territories = found ? found.ordered : [...place.territories];
  // One zone per distinct zone: GP, MF and BL keep the same time (AST, no DST); RE (+4) and YT (+3) do not.
  const timeZones = place === RE_YT ? territories.map((t) => TERRITORY_ZONE[t]) : [TERRITORY_ZONE[territories[0]]];
  const kind = frenchKind(national, () => regionNumber(found?.region ?? territories[0], nsn));
  return {
    ok: true,
    value: {
      input,
      e164,
      national,
      territory: territories[0],
      territories,
      timeZones,
      kind,
      npv: isNpvNumber(national, e164),
      alsaceMoselle: place === METRO ? alsaceMoselle(national, kind) : false,
    },
  };
}

function international(input: string, digits: string): NormalizeResult {
  if (digits.length > 15) {
    return fail(
      `${quoteValue(input)} has ${digits.length} digits after the international prefix: E.164 allows at most 15`,
    );
  }
  if (digits.startsWith('33')) {
    let rest = digits.slice(2);
    if (rest.length === 10 && rest[0] === '0') rest = rest.slice(1); // '+33 0612…', '+33 (0)6…'
    if (rest.length !== 9 || rest[0] === '0') {
      return fail(
        `${quoteValue(input)}: a French number has 9 digits after +33 (e.g. +33 6 12 34 56 78), got ${rest.length}`,
      );
    }
    return frenchPlan(input, '0' + rest, '33');
  }
  const cc = digits.slice(0, 3);
  if (OVERSEAS_CODES.has(cc)) {
    let rest = digits.slice(3);
    if (rest.length === 10 && rest[0] === '0') rest = rest.slice(1);
    if (rest.length !== 9 || rest[0] === '0') {
      return fail(
        `${quoteValue(input)}: a +${cc} number has 9 digits after +${cc} (e.g. +${cc} ${cc} 12 34 56), got ${rest.length}`,
      );
    }
    return frenchPlan(input, '0' + rest, cc);
  }
  const p = parsePhoneNumberFromString('+' + digits);
  if (!p || !p.isValid()) {
    return fail(`${quoteValue(input)} is not a valid international number (unknown country code or unassigned range)`);
  }
  const country = p.country;
  if (!country) {
    return fail(
      `${quoteValue(input)} is an international non-geographic number (+${p.countryCallingCode}): no consumer location`,
    );
  }
  const timeZones = country === 'PM' ? [TERRITORY_ZONE.PM] : [...countryTimeZones(country)];
  if (timeZones.length === 0) {
    return fail(`${quoteValue(input)}: no time zone is known for country ${country}; supply contact.timeZone`);
  }
  return {
    ok: true,
    value: {
      input,
      e164: p.number,
      territory: country,
      territories: [country],
      timeZones,
      kind: lpKind(p),
      npv: false,
      alsaceMoselle: false,
    },
  };
}

/** Spaces a written number may hold: the ordinary one and the no-break/thin ones word processors put in. */
const SPACES = /[\s\u00a0\u2007\u2009\u202f]+/g;
/**
 * A number as people write it: groups of digits, a group possibly in brackets, separated by at
 * most one space, dot, dash or slash (a dash or slash may have a space on each side), with one
 * leading +. Accepts 01 23 45 67 89, (01) 23 45 67 89, 01.23.45.67.89, 01-23-45-67-89,
 * +33 (0)1 23 45 67 89, +1 (212) 555-0100; refuses "06--12", "06(12", "()", "1-".
 */
const WRITTEN = /^\+?(?:\d+|\(\d+\))(?:(?: ?[.\-/] ?| )?(?:\d+|\(\d+\)))*$/;

/**
 * Why `raw` is not written as a phone number (letters, other characters, broken punctuation), or
 * undefined when it is. Only the writing: whether the number exists is normalizeNumber's business.
 * The one syntax check of dialled and presented numbers (the CLI's --to and --caller-id use it).
 */
export function writtenNumberProblem(raw: string): string | undefined {
  if (typeof raw === 'string' && WRITTEN.test(raw)) return undefined; // the common case, at once
  if (typeof raw !== 'string') return 'number must be a string, e.g. "0612345678" or "+33612345678"';
  const s = raw.replace(SPACES, ' ').trim();
  if (s === '') return 'number is empty: expected e.g. "0612345678" or "+33612345678"';
  if (/[A-Za-z]/.test(s))
    return `${quoteValue(raw)} contains letters: only digits, spaces, dots, dashes, slashes, brackets and a leading + are allowed`;
  const bad = [...s].find((c) => !/[\d .\-/()+]/.test(c));
  if (bad !== undefined)
    return `${quoteValue(raw)} contains ${quoteValue(bad)}: only digits, spaces, dots, dashes, slashes, brackets and a leading + are allowed`;
  if (s.lastIndexOf('+') > 0) return `${quoteValue(raw)}: '+' is only allowed at the start`;
  if (!/\d/.test(s)) return `${quoteValue(raw)} has no digits`;
  if (!WRITTEN.test(s))
    return `${quoteValue(raw)} is not written as a phone number: groups of digits separated by one space, dot, dash or slash, a group possibly in brackets, e.g. (01) 23 45 67 89 or +33 1 23 45 67 89`;
  return undefined;
}

/**
 * Normalize a number as dialled. Returns {ok:false, error} with a message
 * saying what is wrong for anything that is not a dialable number; never throws.
 */
export function normalizeNumber(raw: string): NormalizeResult {
  let s = raw;
  if (typeof raw !== 'string' || !WRITTEN.test(raw)) {
    const problem = writtenNumberProblem(raw);
    if (problem !== undefined) return fail(problem);
    s = raw.replace(SPACES, ' ').trim();
  }
  if (/^(?:\+|00)/.test(s)) s = s.replace(/^(\+?[\d\s.-]*?\d)\s*\(0\)/, '$1');
  const digits = s.replace(/\D/g, '');
  if (digits === '') return fail(`${quoteValue(raw)} has no digits`);
  if (s.startsWith('+')) return international(raw, digits);
  if (digits.startsWith('00')) return international(raw, digits.slice(2));
  if (digits.startsWith('0')) {
    if (digits.length !== 10) {
      return fail(
        `${quoteValue(raw)} has ${digits.length} digits: a French national number has 10 (0 + 9 digits, e.g. 06 12 34 56 78)`,
      );
    }
    return frenchPlan(raw, digits);
  }
  if (isEmergencyDigits(digits)) return shortInfo(raw, digits, 'emergency');
  if (/^118\d{3}$/.test(digits)) return shortInfo(raw, digits, 'directory');
  if (/^3\d{3}$/.test(digits)) return shortInfo(raw, digits, 'short');
  if (/^33\d{9}$/.test(digits) || /^(?:262|590|594|596)\d{9}$/.test(digits)) return international(raw, digits);
  if (digits.length === 9) {
    return fail(`${quoteValue(raw)} has 9 digits and no leading 0: write it 0${digits} or +33${digits}`);
  }
  if (digits.length <= 6) {
    return fail(
      `${quoteValue(raw)} is not a known short number (emergency 15, 17, 18, 112, 114, 115, 116xxx, 119, 191, 196, 197; 3BPQ; 118xyz)`,
    );
  }
  return fail(
    `${quoteValue(raw)} is ambiguous: write a national number with its leading 0, or an international one with + or 00`,
  );
}
