/**
 * The `api:` section of callgate.yaml: the admin HTTP API, its metrics and its dashboard, served by
 * `callgate start` when the section is there (even without a PBX). Owned by src/api/; included by
 * config/schema.ts.
 *
 * The token is not required here: it may come from CALLGATE_API_TOKEN instead, which `callgate
 * start` reads (resolveApiToken); an API without a token never starts.
 */
import { z } from 'zod';

export const DEFAULT_API_HOST = '127.0.0.1';
export const DEFAULT_API_PORT = 8090;
/** Shortest token accepted: a guessable token on an API that records consents is worse than none. */
export const MIN_TOKEN_LENGTH = 16;

const TOKEN_HELP = `at least ${MIN_TOKEN_LENGTH} characters without spaces, e.g. the output of \`openssl rand -hex 32\``;

/** Why a token is refused, or undefined. */
export function tokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH) return `the API token is too short (${token.length}): ${TOKEN_HELP}`;
  if (token.length > 512) return 'the API token is longer than 512 characters';
  if (!/^[\x21-\x7e]+$/.test(token)) return `the API token must be printable ASCII without spaces: ${TOKEN_HELP}`;
  return undefined;
}

export const apiToken = z.string().superRefine((v, ctx) => {
  const problem = tokenProblem(v);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const apiConfigSchema = z
  .object({
    /** Where the API listens. Loopback by default: put a TLS reverse proxy in front to reach it from elsewhere. */
    listen: z
      .object({
        host: z.string().min(1).default(DEFAULT_API_HOST),
        port: z.number().int().min(0).max(65535).default(DEFAULT_API_PORT),
      })
      .strict()
      .prefault({}),
    /** Bearer token every route but /healthz and the dashboard's files asks for; else CALLGATE_API_TOKEN. */
    token: apiToken.optional(),
  })
  .strict();

export type ApiConfig = z.output<typeof apiConfigSchema>;

/**
 * The token of a configured API: api.token, else CALLGATE_API_TOKEN. A problem (path and message)
 * when neither gives a valid one: `callgate start` refuses to serve an API without a token.
 */
export function resolveApiToken(
  api: ApiConfig,
  env: NodeJS.ProcessEnv = process.env,
): { ok: true; token: string } | { ok: false; path: string; message: string } {
  if (api.token !== undefined) return { ok: true, token: api.token };
  const fromEnv = env.CALLGATE_API_TOKEN;
  if (fromEnv === undefined || fromEnv === '')
    return {
      ok: false,
      path: 'api.token',
      message: `the admin API needs a token: set api.token (e.g. token: \${CALLGATE_API_TOKEN}) or the environment variable CALLGATE_API_TOKEN, ${TOKEN_HELP}`,
    };
  const problem = tokenProblem(fromEnv);
  if (problem !== undefined) return { ok: false, path: 'CALLGATE_API_TOKEN', message: problem };
  return { ok: true, token: fromEnv };
}
