/**
 * The data commands: one consent, contract, do-not-call entry or refusal at a
 * time, and the bulk CSV imports. Numbers are normalized to E.164 with the
 * core before they reach the store (FR-RULES.md section 7: overseas prefixes).
 *
 * Legal sources: consent L. 223-1 al. 1 and R. 223-1..3 (C. consom.);
 * contract exception L. 223-1 al. 4; internal do-not-call RGPD art. 21;
 * refusals R. 223-3 / D. 223-9; opposition list L. 223-1 (2020 wording).
 */
import { accessSync, constants, existsSync, rmSync, statSync } from 'node:fs';
import type { Config } from '../../config/schema';
import { quoteValue } from '../../core/quote';
import type { ImportKind } from '../../gate/store';
import { ImportError, importFile } from '../../store/csv-import';
import { CLI_ROWS, consentOf, contractOf, dncOf, professionalId, type RowContext } from '../../store/rows';
import { asUsage, parseDay, parseInstant, parseNumber } from '../args';
import { loadCliConfig, withRuntime } from '../context';
import { CliError, EXIT_OK } from '../errors';
import type { Io } from '../io';
import { formatImportReport } from '../format';

type Common = { config?: string };

/** The importer's row checks (src/store/rows.ts) with the command line's names and the config's professionals. */
function rowContext(config: Config): RowContext {
  return { ...CLI_ROWS, professionals: config.professionals.map((p) => p.id) };
}

/**
 * "Now" per the configured clock, read before the store is opened so that the checks
 * (a consent ends after it is collected…) judge the very instant that is recorded.
 */
function clockNow(config: Config): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with the runtime, after the arguments
  const { clockFromConfig } = require('../../main') as typeof import('../../main');
  return clockFromConfig(config.clock).now().getTime();
}

export type ConsentAddOptions = Common & {
  professional: string;
  categories?: string;
  collectedAt?: string;
  validUntil?: string;
  slot?: string;
  source?: string;
  automated?: boolean;
};

export async function consentAdd(number: string, opts: ConsentAddOptions, io: Io): Promise<number> {
  const config = loadCliConfig(opts.config);
  const now = clockNow(config);
  const c = asUsage(() =>
    consentOf(
      rowContext(config),
      {
        number,
        professional: opts.professional,
        categories: opts.categories,
        collectedAt: opts.collectedAt,
        validUntil: opts.validUntil,
        slot: opts.slot,
        source: opts.source,
        automated: opts.automated ? 'true' : undefined,
      },
      now,
    ),
  );
  return withRuntime(config, async (rt) => {
    await rt.store.addConsent({
      e164: c.e164,
      professional: c.professional,
      categories: c.categories,
      collectedAt: new Date(c.collectedAt),
      ...(c.validUntil !== null ? { validUntil: new Date(c.validUntil) } : {}),
      ...(c.slot !== null ? { slot: new Date(c.slot) } : {}),
      ...(c.source !== null ? { source: c.source } : {}),
      ...(c.automated ? { automated: true } : {}),
    });
    const scope = c.categories.length ? `categories ${c.categories.join(',')}` : 'every category';
    io.out(
      `consent recorded: ${c.e164} → ${c.professional} (${scope}), collected ${new Date(c.collectedAt).toISOString()}\n`,
    );
    return EXIT_OK;
  });
}

export type WithdrawOptions = Common & { professional: string; at?: string };

export async function consentWithdraw(number: string, opts: WithdrawOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const when = opts.at === undefined ? undefined : parseInstant(opts.at, '--at');
  const config = loadCliConfig(opts.config);
  const professional = asUsage(() => professionalId(rowContext(config), opts.professional));
  return withRuntime(config, async (rt) => {
    const at = when ?? rt.clock.now();
    const n = await rt.store.withdrawConsent(e164, professional, at);
    io.out(
      n > 0
        ? `consent withdrawn: ${e164} → ${professional}, ${n} consent(s) at ${at.toISOString()}\n`
        : `no active consent of ${e164} for ${professional}: nothing to withdraw\n`,
    );
    return EXIT_OK;
  });
}

export type ContractAddOptions = Common & { professional: string; categories: string; start?: string; end?: string };

export async function contractAdd(number: string, opts: ContractAddOptions, io: Io): Promise<number> {
  const config = loadCliConfig(opts.config);
  const now = clockNow(config);
  const k = asUsage(() =>
    contractOf(
      rowContext(config),
      { number, professional: opts.professional, categories: opts.categories, start: opts.start, end: opts.end },
      now,
    ),
  );
  return withRuntime(config, async (rt) => {
    const from = new Date(k.start);
    const end = k.end === null ? undefined : new Date(k.end);
    await rt.store.addContract({
      e164: k.e164,
      professional: k.professional,
      categories: k.categories,
      start: from,
      ...(end ? { end } : {}),
    });
    const until = end ? `until ${end.toISOString()}` : 'ongoing';
    io.out(
      `contract recorded: ${k.e164} ↔ ${k.professional} (${k.categories.join(',')}), from ${from.toISOString()}, ${until}\n`,
    );
    return EXIT_OK;
  });
}

export type DncAddOptions = Common & { professional?: string; reason?: string };

export async function dncAdd(number: string, opts: DncAddOptions, io: Io): Promise<number> {
  const config = loadCliConfig(opts.config);
  const d = asUsage(() => dncOf(rowContext(config), { number, professional: opts.professional, reason: opts.reason }));
  return withRuntime(config, async (rt) => {
    const addedAt = rt.clock.now();
    await rt.store.addDnc({
      e164: d.e164,
      addedAt,
      ...(d.professional !== null ? { professional: d.professional } : {}),
      ...(d.reason !== null ? { reason: d.reason } : {}),
    });
    io.out(`do-not-call recorded: ${d.e164} for ${d.professional ?? 'every professional'}\n`);
    return EXIT_OK;
  });
}

export type RefusalAddOptions = Common & { professional: string; at?: string };

export async function refusalAdd(number: string, opts: RefusalAddOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const when = opts.at === undefined ? undefined : parseInstant(opts.at, '--at');
  const config = loadCliConfig(opts.config);
  const professional = asUsage(() => professionalId(rowContext(config), opts.professional));
  return withRuntime(config, async (rt) => {
    const at = when ?? rt.clock.now();
    await rt.store.addRefusal(e164, professional, at);
    io.out(`refusal recorded: ${e164} refused ${professional} at ${at.toISOString()}\n`);
    return EXIT_OK;
  });
}

export type ImportOptions = Common & { asOf?: string };

/** Bulk import: 0 when the file was imported (even with rejected lines), 2 when rejected as a whole. */
export async function importCommand(kind: ImportKind, file: string, opts: ImportOptions, io: Io): Promise<number> {
  const asOf = opts.asOf === undefined ? undefined : parseDay(opts.asOf, '--as-of');
  if (kind === 'opposition' && asOf === undefined) {
    throw new CliError(
      '--as-of: required for the opposition list (the date of the list, YYYY-MM-DD), e.g. --as-of 2026-05-04',
    );
  }
  readableFile(file);
  const config = loadCliConfig(opts.config);
  // A list dated in the future would keep OPP-2 (list older than 30 days) quiet for as long: a typo, refused.
  // Judged against the machine's date, not the configured clock, so a fixed or shifted clock (tests, replays)
  // can still load a list of any real date.
  const today = new Date();
  if (asOf !== undefined && asOf.getTime() > today.getTime()) {
    throw new CliError(
      `--as-of: ${quoteValue(opts.asOf)} is after today (${today.toISOString().slice(0, 10)}); give the date the list was downloaded`,
    );
  }
  // A database this import creates is removed again if the file is rejected as a whole.
  const dbFile = config.store.driver === 'sqlite' ? config.store.path : undefined;
  const dbExisted = dbFile === undefined || existsSync(dbFile);
  try {
    return await withRuntime(config, async (rt) => {
      const report = await importFile(rt.store, kind, file, {
        now: rt.clock.now(),
        // a line naming a professional the config does not declare would be stored and never match a call
        professionals: config.professionals.map((p) => p.id),
        ...(asOf ? { asOf } : {}),
      });
      io.out(formatImportReport(kind, file, report));
      return EXIT_OK;
    });
  } catch (e) {
    if (!(e instanceof ImportError)) throw e;
    if (!dbExisted && dbFile !== undefined)
      for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
    const why = e.message.replace(/^CG_ERR_IMPORT: /, '');
    const first = e.report?.errors[0];
    // The importer's message already quotes the first problems; list them all only when it does not.
    const lines =
      e.report && first && !why.includes(`line ${first.line}:`)
        ? e.report.errors.map((x) => `  line ${x.line}: ${x.message}`)
        : [];
    throw new CliError(
      `${kind} import of ${quoteValue(file, 240)} rejected as a whole, nothing written: ${why} [CG_ERR_IMPORT]`,
      2,
      lines,
    );
  }
}

/** Checked before the store opens, so a typo in the path writes nothing. */
function readableFile(file: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new CliError(`FILE: cannot read ${quoteValue(file)}; check the path and its permissions`);
  }
  if (!statSync(file).isFile()) throw new CliError(`FILE: ${quoteValue(file)} is not a file`);
}
