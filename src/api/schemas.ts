/**
 * JSON Schemas of the admin API: every route's input (validated by fastify's ajv before the handler
 * runs: unknown fields, wrong types and missing fields are refused, every problem listed) and every
 * answer (documented in the OpenAPI document the API serves). Answers are written by the
 * handlers with JSON.stringify, so a decision is byte for byte what `callgate check --json` prints
 * (core's decisionToJson); the schemas describe them, a test holds the answers to them.
 *
 * What the schemas cannot say (a number that is not a number, a date core's parser refuses, an
 * unknown campaign) is checked by ./inputs.ts with the same parsers as the command line.
 */
import { REASON_CODES, RULE_IDS } from '../core/types';
import { errorBodySchema } from './errors';

const text = (maxLength: number, description: string, example?: string) =>
  ({ type: 'string', minLength: 1, maxLength, description, ...(example ? { example } : {}) }) as const;

export const INSTANT_HELP =
  'ISO-8601 instant: 2026-11-24T11:00:00+01:00, …Z, or without offset = Europe/Paris wall time (2026-11-24T11:00), or 2026-11-24T11:00[America/Martinique]';

export const fields = {
  to: text(64, 'The number to call, as dialled (national or international).', '01 23 45 67 89'),
  callerId: text(64, "The number presented to the callee, or 'anonymous' when it is withheld.", '0162000001'),
  campaign: text(64, 'A campaign id of the configuration (default: its default campaign).', 'acme-energy'),
  at: text(64, `Instant of the attempt (default: now). ${INSTANT_HELP}`, '2026-11-24T11:00'),
  postalCode: text(16, "The consumer's postal code (time zone and local holidays), five digits.", '67000'),
  number: text(64, "The consumer's number (national or international).", '06 12 34 56 78'),
  professional: text(64, 'A professional id of the configuration.', 'acme'),
  instant: (description: string) => text(64, `${description} ${INSTANT_HELP}`),
  categories: {
    type: 'array',
    maxItems: 50,
    items: { type: 'string', minLength: 1, maxLength: 64 },
    description: 'Product categories, e.g. ["energy-supply"].',
  },
} as const;

export const attemptBody = {
  type: 'object',
  additionalProperties: false,
  required: ['to', 'callerId'],
  properties: {
    to: fields.to,
    callerId: fields.callerId,
    campaign: fields.campaign,
    at: fields.at,
    postalCode: fields.postalCode,
  },
} as const;

const reason = {
  type: 'object',
  required: ['code', 'rule', 'message', 'legalRef'],
  properties: {
    code: { type: 'string', enum: [...REASON_CODES] },
    rule: { type: 'string', enum: [...RULE_IDS] },
    message: { type: 'string' },
    legalRef: { type: 'string' },
    retryAfter: {
      type: 'string',
      format: 'date-time',
      description: 'For a time or frequency block: the next instant this rule would let the call through.',
    },
    detail: { type: 'string' },
  },
} as const;

/** The decision exactly as `callgate check --json` prints it (src/core/decision-json.ts). */
export const decisionSchema = {
  $id: 'Decision',
  type: 'object',
  description:
    'A decision of the gate, exactly as `callgate check --json` prints it. A blocked call is verdict "block" with every failed rule in `reasons`.',
  required: ['id', 'verdict', 'at', 'regime', 'basis', 'monitorOnly', 'reasons', 'tags', 'callerId', 'campaign'],
  properties: {
    id: { type: 'string', description: 'Decision id (time-ordered, UUIDv7 layout).' },
    verdict: { type: 'string', enum: ['allow', 'block'] },
    at: { type: 'string', format: 'date-time' },
    regime: { type: 'string', enum: ['opposition', 'consent'] },
    basis: { type: 'string', enum: ['consent', 'contract', 'press', 'none'] },
    monitorOnly: { type: 'boolean' },
    reasons: { type: 'array', items: reason },
    tags: { type: 'array', items: { type: 'string' } },
    callee: {
      type: 'object',
      properties: {
        e164: { type: 'string' },
        territory: { type: 'string' },
        timeZone: { type: 'string' },
        timeZones: { type: 'array', items: { type: 'string' } },
        localTime: { type: 'string' },
        zoneSource: { type: 'string' },
      },
    },
    callerId: {
      type: 'object',
      properties: {
        number: { type: 'string' },
        presentation: { type: 'string', enum: ['allowed', 'restricted'] },
        e164: { type: 'string' },
      },
    },
    campaign: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        professional: { type: 'string' },
        dialing: { type: 'string' },
        purpose: { type: 'string' },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        properties: { rule: { type: 'string' }, outcome: { type: 'string' }, note: { type: 'string' } },
      },
    },
    source: {
      type: 'object',
      properties: { pbx: { type: 'string' }, channelId: { type: 'string' } },
    },
    clock: {
      type: 'string',
      description:
        'Only when the gate runs on a fixed or shifted clock (callgate.yaml clock:) and the request gave no `at`: the clock that chose the instant, as `callgate check` says it.',
    },
  },
} as const;

export const errorResponses = {
  400: { description: 'Invalid input: every problem listed; nothing was changed.', $ref: 'ErrorBody#' },
  401: { description: 'Missing or wrong bearer token.', $ref: 'ErrorBody#' },
} as const;

export const storeErrorResponse = {
  503: { description: 'The store failed; nothing was changed.', $ref: 'ErrorBody#' },
} as const;

export const sharedSchemas = [errorBodySchema, decisionSchema];

const outcome = {
  type: 'object',
  properties: {
    answered: { type: 'boolean' },
    dialStatus: { type: 'string' },
    hangupCause: { type: 'string' },
    durationMs: { type: 'integer' },
    endedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const rowSchemas = {
  consent: {
    type: 'object',
    properties: {
      number: { type: 'string', description: 'E.164' },
      professional: { type: 'string' },
      categories: { type: 'array', items: { type: 'string' }, description: '[] = every category' },
      collectedAt: { type: 'string', format: 'date-time' },
      validUntil: { type: 'string', format: 'date-time' },
      slot: { type: 'string', format: 'date-time' },
      source: { type: 'string' },
      withdrawnAt: { type: 'string', format: 'date-time' },
      automated: { type: 'boolean' },
    },
  },
  contract: {
    type: 'object',
    properties: {
      number: { type: 'string' },
      professional: { type: 'string' },
      categories: { type: 'array', items: { type: 'string' } },
      start: { type: 'string', format: 'date-time' },
      end: { type: 'string', format: 'date-time' },
    },
  },
  dnc: {
    type: 'object',
    properties: {
      number: { type: 'string' },
      professional: { type: 'string', description: 'absent: every professional' },
      reason: { type: 'string' },
      addedAt: { type: 'string', format: 'date-time' },
    },
  },
  refusal: {
    type: 'object',
    properties: {
      number: { type: 'string' },
      professional: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
    },
  },
  attempt: {
    type: 'object',
    properties: {
      decisionId: { type: 'string' },
      professional: { type: 'string' },
      campaign: { type: 'string' },
      at: { type: 'string', format: 'date-time' },
      outcome,
    },
  },
} as const;

export const numberQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['number'],
  properties: {
    number: fields.number,
    professional: { ...fields.professional, description: 'Only this professional.' },
  },
} as const;
