/**
 * Asking the gate: POST /v1/check (dry run), POST /v1/attempts (check and record) and POST
 * /v1/originate (check, then place the call through the PBX's gated path). The attempt is built as
 * `callgate check` builds it, and the answer is the decision exactly as `callgate check --json`
 * prints it (core's decisionToJson).
 *
 * Originate: the API's own check is a dry run (it is audited, source "api", no attempt counted).
 * Only an allowed call is handed to the PBX, always into its gated path, where the PBX's gate decides
 * the call again as it enters (the authoritative decision, which records the attempt, FREQ-1): a
 * blocked originate never reaches the PBX, and two originates racing for a consumer's last attempt
 * cannot both be placed. Recording at the API as well would count every call twice.
 */
import type { FastifyInstance } from 'fastify';
import { decisionJsonText, decisionToJson } from '../core/decision-json';
import { quoteValue } from '../core/quote';
import type { CallAttempt, Decision } from '../core/types';
import type { OriginateResult, PbxAdapter } from '../gate/service';
import { ApiError } from './errors';
import { callerIdField, campaignField, dialledField, instantField, postalCodeField, Problems } from './inputs';
import { attemptBody, errorResponses, fields } from './schemas';
import { sendJson, sendJsonText, type RouteContext } from './server';

type AttemptBody = { to: string; callerId: string; campaign?: string; at?: string; postalCode?: string };

type OriginateBody = Omit<AttemptBody, 'at'> & {
  connect: { context: string; extension: string };
  pbx?: 'asterisk' | 'freeswitch';
  timeoutSec?: number;
};

/** Dialplan names the PBXs accept in a dial string and an originate without quoting. */
const DIALPLAN_NAME = /^[A-Za-z0-9_+*#.-]{1,80}$/;

export function decideRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { config, gate, clock } = ctx;

  /**
   * The decision as `callgate check --json` prints it: core's decisionToJson and, like the command,
   * a `clock` field when the configured clock (not the system's) chose the instant.
   */
  const asCheckPrints = (d: Decision, atGiven: boolean) => {
    const j = decisionToJson(d);
    return !atGiven && config.clock.mode !== 'system' ? { ...j, clock: clock.describe } : j;
  };
  /** The text of asCheckPrints(d, atGiven), built without the object (decisionJsonText: the same bytes). */
  const asCheckPrintsText = (d: Decision, atGiven: boolean): string =>
    decisionJsonText(d, !atGiven && config.clock.mode !== 'system' ? clock.describe : undefined);

  /** The attempt of a request, every field checked first (a 400 lists every problem). */
  function attemptOf(b: AttemptBody, p: Problems): CallAttempt {
    const to = dialledField(p, 'to', b.to);
    const callerId = callerIdField(p, 'callerId', b.callerId);
    const at = instantField(p, 'at', b.at);
    const postalCode = postalCodeField(p, 'postalCode', b.postalCode);
    const campaign = campaignField(p, 'campaign', config, b.campaign);
    p.done();
    return {
      to: to as string,
      callerId: callerId as CallAttempt['callerId'],
      at: at ?? clock.now(),
      ...(campaign.id !== undefined ? { campaignId: campaign.id } : {}),
      ...(postalCode !== undefined ? { contact: { postalCode } } : {}),
      source: { pbx: 'api' },
    };
  }

  const decision = {
    description: 'The decision (a blocked call is a decision too, verdict "block").',
    $ref: 'Decision#',
  };

  app.post(
    '/v1/check',
    {
      config: { collect: true },
      schema: {
        summary: 'Dry run: what the gate decides for this call now, without recording an attempt.',
        description:
          'The decision is audited like every decision (it appears in GET /v1/decisions), but no attempt is counted: use POST /v1/attempts before placing a call.',
        tags: ['decide'],
        body: attemptBody,
        response: { 200: decision, ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body as AttemptBody;
      const d = await gate.decide(attemptOf(b, Problems.of(req, 'body')), { record: false });
      return sendJsonText(reply, 200, asCheckPrintsText(d, b.at !== undefined));
    },
  );

  app.post(
    '/v1/attempts',
    {
      config: { collect: true },
      schema: {
        summary: 'Check and record: may I place this call now? An allowed call counts as an attempt (FREQ-1).',
        description:
          'Ask just before dialling. verdict "allow": dial (the attempt is recorded, atomically with the frequency check). verdict "block": do not dial; each reason says why, and reasons[].retryAfter, when present, the next instant that rule lets the call through.',
        tags: ['decide'],
        body: attemptBody,
        response: { 200: decision, ...errorResponses },
      },
    },
    async (req, reply) => {
      const b = req.body as AttemptBody;
      const d = await gate.decide(attemptOf(b, Problems.of(req, 'body')), { record: true });
      return sendJsonText(reply, 200, asCheckPrintsText(d, b.at !== undefined));
    },
  );

  app.post(
    '/v1/originate',
    {
      config: { collect: true },
      schema: {
        summary: 'Check, and only if allowed, have the PBX place the call through its gated path.',
        description:
          'The check here is a dry run; the PBX gate decides the call again as it enters the gated path and records the attempt there (so it is counted once). A blocked call is answered with originated: false and never reaches the PBX.',
        tags: ['decide'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['to', 'callerId', 'connect'],
          properties: {
            to: fields.to,
            callerId: fields.callerId,
            campaign: fields.campaign,
            postalCode: fields.postalCode,
            connect: {
              type: 'object',
              additionalProperties: false,
              required: ['context', 'extension'],
              description:
                'Where the call goes once the callee answers (an agent, a queue): a dialplan context and extension.',
              properties: {
                context: { type: 'string', minLength: 1, maxLength: 80, example: 'agents' },
                extension: { type: 'string', minLength: 1, maxLength: 80, example: '1001' },
              },
            },
            pbx: {
              type: 'string',
              enum: ['asterisk', 'freeswitch'],
              description: 'Which PBX places the call (when both are configured; default: the first that can).',
            },
            timeoutSec: {
              type: 'integer',
              minimum: 1,
              maximum: 300,
              description: 'Seconds the callee may ring (default 30).',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['decision', 'originated'],
            properties: {
              decision: { $ref: 'Decision#' },
              originated: { type: 'boolean', description: 'false: blocked, nothing was sent to the PBX.' },
              pbx: { type: 'string', enum: ['asterisk', 'freeswitch'] },
              channelId: {
                type: 'string',
                description: 'The originated channel (ARI channel id / FreeSWITCH Unique-ID).',
              },
              gatedChannelId: {
                type: 'string',
                description:
                  'Asterisk: the Local ;2 channel that runs the gated path (the PBX decision names it in source.channelId).',
              },
            },
          },
          ...errorResponses,
          502: { description: 'The PBX refused the originate; no call was placed.', $ref: 'ErrorBody#' },
          503: { description: 'No PBX can originate right now; nothing was decided or placed.', $ref: 'ErrorBody#' },
        },
      },
    },
    async (req, reply) => {
      const b = req.body as OriginateBody;
      const p = Problems.of(req, 'body');
      for (const f of ['context', 'extension'] as const)
        if (!p.has(`connect.${f}`) && !DIALPLAN_NAME.test(b.connect[f]))
          p.add(
            `connect.${f}`,
            `${quoteValue(b.connect[f])} is not a dialplan name: letters, digits and _ + * # . - only (at most 80)`,
          );
      const chosen = originator(ctx.adapters, b.pbx, p);
      const attempt = attemptOf(b, p); // every problem of the request, the PBX's included
      if (chosen === undefined)
        throw new ApiError(
          503,
          'CG_ERR_PBX_ORIGINATE',
          ctx.adapters.length === 0
            ? 'no PBX is configured on this gate (asterisk: or freeswitch: in callgate.yaml): nothing was decided or placed'
            : 'no configured PBX can originate (FreeSWITCH originates need freeswitch.inbound): nothing was decided or placed',
        );
      const adapter = chosen;
      if (adapter.status && !adapter.status().connected)
        throw new ApiError(
          503,
          'CG_ERR_PBX_ORIGINATE',
          `${adapter.name} is not connected: no call was decided or placed; GET /readyz says when it is back`,
        );
      const d: Decision = await gate.decide(attempt, { record: false });
      if (d.verdict === 'block') return sendJson(reply, 200, { decision: asCheckPrints(d, false), originated: false });
      let placed: OriginateResult;
      try {
        placed = await adapter.originate!({
          to: d.callee!.e164,
          callerId: d.callerId.e164 ?? d.callerId.number,
          ...(attempt.campaignId !== undefined ? { campaign: attempt.campaignId } : {}),
          ...(attempt.contact?.postalCode !== undefined ? { postalCode: attempt.contact.postalCode } : {}),
          connect: b.connect,
          timeoutSec: b.timeoutSec ?? 30,
        });
      } catch (e) {
        ctx.logger.warn(
          { code: 'CG_ERR_PBX_ORIGINATE', pbx: adapter.name, decisionId: d.id, err: e },
          'originate refused by the PBX',
        );
        throw new ApiError(
          502,
          'CG_ERR_PBX_ORIGINATE',
          `the call was allowed (decision ${d.id}) but ${adapter.name} did not place it: ${e instanceof Error ? e.message : String(e)}`,
          undefined,
          { cause: e },
        );
      }
      return sendJson(reply, 200, {
        decision: asCheckPrints(d, false),
        originated: true,
        pbx: adapter.name,
        channelId: placed.channelId,
        ...(placed.gatedChannelId !== undefined ? { gatedChannelId: placed.gatedChannelId } : {}),
      });
    },
  );
}

/**
 * The PBX that places an originate: the one asked for (a problem of the request when it cannot), else
 * the first configured one that can (undefined when none can).
 */
function originator(adapters: readonly PbxAdapter[], wanted: string | undefined, p: Problems): PbxAdapter | undefined {
  const able = adapters.filter((a) => typeof a.originate === 'function');
  if (wanted === undefined) return able[0];
  const a = able.find((x) => x.name === wanted);
  if (!a)
    p.add(
      'pbx',
      `${wanted} is not configured (or cannot originate) on this gate; configured: ${adapters.map((x) => x.name).join(', ') || 'none'}`,
    );
  return a;
}
