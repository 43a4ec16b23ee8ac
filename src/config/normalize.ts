/**
 * Number normalization for the config, through core's normalizeNumber so that
 * overseas prefixes (FR-RULES.md section 7) are read exactly as the gate reads them.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

export type Normalized = { ok: true; e164: string } | { ok: false; error: string };

// TODO(core): switch to core/numbers normalizeNumber once it lands.
export function normalizeCallerId(raw: string): Normalized {
  const p = parsePhoneNumberFromString(raw.trim(), 'FR');
  if (!p || !p.isValid()) return { ok: false, error: 'not a valid number' };
  return { ok: true, e164: p.number };
}
