/**
 * Environment references in callgate.yaml, so that secrets need not sit in the
 * file: any string value may contain ${NAME} or ${NAME:-default}
 * (e.g. `password: ${CALLGATE_ARI_PASSWORD}`). A reference to an unset
 * variable with no default is a problem at that value's path. `$${` writes a
 * literal `${`. Only values are expanded, never keys, and an expanded value
 * stays text: use it for credentials, URLs and paths, not for numbers.
 */
import { formatPath, type Problem } from './problems';

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function expandString(s: string, env: NodeJS.ProcessEnv, path: PropertyKey[], problems: Problem[]): string {
  if (!s.includes('${')) return s;
  return s.replace(REF, (whole, name: string | undefined, dflt: string | undefined) => {
    if (whole === '$${') return '${';
    const v = env[name!];
    if (v !== undefined && v !== '') return v;
    if (dflt !== undefined) return dflt;
    problems.push({
      path: formatPath(path),
      message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)`,
    });
    return '';
  });
}

/** Returns a copy of `value` with every ${NAME} expanded; problems are appended to `problems`. */
export function expandEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  problems: Problem[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') return expandString(value, env, path, problems);
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, problems, [...path, i]));
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandEnv(v, env, problems, [...path, k]);
    return out;
  }
  return value;
}
