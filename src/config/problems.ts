/**
 * Turns zod issues into config problems: one { path, message } each, the path
 * written as in the YAML (campaigns[2].dialing), the message saying what is
 * expected. Input values are not echoed for fields that may hold credentials.
 */
import { quoteValue } from '../core/quote';
import type { z } from 'zod';
import { closest, knownKeys } from './suggest';

export type Problem = { path: string; message: string };

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(top level)' : out;
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? 'text' : typeof v;
}

const SECRET = /password|secret|token/i;

function show(v: unknown, path: readonly PropertyKey[]): string {
  if (path.some((p) => typeof p === 'string' && SECRET.test(p))) return kind(v);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return `${kind(v)} ${quoteValue(v)}`;
  return kind(v);
}

function issueToProblems(issue: z.core.$ZodIssue, schema: unknown): Problem[] {
  const path = issue.path;
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => {
        const known = knownKeys(schema, path);
        const hint = closest(k, known);
        const message = hint
          ? `unknown key (did you mean ${hint}?)`
          : `unknown key (known keys here: ${known.join(', ')})`;
        return { path: formatPath([...path, k]), message };
      });
    case 'invalid_value':
      return [
        {
          path: formatPath(path),
          message: `expected one of ${issue.values.map(String).join('|')}${input === undefined ? '' : `, got ${show(input, path)}`}`,
        },
      ];
    case 'invalid_type':
      // a removed setting (src/config/removed.ts): its message says what replaces it
      if (issue.expected === 'never') return [{ path: formatPath(path), message: issue.message }];
      if (input === undefined) return [{ path: formatPath(path), message: `required (${issue.expected})` }];
      return [
        {
          path: formatPath(path),
          message: `expected ${issue.expected === 'int' ? 'a whole number' : issue.expected}, got ${show(input, path)}`,
        },
      ];
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string; options?: unknown[] }).discriminator;
      const options = (issue as { options?: unknown[] }).options;
      if (disc && options) {
        return [
          {
            path: formatPath(path),
            message: `expected one of ${options.map(String).join('|')}${input === undefined ? ' (required)' : ''}`,
          },
        ];
      }
      // Union of an id or a mapping (defaultCampaign): report the branch that went deepest.
      const branches = issue.errors.filter((e) => e.length > 0);
      const best = branches.find((b) => b.some((i) => i.path.length > 0)) ?? branches[0];
      if (best)
        return best.flatMap((i) => issueToProblems({ ...i, path: [...path, ...i.path] } as z.core.$ZodIssue, schema));
      return [{ path: formatPath(path), message: issue.message }];
    }
    case 'too_small':
      if (issue.origin === 'string') return [{ path: formatPath(path), message: 'must not be empty' }];
      return [
        {
          path: formatPath(path),
          message: issue.origin === 'array' ? issue.message : `must be at least ${String(issue.minimum)}`,
        },
      ];
    case 'invalid_format':
      if (issue.format === 'url')
        return [{ path: formatPath(path), message: 'expected a URL, e.g. http://127.0.0.1:8088' }];
      return [{ path: formatPath(path), message: issue.message }];
    case 'too_big':
      return [{ path: formatPath(path), message: `must be at most ${String(issue.maximum)}` }];
    default:
      return [{ path: formatPath(path), message: issue.message }];
  }
}

/** `schema` is the one that produced the error (for the known keys of unknown-key problems). */
export function zodProblems(error: z.ZodError, schema: unknown): Problem[] {
  return error.issues.flatMap((i) => issueToProblems(i, schema));
}
