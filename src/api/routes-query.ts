/**
 * Reading what the gate knows and does: one number (GET /v1/numbers/{n}), the decisions recorded
 * (GET /v1/decisions, paged by cursor), the last hour for the dashboard (GET /v1/stats, GET
 * /v1/events as server-sent events), and whether the gate can serve (GET /readyz).
 */
import type { FastifyInstance } from 'fastify';
import { decisionToJson } from '../core/decision-json';
import { frequencyWindowStart } from '../core/rules/frequency';
import { quoteValue } from '../core/quote';
import { REASON_CODES, type CallAttempt, type Decision, type ReasonCode } from '../core/types';
import type { DecisionCursor } from '../gate/store';
import { ApiError } from './errors';
import { campaignField, e164Of, instantField, postalCodeField, Problems } from './inputs';
import { consentJson, contractJson, dncJson, refusalJson } from './routes-data';
import { errorResponses, INSTANT_HELP, rowSchemas, storeErrorResponse } from './schemas';
import { sendJson, type RouteContext } from './server';

/** Steps of the "next instant it may be called" search (each step jumps to the latest retryAfter). */
const NEXT_CALL_STEPS = 12;
/** Longest /readyz waits for the store, ms. */
const READY_STORE_TIMEOUT_MS = 2000;

/** A cursor of GET /v1/decisions: the position of the last decision of a page, opaque to clients. */
export function encodeCursor(c: DecisionCursor): string {
  return Buffer.from(JSON.stringify([c.at.getTime(), c.id]), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): DecisionCursor | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1] !== '')
      return { at: new Date(v[0] as number), id: v[1] };
  } catch {
    // not ours
  }
  return undefined;
}

const CID = /^CID-/;

export function queryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { config, gate, store, clock, hub } = ctx;

  app.get(
    '/v1/numbers/:n',
    {
      config: { collect: true },
      schema: {
        summary: 'What the gate knows about one number, and the next instant it may be called.',
        description:
          'For the campaign given (default: the default campaign) and its professional: attempts counted in the frequency window (FREQ-1), consent and do-not-call status, refusals, the opposition list, and `nextCallAt`: the first instant from now at which no rule about the consumer blocks a call (caller-ID rules aside), or null when a rule blocks without end (do-not-call, no consent…; `blockedBy` says which). Nothing is written.',
        tags: ['query'],
        params: {
          type: 'object',
          required: ['n'],
          properties: {
            n: { type: 'string', minLength: 1, maxLength: 64, description: 'The number, national or international.' },
          },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            campaign: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: 'A configured campaign (default: the default one).',
            },
            postalCode: {
              type: 'string',
              minLength: 1,
              maxLength: 16,
              description: "The consumer's postal code (time zone, local holidays).",
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              number: { type: 'string' },
              territory: { type: 'string' },
              timeZone: { type: 'string' },
              campaign: { type: 'string' },
              professional: { type: 'string' },
              now: { type: 'string', format: 'date-time' },
              nextCallAt: { type: 'string', format: 'date-time', nullable: true },
              blockedBy: {
                type: 'array',
                description: 'The reasons that block a call now (caller-ID rules aside), with their retryAfter.',
                items: {
                  type: 'object',
                  properties: {
                    code: { type: 'string' },
                    rule: { type: 'string' },
                    message: { type: 'string' },
                    retryAfter: { type: 'string', format: 'date-time' },
                  },
                },
              },
              attempts: {
                type: 'object',
                properties: {
                  windowDays: { type: 'integer' },
                  since: { type: 'string', format: 'date-time' },
                  counted: { type: 'integer', description: 'Attempts that count towards the limit (FREQ-1).' },
                  max: { type: 'integer' },
                  list: { type: 'array', items: rowSchemas.attempt },
                },
              },
              consent: {
                type: 'object',
                properties: {
                  status: { type: 'string', enum: ['valid', 'none', 'expired', 'withdrawn', 'not_needed'] },
                  basis: { type: 'string', enum: ['consent', 'contract', 'press', 'none'] },
                  regime: { type: 'string', enum: ['opposition', 'consent'] },
                  consents: { type: 'array', items: rowSchemas.consent },
                },
              },
              doNotCall: {
                type: 'object',
                properties: { listed: { type: 'boolean' }, entries: { type: 'array', items: rowSchemas.dnc } },
              },
              refusals: { type: 'array', items: rowSchemas.refusal },
              contracts: { type: 'array', items: rowSchemas.contract },
              opposition: {
                type: 'object',
                properties: { listed: { type: 'boolean' }, asOf: { type: 'string', format: 'date-time' } },
              },
            },
          },
          ...errorResponses,
          ...storeErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const { n } = req.params as { n: string };
      const q = req.query as { campaign?: string; postalCode?: string };
      const pp = Problems.of(req, 'params');
      const e164 = e164Of(pp, 'n', n);
      const p = new Problems('query');
      const campaign = campaignField(p, 'campaign', config, q.campaign);
      const postalCode = postalCodeField(p, 'postalCode', q.postalCode);
      const problems = [...pp.list, ...p.list];
      if (problems.length > 0) {
        const all = new Problems('body');
        all.list.push(...problems);
        all.done();
      }
      const camp = config.campaigns.find((c) => c.id === campaign.id) ?? config.defaultCampaign;
      const professional = config.professionals.find((x) => x.id === camp.professional);
      const now = clock.now();
      const attempt = (at: Date): CallAttempt => ({
        to: e164 as string,
        callerId: { number: professional?.callerIds[0] ?? 'anonymous', presentation: 'allowed' },
        at,
        ...(campaign.id !== undefined ? { campaignId: campaign.id } : {}),
        ...(postalCode !== undefined ? { contact: { postalCode } } : {}),
        source: { pbx: 'api' },
      });
      const first = await gate.preview(attempt(now));
      const next = await nextCall(first, now, (at) => gate.preview(attempt(at)));
      const windowStart = frequencyWindowStart(now, config.policy);
      const [history, facts] = await Promise.all([
        store.history(e164 as string, camp.professional),
        store.getFacts({ e164: e164 as string, professional: camp.professional, at: now, windowStart }),
      ]);
      const codes = new Set(first.reasons.map((r) => r.code));
      const consentStatus = codes.has('consent_withdrawn')
        ? 'withdrawn'
        : codes.has('consent_expired')
          ? 'expired'
          : codes.has('no_consent')
            ? 'none'
            : first.basis === 'consent'
              ? 'valid'
              : 'not_needed';
      return sendJson(reply, 200, {
        number: e164,
        territory: first.callee?.territory,
        timeZone: first.callee?.timeZone,
        campaign: camp.id,
        professional: camp.professional,
        now: now.toISOString(),
        nextCallAt: next.at === null ? null : next.at.toISOString(),
        blockedBy: next.blocking.map((r) => ({
          code: r.code,
          rule: r.rule,
          message: r.message,
          ...(r.retryAfter ? { retryAfter: r.retryAfter.toISOString() } : {}),
        })),
        attempts: {
          windowDays: config.policy.windowDays,
          since: windowStart.toISOString(),
          counted: facts.recentAttempts.length,
          max: config.policy.maxAttempts,
          list: history.attempts
            .filter((a) => a.at.getTime() >= windowStart.getTime())
            .map((a) => ({
              decisionId: a.decisionId,
              professional: a.professional,
              campaign: a.campaignId,
              at: a.at.toISOString(),
              ...(a.outcome ? { outcome: { ...a.outcome, endedAt: a.outcome.endedAt.toISOString() } } : {}),
            })),
        },
        consent: {
          status: consentStatus,
          basis: first.basis,
          regime: first.regime,
          consents: history.consents.map(consentJson),
        },
        doNotCall: { listed: codes.has('do_not_call'), entries: history.dnc.map(dncJson) },
        refusals: history.refusals.map(refusalJson),
        contracts: history.contracts.map(contractJson),
        opposition: {
          listed: history.opposition.listed,
          ...(history.opposition.asOf ? { asOf: history.opposition.asOf.toISOString() } : {}),
        },
      });
    },
  );

  app.get(
    '/v1/decisions',
    {
      config: { collect: true },
      schema: {
        summary: 'Recorded decisions, oldest first, paged by cursor.',
        description: `Filters: from (inclusive) and to (exclusive) on the decision's instant (${INSTANT_HELP}), verdict, reason (one of the decision's reasons), campaign. Follow \`next\` (pass it as cursor, with the same filters) until it is null. Each decision is exactly as \`callgate check --json\` prints it.`,
        tags: ['query'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', minLength: 1, maxLength: 64 },
            to: { type: 'string', minLength: 1, maxLength: 64 },
            verdict: { type: 'string', enum: ['allow', 'block'] },
            reason: { type: 'string', enum: [...REASON_CODES] },
            campaign: { type: 'string', minLength: 1, maxLength: 64 },
            cursor: { type: 'string', minLength: 1, maxLength: 512, description: 'The `next` of the previous page.' },
            limit: {
              type: 'string',
              pattern: '^[0-9]{1,4}$',
              description: 'Decisions per page, 1..1000 (default 100).',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              decisions: { type: 'array', items: { $ref: 'Decision#' } },
              next: { type: 'string', nullable: true, description: 'Cursor of the next page; null on the last one.' },
            },
          },
          ...errorResponses,
          ...storeErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const q = req.query as Record<string, string | undefined>;
      const p = Problems.of(req, 'query');
      const from = instantField(p, 'from', q.from);
      const to = instantField(p, 'to', q.to);
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!p.has('limit') && (limit < 1 || limit > 1000)) p.add('limit', `${quoteValue(q.limit)} is not in 1..1000`);
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
      if (q.cursor !== undefined && after === undefined)
        p.add('cursor', 'is not a cursor given by this API (pass the `next` of the previous page as it is)');
      if (from && to && from.getTime() >= to.getTime()) p.add('to', 'must be after from');
      p.done();
      const page = await store.listDecisions({
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(q.verdict ? { verdict: q.verdict as 'allow' | 'block' } : {}),
        ...(q.reason ? { reason: q.reason as ReasonCode } : {}),
        ...(q.campaign ? { campaign: q.campaign } : {}),
        ...(after ? { after } : {}),
        limit,
      });
      return sendJson(reply, 200, {
        decisions: page.rows.map((r) => decisionToJson(r.decision)),
        next: page.next ? encodeCursor(page.next) : null,
      });
    },
  );

  app.get(
    '/v1/stats',
    {
      schema: {
        summary: "The dashboard's last hour: blocked calls per reason per minute, decisions and attempts per campaign.",
        description: 'Counted by this gate process since it started (at most the last hour).',
        tags: ['query'],
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (_req, reply) => sendJson(reply, 200, hub.stats()),
  );

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'The live view: server-sent events (text/event-stream).',
        description:
          'event `decisions`: a JSON list of the decisions given since the previous one (at most every 200 ms; numbers masked per log.maskNumbers); event `stats`: the body of GET /v1/stats, at once and every 5 s.',
        tags: ['query'],
        produces: ['text/event-stream'],
        response: { 200: { type: 'string' }, ...errorResponses },
      },
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.socket?.setNoDelay(true);
      const detach = hub.attach(res);
      req.raw.on('close', detach);
    },
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'Ready to serve: the store can be written and every configured PBX connection is up (503 otherwise).',
        tags: ['health'],
        response: {
          200: { type: 'object', additionalProperties: true },
          503: {
            type: 'object',
            additionalProperties: true,
            description: 'What is not ready, and an error in the one shape.',
          },
          ...errorResponses,
        },
      },
    },
    async (_req, reply) => {
      let storeOk = true;
      let storeProblem: string | undefined;
      try {
        await withTimeout(
          store.checkWritable
            ? store.checkWritable()
            : store
                .getFacts({ e164: '+33100000000', professional: '-', at: new Date(0), windowStart: new Date(0) })
                .then(() => undefined),
          READY_STORE_TIMEOUT_MS,
        );
      } catch (e) {
        storeOk = false;
        storeProblem = e instanceof Error ? e.message : String(e);
      }
      const pbx = ctx.adapters.map((a) => ({ pbx: a.name, ...(a.status?.() ?? { connected: false, reconnects: 0 }) }));
      const down = pbx.filter((x) => !x.connected).map((x) => x.pbx);
      const ready = storeOk && down.length === 0;
      const body: Record<string, unknown> = {
        status: ready ? 'ready' : 'not ready',
        store: { driver: store.driver, writable: storeOk, ...(storeProblem ? { problem: storeProblem } : {}) },
        pbx,
      };
      if (!ready) {
        const e = !storeOk
          ? new ApiError(503, 'CG_ERR_API_STORE', `the store cannot be written: ${storeProblem}`)
          : new ApiError(503, 'CG_ERR_PBX_CONNECT', `not connected to ${down.join(', ')}: calls from it are not gated`);
        Object.assign(body, e.body());
      }
      return sendJson(reply, ready ? 200 : 503, body);
    },
  );
}

/**
 * The first instant from `now` at which nothing about the consumer blocks a call (caller-ID rules
 * aside: they are about the line presented, not the consumer): jumps from a decision to the latest
 * retryAfter of its reasons, a few times (a frequency limit may end on a Sunday night); null when a
 * reason has no end (do-not-call, no consent, invalid number…).
 */
async function nextCall(
  first: Decision,
  now: Date,
  preview: (at: Date) => Promise<Decision>,
): Promise<{ at: Date | null; blocking: Decision['reasons'] }> {
  let d = first;
  let at = now;
  const blockingNow = first.reasons.filter((r) => !CID.test(r.rule));
  for (let step = 0; step < NEXT_CALL_STEPS; step++) {
    const blocking = d.reasons.filter((r) => !CID.test(r.rule));
    if (blocking.length === 0) return { at, blocking: blockingNow };
    if (blocking.some((r) => r.retryAfter === undefined)) return { at: null, blocking: blockingNow };
    const latest = Math.max(...blocking.map((r) => r.retryAfter!.getTime()));
    at = new Date(Math.max(latest, at.getTime() + 1));
    d = await preview(at);
  }
  return { at: null, blocking: blockingNow };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
