/**
 * The admin HTTP API (fastify): decisions (check, attempts, originate), the data the rules read
 * (consents, contracts, do-not-call entries, refusals), what the gate knows about a number, the
 * decision list, health, Prometheus metrics and the live dashboard. Served by `callgate start` when
 * callgate.yaml has an `api:` section; see README.md (HTTP API) and the OpenAPI document it serves.
 *
 * Every route but /healthz and the dashboard's files asks for the bearer token (./auth.ts). Every
 * route has a JSON Schema; inputs are checked whole before anything is written, and a refused input
 * gets a 400 listing every problem (./errors.ts has the one error shape).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import type { Config } from '../config/schema';
import type { Gate } from '../gate/gate';
import { maskNumber } from '../gate/mask';
import type { PbxAdapter } from '../gate/service';
import { StoreError, type Store } from '../gate/store';
import type { Clock } from '../gate/clock';
import { bearerCheck } from './auth';
import { dashboardAssets, type Asset } from './dashboard';
import { ApiError, invalid, validationProblems, type AjvError } from './errors';
import { LiveHub } from './live';
import { createMetrics } from './metrics';
import { decideRoutes } from './routes-decide';
import { dataRoutes } from './routes-data';
import { queryRoutes } from './routes-query';
import { sharedSchemas } from './schemas';

export type ApiDeps = {
  config: Config;
  /** The bearer token (api.token or CALLGATE_API_TOKEN, resolved by the caller). */
  token: string;
  gate: Gate;
  store: Store;
  clock: Clock;
  logger: Logger;
  adapters: readonly PbxAdapter[];
};

/** What a route module gets. */
export type RouteContext = ApiDeps & {
  hub: LiveHub;
  /** Counts a store fault met while serving a request (callgate_store_errors_total). */
  storeError(): void;
};

export type Api = {
  app: FastifyInstance;
  hub: LiveHub;
  /** Stops observing the gate, ends the live streams, closes the server. */
  close(): Promise<void>;
};

/** Sends a JSON text as is (so a decision is byte for byte core's decisionToJson). */
export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return sendJsonText(reply, status, JSON.stringify(value));
}

/** Sends a JSON text already spelled (e.g. core's decisionJsonText). */
export function sendJsonText(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(text);
}

export async function buildApi(deps: ApiDeps): Promise<Api> {
  const { config, logger } = deps;
  const log = logger.child({ component: 'api' });
  const hub = new LiveHub(config, config.log.maskNumbers ? maskNumber : (n) => n);
  const unobserve = deps.gate.observe(hub.record);
  let apiStoreErrors = 0;
  const ctx: RouteContext = { ...deps, hub, storeError: () => void apiStoreErrors++ };
  const registry = createMetrics({
    hub,
    gate: deps.gate,
    adapters: deps.adapters,
    apiStoreErrors: () => apiStoreErrors,
  });
  const assets = dashboardAssets();

  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
    return503OnClosing: true,
    ajv: {
      customOptions: {
        allErrors: true,
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        verbose: true,
        keywords: ['example'],
      },
    },
  });
  for (const s of sharedSchemas) app.addSchema(s);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'callgate admin API',
        version: '1',
        description:
          'Ask the compliance gate before calling, record consents and refusals, follow what it decides. Every route but /healthz and the dashboard files needs `Authorization: Bearer <token>`. Errors: `{ "error": { "code": "CG_ERR_…", "message": "…", "problems": [ … ] } }` (docs/errors.md).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // Schema errors are collected, not thrown at once, on routes that check their fields themselves
  // (config.collect): their handler adds the problems of the fields the schema could not judge, so
  // one 400 lists every problem. On every other route a schema error is thrown as usual.
  //
  // The token is checked by an onRequest hook of each route but the public ones (added here, so that
  // nothing is looked up per request), and by a global one for the requests no route matches (a
  // 404 is a 401 without the token, so that an unknown path tells nothing). The hooks are of the
  // callback kind: no promise per request; what they throw goes to the error handler all the same.
  const authorize = bearerCheck(deps.token);
  const authHook = (req: FastifyRequest, _reply: FastifyReply, done: () => void): void => {
    authorize(req.headers.authorization);
    done();
  };
  app.addHook('onRoute', (route) => {
    const config = route.config as { collect?: boolean; public?: boolean } | undefined;
    if (config?.collect === true) route.attachValidation = true;
    if (config?.public !== true)
      route.onRequest = [authHook, ...(route.onRequest === undefined ? [] : [route.onRequest].flat())];
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (req.is404) authHook(req, reply, done);
    else done();
  });

  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError(
      404,
      'CG_ERR_API_NOT_FOUND',
      `no route ${req.method} ${req.url.split('?')[0]}; see GET /v1/openapi.json`,
    );
    sendJson(reply, 404, e.body());
  });

  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if ((err as FastifyError).validation) {
      const f = err as FastifyError;
      e = invalid(validationProblems(f.validation as unknown as AjvError[], f.validationContext));
    } else if (err instanceof StoreError) {
      if (err.code === 'CG_ERR_STORE_INVALID') e = invalid([{ path: 'body', message: err.message }]);
      else {
        ctx.storeError();
        log.error({ code: 'CG_ERR_API_STORE', err, route: req.routeOptions.url }, 'store fault serving an API request');
        e = new ApiError(503, 'CG_ERR_API_STORE', `the store failed, nothing was changed: ${err.message}`);
      }
    } else if (typeof (err as FastifyError).statusCode === 'number' && (err as FastifyError).statusCode! < 500) {
      // fastify's own refusals: unreadable JSON, wrong content type, body too large
      const status = (err as FastifyError).statusCode!;
      e = new ApiError(status, 'CG_ERR_API_INPUT', `invalid request, nothing was changed: ${err.message}`, [
        { path: 'body', message: err.message },
      ]);
    } else {
      log.error({ code: 'CG_ERR_INTERNAL', err, route: req.routeOptions.url }, 'API request failed');
      e = new ApiError(500, 'CG_ERR_INTERNAL', 'internal error serving this request (logged); nothing was changed');
    }
    if (e.status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="callgate"');
    sendJson(reply, e.status, e.body());
  });

  serveAssets(app, assets);

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        summary: 'The process is up (no token needed).',
        tags: ['health'],
        security: [],
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } },
      },
    },
    async (_req, reply) => sendJson(reply, 200, { status: 'ok' }),
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics, text format 0.0.4.',
        tags: ['health'],
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text exposition format.' } },
      },
    },
    async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );

  app.get(
    '/v1/openapi.json',
    {
      schema: {
        summary: 'This API, as an OpenAPI 3 document.',
        tags: ['health'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (_req, reply) => sendJson(reply, 200, app.swagger()),
  );

  decideRoutes(app, ctx);
  dataRoutes(app, ctx);
  queryRoutes(app, ctx);

  await app.ready();
  let closing: Promise<void> | undefined;
  return {
    app,
    hub,
    close() {
      closing ??= (async () => {
        unobserve();
        hub.close((c) => (c as unknown as { end(): void }).end());
        await app.close();
      })();
      return closing;
    },
  };
}

function serveAssets(app: FastifyInstance, assets: Asset[]): void {
  for (const a of assets) {
    app.get(
      a.path,
      {
        config: { public: true },
        schema: {
          summary:
            a.path === '/'
              ? 'The live dashboard (no token needed to load it; it asks for one).'
              : `Dashboard file ${a.path}.`,
          tags: ['dashboard'],
          security: [],
          hide: a.path !== '/',
          response: { 200: { type: 'string' }, 304: { type: 'null', description: 'Not modified.' } },
        },
      },
      async (req, reply) => {
        void reply
          .header('Cache-Control', 'no-cache')
          .header('ETag', a.etag)
          .header('X-Content-Type-Options', 'nosniff')
          // the page loads its own files only, and is never framed
          .header(
            'Content-Security-Policy',
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
          );
        if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
        return reply.type(a.type).send(a.body);
      },
    );
  }
}
