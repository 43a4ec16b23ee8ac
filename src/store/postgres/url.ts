/**
 * The PostgreSQL connection URL (store.url, or CALLGATE_DATABASE_URL): checked
 * here, and shown only through redactUrl, so that a password it carries never
 * reaches a log line, an error message or `callgate config check`.
 */
import { maskUrlCredentials } from '../../gate/mask';

/** What is wrong with `url` (without repeating it), or undefined when it is a usable postgres:// URL. */
export function urlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // never echo the text: it may hold a password
    return 'is not a URL; write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (special characters in the password percent-encoded)';
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    return `must start with postgres:// or postgresql://, not ${u.protocol}//`;
  if (u.hostname === '' && !u.searchParams.has('host'))
    return 'names no host; write postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE';
  if (u.pathname.replace(/^\//, '') === '') return 'names no database; end it with /DATABASE';
  return undefined;
}

/**
 * The URL with its password (and any password-like parameter) replaced by ***; safe to log. The
 * masking is the one of every URL callgate shows (gate/mask.ts); a store.url that does not even
 * parse is not echoed at all.
 */
export function redactUrl(url: string): string {
  try {
    new URL(url);
  } catch {
    return '(unparsable store.url)';
  }
  return maskUrlCredentials(url);
}

/** The secrets of `url` (password, password= parameters), to scrub from texts that might echo them. */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const out = [u.password, decodeURIComponent(u.password)];
    for (const [k, v] of u.searchParams) if (/pass|secret|key/i.test(k)) out.push(v);
    return [...new Set(out.filter((s) => s.length > 0))];
  } catch {
    return [];
  }
}

/** `text` with every secret of `url` replaced by ***. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}
