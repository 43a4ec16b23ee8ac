/**
 * The `callgate` command line, declared with commander. Thin: each action
 * parses its arguments (args.ts), calls the runtime, prints, and returns an
 * exit code. See docs/cli.md for the full reference.
 */
import { Command, Option } from 'commander';
import { printableLines, quoteValue as quote } from '../core/quote';
import { CliError } from './errors';
import type { Io } from './io';

/*
 * Command modules are loaded only when their command runs: `--help` and usage
 * errors load commander alone, one-shot commands never load the PBX adapters
 * (only `start` needs them), and each command pays only for what it uses.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const checkMod = (): typeof import('./commands/check') => require('./commands/check');
const configMod = (): typeof import('./commands/config') => require('./commands/config');
const dataMod = (): typeof import('./commands/data') => require('./commands/data');
const historyMod = (): typeof import('./commands/history') => require('./commands/history');
const storeMod = (): typeof import('./commands/store') => require('./commands/store');
const auditMod = (): typeof import('./commands/audit') => require('./commands/audit');
const purgeMod = (): typeof import('./commands/purge') => require('./commands/purge');
const startMod = (): typeof import('./commands/start') => require('./commands/start');
const demoMod = (): typeof import('./commands/demo') => require('./commands/demo');
/* eslint-enable @typescript-eslint/no-require-imports */

const CONFIG_HELP = 'configuration file (default: $CALLGATE_CONFIG, else ./config/callgate.yaml)';

/** The columns of each import (docs/cli.md, CSV formats), shown after the import's help. */
const CSV_HELP = {
  consent: [
    'a header line naming the columns, in any order:',
    '  required: number, professional, collected_at',
    '  optional: categories (a|b), valid_until, slot, source, withdrawn_at, automated',
  ],
  contract: [
    'a header line naming the columns, in any order:',
    '  required: number, professional, categories (a|b), start',
    '  optional: end (empty = ongoing)',
  ],
  dnc: [
    'a header line naming the columns, in any order:',
    '  required: number',
    '  optional: professional (empty = every professional), reason',
  ],
  opposition: ['one number per line; the header line `number` is optional'],
} as const;
const csvHelp = (kind: keyof typeof CSV_HELP): string =>
  [
    '',
    'CSV file: UTF-8 and comma-separated (a file in another encoding or with semicolons is refused);',
    ...CSV_HELP[kind],
    ...(kind === 'consent' || kind === 'contract' ? ['Dates: ISO-8601; without an offset, Paris time.'] : []),
    ...(kind === 'opposition'
      ? []
      : ['Professional ids must be declared in the config: a line naming another one is rejected.']),
    'Exit 0 when the file is imported (rejected lines listed by number), 2 when refused as a whole.',
    'See docs/cli.md#csv-formats.',
    '',
  ].join('\n');

/** Build the program; `setCode` receives the exit code of the action that ran. */
export function buildProgram(io: Io, setCode: (code: number) => void): Command {
  const program = new Command('callgate')
    .description('Compliance gate for outbound telephone prospecting under French law')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // commander's own errors quote what was typed (`unknown option '--x'`): escaped and bounded
      outputError: (s, write) => write(printableLines(s)),
    })
    .showHelpAfterError('(run with --help for usage)');

  const withConfig = (cmd: Command): Command => cmd.addOption(new Option('--config <file>', CONFIG_HELP));
  const run =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      setCode(await fn(...args));
    };

  withConfig(
    program
      .command('check')
      .description('decide one call attempt; exit 0 allowed, 1 blocked, 2 bad input')
      .requiredOption('--to <number>', 'number dialled (national or E.164)')
      .requiredOption('--caller-id <number>', "number presented, or 'anonymous' for a withheld presentation")
      .option(
        '--at <iso>',
        'instant of the attempt, ISO-8601; without offset = Europe/Paris time (default: now per the configured clock)',
      )
      .option('--campaign <id>', 'campaign id declared in the config (default: the configured default campaign)')
      .option('--postal-code <code>', "the consumer's postal code (time zone and local holidays)")
      .option('--record', 'record the attempt when allowed (counts toward the 4 attempts / 30 days)')
      .option('--json', 'print the Decision as one JSON object'),
  ).action(run((opts) => checkMod().checkCommand(opts, io)));

  const consent = program.command('consent').description('consents to be called (consent regime, L. 223-1)');
  withConfig(
    consent
      .command('add <number>')
      .description('record a consent')
      .requiredOption('--professional <id>', 'professional the consent was given to')
      .option('--categories <list>', 'product categories covered, comma-separated (default: every category)')
      .option('--collected-at <iso>', 'when the consent was collected (default: now)')
      .option('--valid-until <iso>', 'end of validity (default: policy; never more than 365 days after collection)')
      .option('--slot <iso>', 'a precise date and time the consumer agreed to be called at (TIME-4)')
      .option('--source <text>', 'where the proof of consent is kept')
      .option('--automated', 'the consent covers pre-recorded / robot calls (AUTO-1)'),
  ).action(run((n: string, opts) => dataMod().consentAdd(n, opts, io)));
  withConfig(
    consent
      .command('withdraw <number>')
      .description('withdraw every active consent of the number for a professional')
      .requiredOption('--professional <id>', 'professional')
      .option('--at <iso>', 'when it was withdrawn (default: now)'),
  ).action(run((n: string, opts) => dataMod().consentWithdraw(n, opts, io)));
  withConfig(
    consent.command('import <file>').description('import consents from CSV').addHelpText('after', csvHelp('consent')),
  ).action(run((f: string, opts) => dataMod().importCommand('consent', f, opts, io)));

  const contract = program.command('contract').description('ongoing contracts (exception L. 223-1 al. 4, SEC-1)');
  withConfig(
    contract
      .command('add <number>')
      .description('record a contract')
      .requiredOption('--professional <id>', 'professional')
      .requiredOption('--categories <list>', 'product categories of the contract, comma-separated')
      .option('--start <iso>', 'start (default: now)')
      .option('--end <iso>', 'end (default: ongoing)'),
  ).action(run((n: string, opts) => dataMod().contractAdd(n, opts, io)));
  withConfig(
    contract
      .command('import <file>')
      .description('import contracts from CSV')
      .addHelpText('after', csvHelp('contract')),
  ).action(run((f: string, opts) => dataMod().importCommand('contract', f, opts, io)));

  const dnc = program.command('dnc').description('internal do-not-call list (DNC-1)');
  withConfig(
    dnc
      .command('add <number>')
      .description('put a number on the do-not-call list')
      .option('--professional <id>', 'only for this professional (default: every professional)')
      .option('--reason <text>', 'why (complaint, withdrawal, …)'),
  ).action(run((n: string, opts) => dataMod().dncAdd(n, opts, io)));
  withConfig(
    dnc
      .command('import <file>')
      .description('import do-not-call entries from CSV')
      .addHelpText('after', csvHelp('dnc')),
  ).action(run((f: string, opts) => dataMod().importCommand('dnc', f, opts, io)));

  const refusal = program.command('refusal').description('refusals expressed during a call (REF-1)');
  withConfig(
    refusal
      .command('add <number>')
      .description('record a refusal')
      .requiredOption('--professional <id>', 'professional refused')
      .option('--at <iso>', 'when (default: now)'),
  ).action(run((n: string, opts) => dataMod().refusalAdd(n, opts, io)));

  const opposition = program.command('opposition').description('legacy national opposition list (Bloctel, OPP-1)');
  withConfig(
    opposition
      .command('import <file>')
      .description('replace the opposition list with this file')
      .requiredOption('--as-of <date>', 'date of the list, YYYY-MM-DD (not after today)')
      .addHelpText('after', csvHelp('opposition')),
  ).action(run((f: string, opts) => dataMod().importCommand('opposition', f, opts, io)));

  withConfig(
    program
      .command('history <number>')
      .description('attempts, decisions, consents, contracts and do-not-call entries of one number')
      .option('--professional <id>', 'only this professional')
      .option('--json', 'print as one JSON object'),
  ).action(run((n: string, opts) => historyMod().historyCommand(n, opts, io)));

  const audit = program.command('audit').description('the audit trail, for the compliance officer');
  withConfig(
    audit
      .command('export')
      .description(
        'stream the decisions of a period (reasons, legal references, legal basis, outcome) to stdout, oldest first',
      )
      .requiredOption('--from <iso>', 'start of the period (included); without offset = Europe/Paris time')
      .requiredOption('--to <iso>', 'end of the period (excluded)')
      .option('--format <format>', 'csv (default) or jsonl'),
  ).action(run((opts) => auditMod().auditExport(opts, io)));
  withConfig(
    audit
      .command('verify')
      .description(
        'check every audit chain: names the first row edited, deleted, inserted or reordered; exit 0 intact, 1 not (docs/audit-trail.md)',
      )
      .option('--heads', "print each chain's head (one JSON line each) on stdout, to keep somewhere else")
      .option('--against <file>', 'also compare with heads printed earlier by --heads'),
  ).action(run((opts) => auditMod().auditVerify(opts, io)));

  const subject = program.command('subject').description("a consumer's access request");
  withConfig(
    subject
      .command('export <number>')
      .description(
        'everything held about one number as one JSON document (consents with source, contracts, do-not-call, refusals, attempts, decisions)',
      ),
  ).action(run((n: string, opts) => auditMod().subjectExport(n, opts, io)));

  withConfig(
    program
      .command('purge')
      .description(
        'remove what is older than retention.days (consents: 3 years after collection at the earliest); do-not-call, refusals and the opposition list are kept',
      )
      .option('--dry-run', 'only count what would be removed'),
  ).action(run((opts) => purgeMod().purgeCommand(opts, io)));

  const storeCmd = program.command('store').description('the store itself');
  withConfig(
    storeCmd
      .command('copy')
      .description(
        'copy everything the configured store holds (consents, contracts, do-not-call, refusals, opposition list, attempts, decisions) into the store of another configuration; a re-run is harmless',
      )
      .requiredOption(
        '--to <file>',
        'configuration file of the store to copy into (e.g. one with store.driver: postgres)',
      ),
  ).action(run((opts) => storeMod().storeCopy(opts, io)));

  const config = program.command('config').description('configuration');
  withConfig(config.command('check').description('validate the configuration; OK + summary, or every problem')).action(
    run((opts) => configMod().configCheck(opts, io)),
  );

  withConfig(program.command('start').description('run the gate beside the PBX until SIGTERM/SIGINT')).action(
    run((opts) => startMod().startCommand(opts, io)),
  );

  program
    .command('demo')
    .description(
      'a working day of calls through a simulated PBX and the real gate, on a temporary store: each decision as it happens, then a summary',
    )
    .option('--pbx <name>', 'asterisk (ARI simulator, default) or freeswitch (Event Socket simulator)')
    .option('--calls <n>', 'stop after N calls')
    .option('--keep', 'keep the temporary store and its configuration (the path is printed)')
    .option('--api-port <port>', 'port of the admin API and dashboard on 127.0.0.1 (default: any free port)')
    .option('--no-api', 'no admin API and dashboard')
    .option('--hold', 'after the last call, keep the gate and the dashboard running until Ctrl-C')
    .option('--pace <ms>', 'real milliseconds between two calls (default 150)')
    .action(run((opts) => demoMod().demoCommand(opts, io)));

  refuseFlagsAsValues(program);
  return program;
}

/**
 * Every option that takes a value:
 * - refuses one that starts with `--`, naming the option that lacks its value:
 *   `check --to --caller-id 0162…` would give --to the value '--caller-id' and then complain that
 *   --caller-id is missing. (A value that really starts with -- has no use in this command line.)
 * - refuses to be given twice: commander would silently keep the last one, and
 *   `check --to A … --to B` would judge a call to B while the operator reads A.
 * Values are shown escaped and bounded (core's quoteValue).
 */
function refuseFlagsAsValues(cmd: Command): void {
  for (const option of cmd.options) {
    if (!option.required && !option.optional) continue; // a boolean flag takes no value
    const name = option.long ?? option.short ?? option.flags;
    const parse = option.parseArg;
    let given: string | undefined;
    option.argParser((value: string, previous: unknown) => {
      if (value.startsWith('--')) {
        throw new CliError(
          `${name}: no value given (${quote(value)} is the next option, not a value for ${name}); e.g. ${example(name)}`,
        );
      }
      if (given !== undefined) {
        throw new CliError(
          `${name}: given twice (${quote(given)} and ${quote(value)}); give it once, e.g. ${example(name)}`,
        );
      }
      given = value;
      return parse ? parse(value, previous) : value;
    });
  }
  for (const sub of cmd.commands) refuseFlagsAsValues(sub);
}

const EXAMPLES: Record<string, string> = {
  '--to': '--to 0123456789',
  '--caller-id': '--caller-id 0162123456',
  '--professional': '--professional acme',
  '--campaign': '--campaign energy',
  '--config': '--config config/callgate.yaml',
  '--categories': '--categories energy,telecom',
  '--postal-code': '--postal-code 67000',
  '--as-of': '--as-of 2026-05-04',
  '--source': "--source 'web form, 2026-11-02'",
  '--reason': '--reason complaint',
};
const example = (name: string): string => EXAMPLES[name] ?? `${name} 2026-11-24T11:00`;

/** package.json is two levels up from src/cli, three from dist/src/cli. */
function version(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'callgate' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return 'unknown';
}
