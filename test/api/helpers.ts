/**
 * Test helpers for the admin API: a real gate (memory or SQLite store, fixed clock) under a real
 * fastify instance, reached through fastify's injection (no socket) or over loopback.
 */
import { parseConfig, type Config } from '../../src/config';
import { buildApi, type Api } from '../../src/api';
import { createRuntime, type Runtime } from '../../src/main';
import type { PbxAdapter } from '../../src/gate/service';
import { logSink } from '../gate/helpers';

export const TOKEN = 'test-token-0123456789abcdef';
export const AUTH = { authorization: `Bearer ${TOKEN}` };
export const CONSUMER = '+33612345678';

/** acme (caller ID 0162000001), campaigns acme-energy (manual) and acme-robot; Monday 30 Nov 2026 10:30 Paris. */
export function apiConfig(
  extra = '',
  store = 'store: {driver: memory}',
  clock = "clock: {mode: fixed, at: '2026-11-30T09:30:00Z'}",
): Config {
  return parseConfig(
    `
${store}
professionals:
  - id: acme
    callerIds: ['+33162000001']
  - id: other-pro
campaigns:
  - {id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}
  - {id: acme-robot, professional: acme, dialing: automated}
defaultCampaign: {id: default, professional: acme}
${clock}
api: {listen: {host: 127.0.0.1, port: 0}}
${extra}`,
    'test',
  );
}

export type Harness = {
  rt: Runtime;
  api: Api;
  log: ReturnType<typeof logSink>;
  close(): Promise<void>;
};

export async function harness(
  opts: { config?: Config; adapters?: PbxAdapter[]; runtime?: Runtime } = {},
): Promise<Harness> {
  const config = opts.config ?? apiConfig();
  const log = logSink('warn');
  const rt = opts.runtime ?? createRuntime(config, { logger: log.logger, checkpoint: 'sqlite' });
  const api = await buildApi({
    config,
    token: TOKEN,
    gate: rt.gate,
    store: rt.store,
    clock: rt.clock,
    logger: rt.logger,
    adapters: opts.adapters ?? [],
  });
  return {
    rt,
    api,
    log,
    async close() {
      await api.close();
      await rt.close();
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read any field of an answer
export type Reply = { status: number; json: any; text: string; headers: Record<string, unknown> };

/** A JSON request through fastify's injection, with the token unless `auth` is false. */
export async function call(
  h: Harness,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  auth = true,
): Promise<Reply> {
  const res = await h.api.app.inject({
    method,
    url,
    headers: { ...(auth ? AUTH : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text: res.body, headers: res.headers };
}
