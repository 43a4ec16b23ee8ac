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
import type { ImportKind } from '../../gate/store';
import { ImportError, importFile } from '../../store/csv-import';
import { parseCategories, parseDay, parseInstant, parseNumber, parseText } from '../args';
import { loadCliConfig, requireProfessional, withRuntime } from '../context';
import { CliError, EXIT_OK } from '../errors';
import type { Io } from '../io';
import { formatImportReport } from '../format';

type Common = { config?: string };

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
  const e164 = parseNumber(number, 'NUMBER');
  const categories = opts.categories === undefined ? [] : parseCategories(opts.categories, '--categories');
  const collectedAt = opts.collectedAt === undefined ? undefined : parseInstant(opts.collectedAt, '--collected-at');
  const validUntil = opts.validUntil === undefined ? undefined : parseInstant(opts.validUntil, '--valid-until');
  const slot = opts.slot === undefined ? undefined : parseInstant(opts.slot, '--slot');
  const source = opts.source === undefined ? undefined : parseText(opts.source, '--source');
  if (collectedAt && validUntil && validUntil.getTime() <= collectedAt.getTime()) {
    throw new CliError(
      `--valid-until: ${opts.validUntil} is not after --collected-at ${opts.collectedAt}; a consent ends after it is collected`,
    );
  }
  const config = loadCliConfig(opts.config);
  const professional = requireProfessional(config, opts.professional);
  return withRuntime(config, async (rt) => {
    const at = collectedAt ?? rt.clock.now();
    await rt.store.addConsent({
      e164,
      professional,
      categories,
      collectedAt: at,
      ...(validUntil ? { validUntil } : {}),
      ...(slot ? { slot } : {}),
      ...(source ? { source } : {}),
      ...(opts.automated ? { automated: true } : {}),
    });
    const scope = categories.length ? `categories ${categories.join(',')}` : 'every category';
    io.out(`consent recorded: ${e164} → ${professional} (${scope}), collected ${at.toISOString()}\n`);
    return EXIT_OK;
  });
}

export type WithdrawOptions = Common & { professional: string; at?: string };

export async function consentWithdraw(number: string, opts: WithdrawOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const when = opts.at === undefined ? undefined : parseInstant(opts.at, '--at');
  const config = loadCliConfig(opts.config);
  const professional = requireProfessional(config, opts.professional);
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
  const e164 = parseNumber(number, 'NUMBER');
  const categories = parseCategories(opts.categories, '--categories');
  const start = opts.start === undefined ? undefined : parseInstant(opts.start, '--start');
  const end = opts.end === undefined ? undefined : parseInstant(opts.end, '--end');
  if (start && end && end.getTime() <= start.getTime()) {
    throw new CliError(`--end: ${opts.end} is not after --start ${opts.start}; a contract ends after it starts`);
  }
  const config = loadCliConfig(opts.config);
  const professional = requireProfessional(config, opts.professional);
  return withRuntime(config, async (rt) => {
    const from = start ?? rt.clock.now();
    await rt.store.addContract({ e164, professional, categories, start: from, ...(end ? { end } : {}) });
    const until = end ? `until ${end.toISOString()}` : 'ongoing';
    io.out(
      `contract recorded: ${e164} ↔ ${professional} (${categories.join(',')}), from ${from.toISOString()}, ${until}\n`,
    );
    return EXIT_OK;
  });
}

export type DncAddOptions = Common & { professional?: string; reason?: string };

export async function dncAdd(number: string, opts: DncAddOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const reason = opts.reason === undefined ? undefined : parseText(opts.reason, '--reason');
  const config = loadCliConfig(opts.config);
  const professional = opts.professional === undefined ? undefined : requireProfessional(config, opts.professional);
  return withRuntime(config, async (rt) => {
    const addedAt = rt.clock.now();
    await rt.store.addDnc({ e164, addedAt, ...(professional ? { professional } : {}), ...(reason ? { reason } : {}) });
    io.out(`do-not-call recorded: ${e164} for ${professional ?? 'every professional'}\n`);
    return EXIT_OK;
  });
}

export type RefusalAddOptions = Common & { professional: string; at?: string };

export async function refusalAdd(number: string, opts: RefusalAddOptions, io: Io): Promise<number> {
  const e164 = parseNumber(number, 'NUMBER');
  const when = opts.at === undefined ? undefined : parseInstant(opts.at, '--at');
  const config = loadCliConfig(opts.config);
  const professional = requireProfessional(config, opts.professional);
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
      `--as-of: ${opts.asOf} is after today (${today.toISOString().slice(0, 10)}); give the date the list was downloaded`,
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
      `${kind} import of ${file} rejected as a whole, nothing written: ${why} [CG_ERR_IMPORT]`,
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
    throw new CliError(`FILE: cannot read '${file}'; check the path and its permissions`);
  }
  if (!statSync(file).isFile()) throw new CliError(`FILE: '${file}' is not a file`);
}
