/**
 * Which law judges an attempt (FR-RULES.md section 0).
 *
 * - 'opposition' (legacy): C. consom. L. 223-1 in its 2020 wording and décret 2022-1313 — calls allowed unless
 *   the number is on the opposition list (Bloctel) or the internal do-not-call list.
 * - 'consent': loi 2025-594 art. 13 (new L. 223-1), décret 2026-662 — prior consent required, from the
 *   Europe/Paris date `consentRegimeStart` (2026-08-11) on.
 *
 * The regime follows the attempt's instant, so replays of old call logs are judged by the law of their day.
 * `policy.regime` may force one. An unreadable `consentRegimeStart` selects 'consent', the stricter law
 * (config validation reports it; regimeAt itself never throws).
 */
import { DateTime } from 'luxon';
import { LEGAL_ZONE } from './rules/calendar';
import type { Policy, Regime } from './types';

const startCache = new Map<string, number>();

/** First instant (ms) of the Europe/Paris date `isoDate`, or NaN when it is not a YYYY-MM-DD date. */
export function parisDayStart(isoDate: string): number {
  let ms = startCache.get(isoDate);
  if (ms === undefined) {
    const dt = /^\d{4}-\d{2}-\d{2}$/.test(isoDate) ? DateTime.fromISO(isoDate, { zone: LEGAL_ZONE }) : null;
    ms = dt && dt.isValid ? dt.startOf('day').toMillis() : NaN;
    if (startCache.size > 64) startCache.clear();
    startCache.set(isoDate, ms);
  }
  return ms;
}

export function regimeAt(at: Date, policy: Pick<Policy, 'regime' | 'consentRegimeStart'>): Regime {
  if (policy.regime === 'consent' || policy.regime === 'opposition') return policy.regime;
  const start = parisDayStart(policy.consentRegimeStart);
  if (Number.isNaN(start)) return 'consent';
  const t = at.getTime();
  if (Number.isNaN(t)) return 'consent';
  return t >= start ? 'consent' : 'opposition';
}
