/**
 * The facts the rules read, as the command line records them (`consent add`, `consent withdraw`,
 * `contract add`, `dnc add`, `refusal add`, with the importer's row checks, src/store/rows.ts), and
 * the same facts listed by number. One store call per write, made only once every field passed: a
 * refused request changes nothing.
 *
 * Legal sources: consent C. consom. L. 223-1 al. 1 and R. 223-1..3; contract exception L. 223-1 al. 4;
 * internal do-not-call list RGPD art. 21; refusals R. 223-3 / D. 223-9.
 */
import type { FastifyInstance } from 'fastify';
import type { ConsentRow, ContractRow, DncRow, History } from '../gate/store';
import {
  consentInput,
  contractInput,
  dncInput,
  numberAtInput,
  Problems,
  rowContext,
  type ConsentBody,
  type ContractBody,
  type DncBody,
} from './inputs';
import { errorResponses, fields, numberQuery, rowSchemas, storeErrorResponse } from './schemas';
import { sendJson, type RouteContext } from './server';
import { professionalId, subscriberNumber } from '../store/rows';

const iso = (d: Date | undefined) => (d === undefined ? undefined : d.toISOString());

export function consentJson(c: ConsentRow) {
  return {
    number: c.e164,
    professional: c.professional,
    categories: [...c.categories],
    collectedAt: iso(c.collectedAt),
    validUntil: iso(c.validUntil),
    slot: iso(c.slot),
    source: c.source,
    withdrawnAt: iso(c.withdrawnAt),
    automated: c.automated,
  };
}

export function contractJson(c: ContractRow) {
  return {
    number: c.e164,
    professional: c.professional,
    categories: [...c.categories],
    start: iso(c.start),
    end: iso(c.end),
  };
}

export function dncJson(d: DncRow) {
  return { number: d.e164, professional: d.professional, reason: d.reason, addedAt: iso(d.addedAt) };
}

export function refusalJson(r: History['refusals'][number]) {
  return { number: r.e164, professional: r.professional, at: iso(r.at) };
}

export function dataRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { config, store, clock } = ctx;
  const tags = ['data'];
  const added = (what: string, schema: object) => ({
    200: {
      type: 'object',
      description: `The ${what} as recorded (merged into an equal one already there).`,
      properties: { [what]: schema },
    },
    ...errorResponses,
    ...storeErrorResponse,
  });
  const listed = (what: string, schema: object) => ({
    200: {
      type: 'object',
      properties: { number: { type: 'string', description: 'E.164' }, [what]: { type: 'array', items: schema } },
    },
    ...errorResponses,
    ...storeErrorResponse,
  });

  /** The number and optional professional of a list request, checked. */
  function listQuery(
    p: Problems,
    q: { number: string; professional?: string },
  ): { e164: string; professional?: string } {
    const ctxRows = rowContext(config);
    const e164 = p.check('number', () => subscriberNumber(ctxRows, q.number));
    const professional =
      q.professional === undefined
        ? undefined
        : p.check('professional', () => professionalId(ctxRows, q.professional!));
    p.done();
    return { e164: e164 as string, ...(professional !== undefined ? { professional } : {}) };
  }

  app.post(
    '/v1/consents',
    {
      config: { collect: true },
      schema: {
        summary: 'Record a consent to be called (consent regime, L. 223-1).',
        description:
          'As `callgate consent add`. A consent equal on (number, professional, collectedAt, categories) to a stored one is merged into it, only towards fewer calls.',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['number', 'professional'],
          properties: {
            number: fields.number,
            professional: fields.professional,
            categories: { ...fields.categories, description: 'Product categories covered (absent: every category).' },
            collectedAt: fields.instant('When the consent was collected (default: now).'),
            validUntil: fields.instant('End of validity (default: the policy, never more than 365 days).'),
            slot: fields.instant('A precise date and time the consumer agreed to be called at (TIME-4).'),
            source: {
              type: 'string',
              minLength: 1,
              maxLength: 1000,
              description: 'Where the proof of consent is kept.',
            },
            automated: { type: 'boolean', description: 'The consent covers pre-recorded / robot calls (AUTO-1).' },
          },
        },
        response: added('consent', rowSchemas.consent),
      },
    },
    async (req, reply) => {
      const c = consentInput(Problems.of(req, 'body'), config, req.body as ConsentBody, clock.now().getTime());
      const row: ConsentRow = {
        e164: c.e164,
        professional: c.professional,
        categories: c.categories,
        collectedAt: new Date(c.collectedAt),
        ...(c.validUntil !== null ? { validUntil: new Date(c.validUntil) } : {}),
        ...(c.slot !== null ? { slot: new Date(c.slot) } : {}),
        ...(c.source !== null ? { source: c.source } : {}),
        ...(c.automated ? { automated: true } : {}),
      };
      await store.addConsent(row);
      return sendJson(reply, 200, { consent: consentJson(row) });
    },
  );

  app.post(
    '/v1/consents/withdrawals',
    {
      config: { collect: true },
      schema: {
        summary: "Withdraw every active consent of a number for a professional (the consumer's withdrawal).",
        description: 'As `callgate consent withdraw`. From `at` on, the consents no longer allow calls.',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['number', 'professional'],
          properties: {
            number: fields.number,
            professional: fields.professional,
            at: fields.instant('When the consent was withdrawn (default: now).'),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              number: { type: 'string' },
              professional: { type: 'string' },
              at: { type: 'string', format: 'date-time' },
              withdrawn: { type: 'integer', description: 'How many consents were withdrawn (0: none was active).' },
            },
          },
          ...errorResponses,
          ...storeErrorResponse,
        },
      },
    },
    async (req, reply) => {
      const w = numberAtInput(
        Problems.of(req, 'body'),
        config,
        req.body as { number: string; professional: string; at?: string },
      );
      const at = w.at ?? clock.now();
      const withdrawn = await store.withdrawConsent(w.e164, w.professional, at);
      return sendJson(reply, 200, { number: w.e164, professional: w.professional, at: at.toISOString(), withdrawn });
    },
  );

  app.get(
    '/v1/consents',
    {
      config: { collect: true },
      schema: {
        summary: 'The consents of a number (withdrawn ones included).',
        tags,
        querystring: numberQuery,
        response: listed('consents', rowSchemas.consent),
      },
    },
    async (req, reply) => {
      const q = listQuery(Problems.of(req, 'query'), req.query as { number: string; professional?: string });
      const h = await store.history(q.e164, q.professional);
      return sendJson(reply, 200, { number: q.e164, consents: h.consents.map(consentJson) });
    },
  );

  app.post(
    '/v1/contracts',
    {
      config: { collect: true },
      schema: {
        summary: 'Record an ongoing contract (exception of L. 223-1 al. 4).',
        description: 'As `callgate contract add`. The categories say what the contract is about (required).',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['number', 'professional', 'categories'],
          properties: {
            number: fields.number,
            professional: fields.professional,
            categories: { ...fields.categories, minItems: 1 },
            start: fields.instant('Start (default: now).'),
            end: fields.instant('End (default: ongoing).'),
          },
        },
        response: added('contract', rowSchemas.contract),
      },
    },
    async (req, reply) => {
      const k = contractInput(Problems.of(req, 'body'), config, req.body as ContractBody, clock.now().getTime());
      const row: ContractRow = {
        e164: k.e164,
        professional: k.professional,
        categories: k.categories,
        start: new Date(k.start),
        ...(k.end !== null ? { end: new Date(k.end) } : {}),
      };
      await store.addContract(row);
      return sendJson(reply, 200, { contract: contractJson(row) });
    },
  );

  app.get(
    '/v1/contracts',
    {
      config: { collect: true },
      schema: {
        summary: 'The contracts of a number.',
        tags,
        querystring: numberQuery,
        response: listed('contracts', rowSchemas.contract),
      },
    },
    async (req, reply) => {
      const q = listQuery(Problems.of(req, 'query'), req.query as { number: string; professional?: string });
      const h = await store.history(q.e164, q.professional);
      return sendJson(reply, 200, { number: q.e164, contracts: h.contracts.map(contractJson) });
    },
  );

  app.post(
    '/v1/dnc',
    {
      config: { collect: true },
      schema: {
        summary: 'Put a number on the internal do-not-call list (DNC-1, RGPD art. 21).',
        description: 'As `callgate dnc add`. Without a professional, for every professional.',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['number'],
          properties: {
            number: fields.number,
            professional: {
              ...fields.professional,
              description: 'Only for this professional (absent: every professional).',
            },
            reason: { type: 'string', minLength: 1, maxLength: 1000, description: 'Why (complaint, withdrawal…).' },
          },
        },
        response: added('dnc', rowSchemas.dnc),
      },
    },
    async (req, reply) => {
      const d = dncInput(Problems.of(req, 'body'), config, req.body as DncBody);
      const row: DncRow = {
        e164: d.e164,
        addedAt: clock.now(),
        ...(d.professional !== null ? { professional: d.professional } : {}),
        ...(d.reason !== null ? { reason: d.reason } : {}),
      };
      await store.addDnc(row);
      return sendJson(reply, 200, { dnc: dncJson(row) });
    },
  );

  app.get(
    '/v1/dnc',
    {
      config: { collect: true },
      schema: {
        summary: 'The do-not-call entries of a number.',
        tags,
        querystring: numberQuery,
        response: listed('dnc', rowSchemas.dnc),
      },
    },
    async (req, reply) => {
      const q = listQuery(Problems.of(req, 'query'), req.query as { number: string; professional?: string });
      const h = await store.history(q.e164, q.professional);
      return sendJson(reply, 200, { number: q.e164, dnc: h.dnc.map(dncJson) });
    },
  );

  app.post(
    '/v1/refusals',
    {
      config: { collect: true },
      schema: {
        summary: 'Record a refusal the consumer expressed during a call (REF-1).',
        description: 'As `callgate refusal add`.',
        tags,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['number', 'professional'],
          properties: {
            number: fields.number,
            professional: fields.professional,
            at: fields.instant('When (default: now).'),
          },
        },
        response: added('refusal', rowSchemas.refusal),
      },
    },
    async (req, reply) => {
      const r = numberAtInput(
        Problems.of(req, 'body'),
        config,
        req.body as { number: string; professional: string; at?: string },
      );
      const at = r.at ?? clock.now();
      await store.addRefusal(r.e164, r.professional, at);
      return sendJson(reply, 200, { refusal: refusalJson({ e164: r.e164, professional: r.professional, at }) });
    },
  );

  app.get(
    '/v1/refusals',
    {
      config: { collect: true },
      schema: {
        summary: 'The refusals of a number.',
        tags,
        querystring: numberQuery,
        response: listed('refusals', rowSchemas.refusal),
      },
    },
    async (req, reply) => {
      const q = listQuery(Problems.of(req, 'query'), req.query as { number: string; professional?: string });
      const h = await store.history(q.e164, q.professional);
      return sendJson(reply, 200, { number: q.e164, refusals: h.refusals.map(refusalJson) });
    },
  );
}
