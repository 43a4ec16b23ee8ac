/**
 * A setting that callgate no longer reads. Declared in the schema (so that a config file that still
 * has it gets an error saying what replaces it, instead of "unknown key" or, worse, silence) but
 * accepted with no value only. knownKeys() leaves such keys out of "did you mean …?" suggestions.
 */
import { z } from 'zod';

export function removedKey(message: string) {
  return z.never({ error: message }).optional();
}
