/**
 * Where a consumer is: territory, candidate time zones, Alsace-Moselle, found
 * from a French postal code or from an IANA zone the dialer supplied.
 *
 * Legal sources:
 * - FR-RULES.md §5 (TIME-1..3, D. 223-9): days and hours are judged in the
 *   consumer's local time; local public holidays: Alsace-Moselle (C. trav.
 *   L. 3134-13 — départements 57 Moselle, 67 Bas-Rhin, 68 Haut-Rhin) and the
 *   abolition-of-slavery day of each overseas territory (loi 83-550).
 * - FR-RULES.md §7: a postal code or an IANA zone supplied by the dialer for the
 *   contact overrides the number.
 *
 * Postal codes (La Poste): the first two digits are the département (01–95,
 * Corsica 20xxx); 971 Guadeloupe, except 97133 Saint-Barthélemy and 97150
 * Saint-Martin; 972 Martinique; 973 Guyane; 974 La Réunion; 975 Saint-Pierre-
 * et-Miquelon; 976 Mayotte. Also handled because La Poste distributes them:
 * 98000 Monaco, 986 Wallis-et-Futuna, 987 Polynésie française, 988
 * Nouvelle-Calédonie.
 *
 * Foreign countries (countryTimeZones): the zones ICU knows for the country
 * (Intl.Locale#timeZones, bundled with Node — no I/O), merged when they have
 * the same UTC offset in mid-January and mid-July 2026, main zone first.
 *
 * Pure: no I/O, no clock, no process.env.
 */
import { IANAZone } from 'luxon';
import { getCountries } from 'libphonenumber-js/max';
import { quoteValue } from './quote';

export type Location = {
  territory: string;
  territories: string[];
  timeZones: string[];
  alsaceMoselle: boolean;
};

export type LocateResult = { ok: true; value: Location } | { ok: false; error: string };

/** IANA zone of each French territory (and the neighbours La Poste serves). */
export const TERRITORY_ZONE: Readonly<Record<string, string>> = Object.freeze({
  FR: 'Europe/Paris',
  GP: 'America/Guadeloupe',
  MF: 'America/Marigot',
  BL: 'America/St_Barthelemy',
  GF: 'America/Cayenne',
  MQ: 'America/Martinique',
  RE: 'Indian/Reunion',
  YT: 'Indian/Mayotte',
  PM: 'America/Miquelon',
  MC: 'Europe/Monaco',
  WF: 'Pacific/Wallis',
  NC: 'Pacific/Noumea',
});

function location(
  territory: string,
  alsaceMoselle = false,
  timeZones: string[] = [TERRITORY_ZONE[territory]],
): LocateResult {
  return { ok: true, value: { territory, territories: [territory], timeZones, alsaceMoselle } };
}

/** Three-digit postal prefixes of the overseas territories. */
const OVERSEAS_POSTAL: Readonly<Record<string, string>> = {
  '971': 'GP',
  '972': 'MQ',
  '973': 'GF',
  '974': 'RE',
  '975': 'PM',
  '976': 'YT',
  '986': 'WF',
  '988': 'NC',
};

const ALSACE_MOSELLE_DEPARTEMENTS = new Set(['57', '67', '68']);

/**
 * Locate a French postal code: '67000', ' 57 100 ' → FR, Alsace-Moselle;
 * '97150' → MF; '97133' → BL; '97110' → GP. Never throws.
 */
export function locatePostalCode(code: string): LocateResult {
  if (typeof code !== 'string') {
    return { ok: false, error: 'postal code must be a string of 5 digits, e.g. "75008"' };
  }
  const compact = code
    .trim()
    .replace(/^FR?[-\s]?/i, '')
    .replace(/[\s.]/g, '');
  if (compact === '') {
    return { ok: false, error: 'postal code is empty: expected 5 digits, e.g. "75008"' };
  }
  if (!/^\d+$/.test(compact)) {
    return {
      ok: false,
      error: `postal code ${quoteValue(code)} contains characters other than digits: expected 5 digits, e.g. "75008"`,
    };
  }
  if (compact.length === 4) {
    return {
      ok: false,
      error: `postal code ${quoteValue(code)} has 4 digits: a leading zero was probably lost (write "0${compact}")`,
    };
  }
  if (compact.length !== 5) {
    return {
      ok: false,
      error: `postal code ${quoteValue(code)} has ${compact.length} digits: a French postal code has exactly 5`,
    };
  }
  const dept = compact.slice(0, 2);
  if (dept === '00') {
    return { ok: false, error: `postal code ${quoteValue(code)} does not exist: no département starts with 00` };
  }
  if (compact === '97133') return location('BL');
  if (compact === '97150') return location('MF');
  if (compact.startsWith('980')) {
    if (compact === '98000') return location('MC');
    return { ok: false, error: `postal code ${quoteValue(code)} is not assigned (Monaco is 98000)` };
  }
  if (compact.startsWith('987')) {
    return location('PF', false, ['Pacific/Tahiti', 'Pacific/Marquesas', 'Pacific/Gambier']);
  }
  const overseas = OVERSEAS_POSTAL[compact.slice(0, 3)];
  if (overseas) return location(overseas);
  const n = Number(dept);
  if (n >= 1 && n <= 95) return location('FR', ALSACE_MOSELLE_DEPARTEMENTS.has(dept));
  return {
    ok: false,
    error: `postal code ${quoteValue(code)} is not a French postal code: 01xxx–95xxx, 971xx–976xx or 98xxx expected`,
  };
}

const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_MAX = 2048; // there are ~600 zone names; the cap only guards against odd spellings

/** Canonical spelling of a valid IANA zone, or undefined. Memoized: building an Intl formatter costs ~0.1–0.5 ms. */
export function canonicalZone(zone: string): string | undefined {
  if (typeof zone !== 'string') return undefined;
  const cached = canonicalCache.get(zone);
  if (cached) return cached;
  if (!ZONE_NAME.test(zone) || !IANAZone.isValidZone(zone)) return undefined;
  try {
    const canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    if (canonicalCache.size < CANONICAL_CACHE_MAX) canonicalCache.set(zone, canonical);
    return canonical;
  } catch {
    return undefined;
  }
}

/**
 * Locate a dialer-supplied IANA zone (contact.timeZone). The territory is the
 * French territory of that zone, else the country ICU attaches it to, else
 * 'ZZ' (unknown region, e.g. 'UTC'). alsaceMoselle is false: a zone cannot tell.
 */
export function locateTimeZone(zone: string): LocateResult {
  if (typeof zone !== 'string' || zone.trim() === '') {
    return { ok: false, error: 'time zone is empty: expected an IANA zone name, e.g. "Europe/Paris"' };
  }
  const canonical = canonicalZone(zone.trim());
  if (!canonical) {
    return {
      ok: false,
      error: `time zone ${quoteValue(zone)} is not an IANA zone name: expected e.g. "Europe/Paris" or "America/Martinique"`,
    };
  }
  const territory = zoneTerritory(canonical) ?? zoneTerritory(zone.trim()) ?? 'ZZ';
  return { ok: true, value: { territory, territories: [territory], timeZones: [canonical], alsaceMoselle: false } };
}

let zoneToCountry: Map<string, string> | undefined;

function zoneTerritory(zone: string): string | undefined {
  for (const [territory, z] of Object.entries(TERRITORY_ZONE)) if (z === zone) return territory;
  if (!zoneToCountry) {
    zoneToCountry = new Map();
    for (const country of getCountries()) {
      for (const z of icuCountryZones(country)) if (!zoneToCountry.has(z)) zoneToCountry.set(z, country);
    }
  }
  return zoneToCountry.get(zone);
}

function icuCountryZones(country: string): string[] {
  try {
    const loc = new Intl.Locale(`und-${country}`) as Intl.Locale & {
      timeZones?: string[];
      getTimeZones?: () => string[] | undefined;
    };
    return (loc.getTimeZones ? loc.getTimeZones() : loc.timeZones) ?? [];
  } catch {
    return [];
  }
}

/**
 * Main zone first, then preferred names for the other groups, for countries
 * where ICU lists several distinct zones (ICU lists them alphabetically).
 */
const MAIN_ZONES: Readonly<Record<string, readonly string[]>> = {
  US: [
    'America/New_York',
    'America/Chicago',
    'America/Denver',
    'America/Phoenix',
    'America/Los_Angeles',
    'America/Anchorage',
    'Pacific/Honolulu',
  ],
  CA: [
    'America/Toronto',
    'America/Vancouver',
    'America/Edmonton',
    'America/Winnipeg',
    'America/Halifax',
    'America/St_Johns',
    'America/Regina',
  ],
  MX: ['America/Mexico_City', 'America/Tijuana', 'America/Cancun'],
  BR: ['America/Sao_Paulo', 'America/Manaus'],
  AR: ['America/Buenos_Aires'],
  CL: ['America/Santiago'],
  EC: ['America/Guayaquil'],
  RU: ['Europe/Moscow'],
  UA: ['Europe/Kiev'],
  ES: ['Europe/Madrid'],
  PT: ['Europe/Lisbon'],
  AU: ['Australia/Sydney', 'Australia/Brisbane', 'Australia/Adelaide', 'Australia/Darwin', 'Australia/Perth'],
  NZ: ['Pacific/Auckland'],
  ID: ['Asia/Jakarta'],
  KZ: ['Asia/Almaty'],
  MN: ['Asia/Ulaanbaatar'],
  CD: ['Africa/Kinshasa'],
  CN: ['Asia/Shanghai'],
  GL: ['America/Godthab'],
  PF: ['Pacific/Tahiti'],
  KI: ['Pacific/Tarawa'],
  CY: ['Asia/Nicosia'],
};

const REFERENCE_INSTANTS = [Date.UTC(2026, 0, 15, 12), Date.UTC(2026, 6, 15, 12)];
const countryZonesCache = new Map<string, readonly string[]>();

/**
 * Distinct time zones of a country (ISO 3166 alpha-2), main zone first; zones
 * with the same offsets in January and July are merged. [] when ICU knows none.
 * Memoized per country (a pure function of the bundled ICU data).
 */
export function countryTimeZones(country: string): readonly string[] {
  const cached = countryZonesCache.get(country);
  if (cached) return cached;
  const all = icuCountryZones(country);
  const preferred = MAIN_ZONES[country] ?? (TERRITORY_ZONE[country] ? [TERRITORY_ZONE[country]] : []);
  const groups = new Map<string, string>();
  const signature = (z: string) => {
    const zone = IANAZone.create(z);
    return REFERENCE_INSTANTS.map((t) => zone.offset(t)).join(',');
  };
  for (const z of [...preferred, ...all]) {
    if (!IANAZone.isValidZone(z)) continue;
    const sig = signature(z);
    if (!groups.has(sig)) groups.set(sig, z);
  }
  const zones = Object.freeze([...groups.values()]);
  countryZonesCache.set(country, zones);
  return zones;
}
