/**
 * `callgate store copy --to OTHER.yaml`: copies everything the configured store holds (consents,
 * contracts, do-not-call entries, refusals, the opposition list, decisions with their attempts and
 * outcomes) into the store of another configuration, so that a site that outgrows its SQLite file
 * moves to PostgreSQL with its history: the frequency window (FREQ-1) keeps counting the attempts
 * made before the move, and the audit (FR-RULES section 9) and the consent proofs (R. 223-2) move
 * with it. Idempotent: a re-run skips what is already there and brings what changed since.
 */
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';
import type { CopyBatch, CopyResult, Store } from '../../gate/store';
import { cliLogger, configPath, loadCliConfig } from '../context';
import { EXIT_OK, usage } from '../errors';
import type { Io } from '../io';

export type StoreCopyOptions = { to?: string; config?: string };

/** Where a store lives, to refuse copying a store into itself (a PostgreSQL URL without its password). */
function identity(s: ReturnType<typeof loadCliConfig>['store']): string {
  if (s.driver === 'sqlite') return `sqlite:${nodePath.resolve(s.path)}`;
  if (s.driver === 'postgres') {
    const u = new URL(s.url);
    return `postgres:${u.hostname}:${u.port || '5432'}${u.pathname}`;
  }
  return 'memory';
}

export async function storeCopy(opts: StoreCopyOptions, io: Io): Promise<number> {
  if (opts.to === undefined || opts.to.trim() === '')
    throw usage('--to: give the configuration file of the store to copy into, e.g. --to config/postgres.yaml');
  const from = loadCliConfig(opts.config);
  const to = loadCliConfig(opts.to);
  if (identity(from.store) === identity(to.store))
    throw usage(
      `--to ${opts.to} names the same store as ${configPath(opts.config)}; copy into another store (e.g. a PostgreSQL database)`,
    );
  if (from.store.driver === 'memory' || to.store.driver === 'memory')
    throw usage('store copy: a memory store holds nothing between two commands; copy between SQLite and PostgreSQL');
  if (from.store.driver === 'sqlite' && !existsSync(from.store.path))
    throw usage(`no database at ${from.store.path} (store.path of ${configPath(opts.config)}): nothing to copy`);
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { openStore } = require('../../store') as typeof import('../../store');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const logger = cliLogger(from);
  const open = (c: typeof from): Store =>
    openStore(
      c.store,
      {
        checkpoint: 'sqlite',
        onMigration: ({ from: a, to: b, name }) =>
          logger.warn(
            { from: a, to: b, migration: name },
            `upgrading the database schema from version ${a} to ${b} (${name})`,
          ),
      },
      { deadlineMs: c.gate.deadlineMs },
    );
  const source = open(from);
  let target: Store | undefined;
  try {
    await source.ready?.();
    target = open(to);
    await target.ready?.();
    const totals = new Map<CopyBatch['kind'], CopyResult>();
    for await (const batch of source.exportAll(5000)) {
      const r = await target.copyIn(batch);
      const t = totals.get(batch.kind) ?? { inserted: 0, updated: 0, skipped: 0 };
      totals.set(batch.kind, {
        inserted: t.inserted + r.inserted,
        updated: t.updated + r.updated,
        skipped: t.skipped + r.skipped,
      });
    }
    const names: Record<CopyBatch['kind'], string> = {
      consent: 'consents',
      contract: 'contracts',
      dnc: 'do-not-call entries',
      refusal: 'refusals',
      opposition: 'opposition list numbers',
      decision: 'decisions',
      chainHead: 'audit chain heads',
    };
    const lines = (Object.keys(names) as CopyBatch['kind'][]).map((k) => {
      const t = totals.get(k) ?? { inserted: 0, updated: 0, skipped: 0 };
      return `  ${names[k]}: ${t.inserted} copied, ${t.updated} updated, ${t.skipped} already there`;
    });
    io.out(`copied ${configPath(opts.config)} → ${opts.to}\n${lines.join('\n')}\n`);
    return EXIT_OK;
  } finally {
    await source.close();
    await target?.close();
  }
}
