/**
 * The schema of callgate.yaml: every setting, its default and its unit.
 * config/callgate.example.yaml shows the same keys, annotated.
 *
 * Unknown keys are errors everywhere (a typo must not silently fall back to a
 * default). Cross-references (a campaign's professional, unique ids, the
 * default campaign) are checked in ./checks.ts so that every problem is listed
 * at once, not only the first.
 *
 * Legal sources of the policy knobs: FR-RULES.md (each key cites its rule).
 */
import { z } from 'zod';
import type { Campaign, Policy, Professional } from '../core/types';
import { isJudgeableInstant, MAX_YEAR, MIN_YEAR, parseCalendarDate, parseInstant } from '../core/instant';
import { DEFAULT_POLICY, SECTORS } from '../core/types';
import { apiConfigSchema, type ApiConfig } from '../api/config';
import { asteriskConfigSchema, type AsteriskConfig } from '../pbx/asterisk/config';
import { freeswitchConfigSchema, type FreeswitchConfig } from '../pbx/freeswitch/config';
import { checkCallerId } from './caller-id';
import { removedKey } from './removed';
import { PG_DEFAULT_POOL } from '../store/postgres/defaults';
import { urlProblem } from '../store/postgres/url';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type Config = {
  /**
   * sqlite (default; path relative to the process's working directory), postgres (one database
   * shared by several gates: url, or CALLGATE_DATABASE_URL) or memory (tests, demos).
   */
  store:
    | { driver: 'sqlite'; path: string; durability: StoreDurability }
    | { driver: 'postgres'; url: string; poolSize: number; statementTimeoutMs?: number }
    | { driver: 'memory' };
  policy: Policy;
  professionals: Professional[];
  campaigns: Campaign[];
  /** Used for calls with no campaign id or an unknown one (SCOPE-2 policy: consumer prospecting). */
  defaultCampaign: Campaign;
  gate: { deadlineMs: number };
  /** `callgate purge`: decisions and ended contracts older than `days` go; consents 3 years after collection at the earliest (R. 223-2). */
  retention: { days: number };
  clock: { mode: 'system' } | { mode: 'fixed'; at: Date } | { mode: 'shifted'; start: Date };
  log: {
    level: LogLevel;
    maskNumbers: boolean;
    /**
     * Which decisions get their info line: 'blocks' (blocked calls, and calls that would be blocked
     * in monitor mode), 'all', or 'none'. Every decision is in the audit whatever this says.
     */
    decisions: LogDecisions;
  };
  asterisk?: AsteriskConfig;
  freeswitch?: FreeswitchConfig;
  /** The admin HTTP API (src/api/): served by `callgate start` when present. */
  api?: ApiConfig;
};

/** Values of log.decisions. */
export const LOG_DECISIONS = ['blocks', 'all', 'none'] as const;
export type LogDecisions = (typeof LOG_DECISIONS)[number];

/**
 * Values of store.durability (SQLite in WAL mode): 'full' (synchronous=FULL, the default) syncs the
 * WAL at every COMMIT, so a decision the PBX was told survives a power cut; 'normal'
 * (synchronous=NORMAL) survives a crash of callgate but may lose the last commits on a power cut
 * or a kernel crash. See README.md, "Durability".
 */
export const STORE_DURABILITY = ['normal', 'full'] as const;
export type StoreDurability = (typeof STORE_DURABILITY)[number];

export const DEFAULT_SQLITE_PATH = './data/callgate.db';
export const DEFAULT_DEADLINE_MS = 500;
/** retention.days: 3 years, the time consent proofs are kept (R. 223-2). */
export const DEFAULT_RETENTION_DAYS = 1095;
export const DEFAULT_CAMPAIGN_ID = 'default';

/**
 * An instant, read by core's one date parser (src/core/instant.ts), the same as the command
 * line's and the importer's: '2026-11-30T10:00:00+01:00', '…Z', '2026-11-30T10:00' (Paris time),
 * '2026-11-30T10:00[America/Martinique]'. A YAML date the parser refuses is a config problem.
 */
export const instant = z.union([z.date(), z.string()]).transform((v, ctx) => {
  if (v instanceof Date) {
    if (isJudgeableInstant(v)) return v;
    ctx.addIssue({ code: 'custom', message: `expected an instant in the years ${MIN_YEAR}–${MAX_YEAR}` });
    return z.NEVER;
  }
  const r = parseInstant(v);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.value;
});

/** A calendar date YYYY-MM-DD (Europe/Paris), by the same parser. */
const isoDate = z.string().superRefine((v, ctx) => {
  const r = parseCalendarDate(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: r.error });
});

const days = z.number().int().min(0);

/** Every key of core Policy, each optional with DEFAULT_POLICY's value. */
export const policySchema = z
  .object({
    /** Section 0: 'auto' picks the regime by the attempt's date. */
    regime: z.enum(['auto', 'opposition', 'consent']).default(DEFAULT_POLICY.regime),
    /** Section 0: first Europe/Paris date of the consent regime (loi 2025-594). */
    consentRegimeStart: isoDate.default(DEFAULT_POLICY.consentRegimeStart),
    monitorOnly: z.boolean().default(DEFAULT_POLICY.monitorOnly),
    /** CID-3 (arrêté du 5 juillet 2016): also forbid shared-cost 081x/082x. */
    blockSharedCostCallerId: z.boolean().default(DEFAULT_POLICY.blockSharedCostCallerId),
    /** REF-1 (R. 223-3). */
    refusalIsPermanentInConsentRegime: z.boolean().default(DEFAULT_POLICY.refusalIsPermanentInConsentRegime),
    /** REF-1 (D. 223-9, 2022), calendar days. */
    refusalCooldownDays: days.default(DEFAULT_POLICY.refusalCooldownDays),
    /** OPP-2 (L. 223-1 al. 4), days. */
    oppositionMaxAgeDays: z.number().int().min(1).default(DEFAULT_POLICY.oppositionMaxAgeDays),
    oppositionStaleBlocks: z.boolean().default(DEFAULT_POLICY.oppositionStaleBlocks),
    /** CONS-3 (R. 223-1), days, never above 365. */
    consentValidityDays: z.number().int().min(1).max(365).default(DEFAULT_POLICY.consentValidityDays),
    /** TIME-4 (L. 223-1 al. 6), minutes. */
    slotToleranceMinutes: z.number().int().min(0).max(120).default(DEFAULT_POLICY.slotToleranceMinutes),
    /** Section 5: Alsace-Moselle (C. trav. L. 3134-13) and overseas (loi 83-550) local days. */
    localHolidays: z.boolean().default(DEFAULT_POLICY.localHolidays),
    localHolidaysMode: z.enum(['by-location', 'strict']).default(DEFAULT_POLICY.localHolidaysMode),
    /** FREQ-1 (D. 223-9 al. 3): attempts per window. */
    maxAttempts: z.number().int().min(1).default(DEFAULT_POLICY.maxAttempts),
    /** FREQ-1: rolling window, calendar days. */
    windowDays: z.number().int().min(1).default(DEFAULT_POLICY.windowDays),
    /** FREQ-2. */
    releaseNetworkFailures: z.boolean().default(DEFAULT_POLICY.releaseNetworkFailures),
    /** AUTO-1 (CPCE L. 34-5). */
    robocallNeedsConsent: z.boolean().default(DEFAULT_POLICY.robocallNeedsConsent),
    /** SIL-1. */
    silentCallsCount: z.boolean().default(DEFAULT_POLICY.silentCallsCount),
    /** SIL-2: rate 0..1, null = off. */
    abandonRateThreshold: z.number().min(0).max(1).nullable().default(DEFAULT_POLICY.abandonRateThreshold),
    /** GATE-1. */
    failMode: z.enum(['closed', 'open']).default(DEFAULT_POLICY.failMode),
  })
  .strict();

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, {
  message: 'expected an id of letters, digits, . _ : - (at most 64 characters)',
});

export const professionalSchema = z
  .object({
    id,
    /** CID-6: numbers this professional may present; [] = no declared list. Normalized to E.164. */
    callerIds: z.array(z.string().transform(checkCallerId)).default([]),
  })
  .strict();

const campaignFields = {
  purpose: z.enum(['prospecting', 'press', 'service', 'survey', 'charity', 'collection']),
  audience: z.enum(['consumer', 'professional', 'unknown']),
  dialing: z.enum(['manual', 'automated', 'prerecorded']),
  sector: z.enum(SECTORS),
  categories: z.array(z.string().min(1)),
};

/** A campaign. purpose/audience default to the strictest reading (SCOPE-2); dialing must be said. */
export const campaignSchema = z
  .object({
    id,
    professional: id,
    purpose: campaignFields.purpose.default('prospecting'),
    audience: campaignFields.audience.default('consumer'),
    dialing: campaignFields.dialing,
    sector: campaignFields.sector.default('other'),
    categories: campaignFields.categories.default([]),
  })
  .strict();

/**
 * The default campaign: the id of a configured campaign, or an inline one.
 * Inline, everything is optional: consumer prospecting (SCOPE-2 policy), dialing
 * 'automated' (the strictest caller-ID rules, CID-5/AUTO-1), professional = the
 * only configured one.
 */
export const defaultCampaignSchema = z.union([
  id,
  z
    .object({
      id: id.default(DEFAULT_CAMPAIGN_ID),
      professional: id.optional(),
      purpose: campaignFields.purpose.default('prospecting'),
      audience: campaignFields.audience.default('consumer'),
      dialing: campaignFields.dialing.default('automated'),
      sector: campaignFields.sector.default('other'),
      categories: campaignFields.categories.default([]),
    })
    .strict(),
]);

export const storeSchema = z.discriminatedUnion('driver', [
  z
    .object({
      driver: z.literal('sqlite'),
      path: z.string().min(1).default(DEFAULT_SQLITE_PATH),
      durability: z.enum(STORE_DURABILITY).default('full'),
      walBuffer: removedKey(
        'removed: the native WAL write buffer it turned on could report a COMMIT as done when its write had failed (issue 11), so the store always writes through SQLite itself now; delete this line (store.durability chooses what a COMMIT survives)',
      ),
    })
    .strict(),
  z
    .object({
      driver: z.literal('postgres'),
      // postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE; when absent, CALLGATE_DATABASE_URL (load.ts).
      // Its text is never echoed in a problem (it may hold a password).
      url: z
        .string()
        .optional()
        .transform((v, ctx) => {
          const problem =
            v === undefined ? 'required: the PostgreSQL URL (or set CALLGATE_DATABASE_URL)' : urlProblem(v);
          if (problem === undefined) return v as string;
          ctx.addIssue({ code: 'custom', message: problem });
          return z.NEVER;
        }),
      /** Most connections one gate opens. */
      poolSize: z.number().int().min(1).max(100).default(PG_DEFAULT_POOL),
      /** statement_timeout, ms; default half of gate.deadlineMs; must stay below it. */
      statementTimeoutMs: z.number().int().min(1).max(60_000).optional(),
    })
    .strict(),
  z.object({ driver: z.literal('memory') }).strict(),
]);

export const clockSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('system') }).strict(),
  z.object({ mode: z.literal('fixed'), at: instant }).strict(),
  z.object({ mode: z.literal('shifted'), start: instant }).strict(),
]);

export const configSchema = z
  .object({
    store: storeSchema.prefault({ driver: 'sqlite' }),
    policy: policySchema.prefault({}),
    professionals: z.array(professionalSchema).min(1, { message: 'declare at least one professional' }),
    campaigns: z.array(campaignSchema).default([]),
    defaultCampaign: defaultCampaignSchema.prefault({}),
    gate: z
      .object({
        /** GATE-1: time the gate may take for one decision before the fail mode decides, ms. */
        deadlineMs: z.number().int().min(1).max(60_000).default(DEFAULT_DEADLINE_MS),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /** Days of history `callgate purge` keeps (decisions, attempts, outcomes, ended contracts); at least policy.windowDays. */
        days: z.number().int().min(1).max(36_500).default(DEFAULT_RETENTION_DAYS),
      })
      .strict()
      .prefault({}),
    clock: clockSchema.prefault({ mode: 'system' }),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        maskNumbers: z.boolean().default(true),
        decisions: z.enum(LOG_DECISIONS).default('blocks'),
      })
      .strict()
      .prefault({}),
    asterisk: asteriskConfigSchema.optional(),
    freeswitch: freeswitchConfigSchema.optional(),
    api: apiConfigSchema.optional(),
  })
  .strict();

export type RawConfig = z.output<typeof configSchema>;
