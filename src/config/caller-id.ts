/**
 * Validation of a professional's declared caller IDs (CID-6: C. consom.
 * L. 221-17 al. 2; ARCEP décision 2025-2215). Each must be a valid number;
 * it is kept in E.164 so the gate compares like with like.
 */
import { quoteValue } from '../core/quote';
import type { z } from 'zod';
import { normalizeCallerId } from './normalize';

export function checkCallerId(raw: string, ctx: z.RefinementCtx): string {
  const r = normalizeCallerId(raw);
  if (!r.ok) {
    ctx.addIssue({
      code: 'custom',
      message: `${quoteValue(raw)} is not a valid phone number (${r.error}); write it as +33162000001 or 0162000001`,
    });
    return raw;
  }
  return r.e164;
}
