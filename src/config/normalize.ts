/**
 * Number normalization for the config, through core's normalizeNumber so that
 * declared caller IDs are read exactly as the gate reads presented ones
 * (overseas prefixes, FR-RULES.md section 7).
 *
 * A declared number that the gate would always refuse to present is a config
 * error, not a silent dead entry: emergency codes, and mobile numbers (CID-4,
 * ARCEP décision 2022-1583: a PBX may not present a mobile number).
 */
import { normalizeNumber } from '../core/numbers';

export type Normalized = { ok: true; e164: string } | { ok: false; error: string };

export function normalizeCallerId(raw: string): Normalized {
  const r = normalizeNumber(raw);
  if (!r.ok) return { ok: false, error: r.error };
  if (r.value.kind === 'emergency') return { ok: false, error: 'an emergency number cannot be a caller ID' };
  if (r.value.kind === 'mobile') return { ok: false, error: 'a mobile number cannot be presented by a PBX (CID-4)' };
  return { ok: true, e164: r.value.e164 };
}
