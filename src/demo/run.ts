/**
 * `callgate demo`: a simulated PBX (src/sim), the real gate behind its real adapter on a temporary
 * SQLite store, the admin API and dashboard, and a scripted dialer placing a working day of calls
 * (src/demo/script.ts) through the PBX. Each decision is printed as the PBX gets it; a summary ends it.
 *
 * Nothing is faked on the gate's side: the calls arrive over the PBX's wire protocol, the gate judges
 * them with the rules and the store's facts at the demo clock's time, records the allowed attempts and
 * follows their outcomes; consents, a withdrawal and a refusal are written to the store as the data
 * commands write them. Ctrl-C (SIGINT) stops the dialer after the call in progress, stops the gate
 * cleanly and removes the temporary store (unless --keep).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DateTime } from 'luxon';
import { parseConfig } from '../config/load';
import type { Decision } from '../core/types';
import { startGate } from '../main';
import { CLI_ROWS, consentOf, contractOf, type RowContext } from '../store/rows';
import { subscriberNumber } from '../store/rows';
import { DemoClock } from './clock';
import { count, decisionLine, eventLine, header, newTally, summary, ungatedLine } from './format';
import { startDemoPbx, type CallEnd } from './pbx';
import { CALLER_ID, CONSENTS, CONTRACTS, DEMO_CONFIG, DEMO_DAY, DEMO_SCRIPT, DEMO_START, PROFESSIONAL } from './script';

export type DemoOptions = {
  pbx: 'asterisk' | 'freeswitch';
  /** Stop after this many calls. */
  calls?: number;
  /** Keep the temporary folder (store and configuration) at the end. */
  keep: boolean;
  /** Serve the admin API and dashboard (on `apiPort`, 0 = any free loopback port). */
  api: boolean;
  apiPort: number;
  /** After the last call, keep the gate and the dashboard running until Ctrl-C. */
  hold: boolean;
  /** Real ms between two calls. */
  paceMs: number;
  /** Simulated time per real time between scheduled calls. */
  speed: number;
};

export type DemoIo = { out(s: string): void; err(s: string): void };

const PARIS = 'Europe/Paris';
const at = (hhmm: string): Date => DateTime.fromISO(`${DEMO_DAY}T${hhmm}`, { zone: PARIS }).toJSDate();

/** Resolves at the first SIGINT/SIGTERM; a second one exits at once (130). */
function interrupts(): { stopped: () => boolean; wait: (ms: number) => Promise<void>; dispose: () => void } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const onSignal = (): void => {
    if (stopped) process.exit(130);
    stopped = true;
    wake?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped: () => stopped,
    wait: (ms) =>
      stopped
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const t = setTimeout(done, ms);
            function done(): void {
              clearTimeout(t);
              wake = undefined;
              resolve();
            }
            wake = done;
          }),
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}

export async function runDemo(opts: DemoOptions, io: DemoIo): Promise<void> {
  const signals = interrupts();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-demo-'));
  const cleanup: Array<() => Promise<void>> = [];
  try {
    await demo(opts, io, dir, signals, cleanup);
  } finally {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    if (opts.keep)
      io.out(
        `kept: ${dir} (callgate.yaml and callgate.db; try: callgate history 0612345608 --config ${path.join(dir, 'callgate.yaml')})\n`,
      );
    else fs.rmSync(dir, { recursive: true, force: true });
    signals.dispose();
  }
}

async function demo(
  opts: DemoOptions,
  io: DemoIo,
  dir: string,
  signals: ReturnType<typeof interrupts>,
  cleanup: Array<() => Promise<void>>,
): Promise<void> {
  const clock = new DemoClock(at(DEMO_START), opts.speed);
  const pbx = await startDemoPbx(opts.pbx);
  cleanup.push(() => pbx.stop());
  const token = randomBytes(16).toString('hex');
  const dbPath = path.join(dir, 'callgate.db');
  const yaml = [
    `# callgate demo (${opts.pbx}): written by \`callgate demo\`; the PBX and API sections point at the demo's simulator`,
    DEMO_CONFIG.trim(),
    `store: { driver: sqlite, path: ${JSON.stringify(dbPath)} }`,
    // the demo prints every decision itself; the gate's log keeps to warnings and errors (stderr)
    'log: { level: warn, maskNumbers: true, decisions: none }',
    pbx.gateYaml.trim(),
    ...(opts.api ? [`api: { listen: { host: 127.0.0.1, port: ${opts.apiPort} }, token: ${token} }`] : []),
    '',
  ].join('\n');
  const configPath = path.join(dir, 'callgate.yaml');
  fs.writeFileSync(configPath, yaml, { mode: 0o600 });
  const config = parseConfig(yaml, configPath);
  const running = await startGate(config, { clock });
  cleanup.push(() => running.stop());
  const { store, gate } = running.runtime;

  // The consents and the contract on file before the day, written as `callgate consent add` / `contract add` do.
  const rows: RowContext = { ...CLI_ROWS, professionals: [PROFESSIONAL] };
  for (const c of CONSENTS) {
    const k = consentOf(
      rows,
      {
        number: c.number,
        professional: PROFESSIONAL,
        categories: 'energy-supply',
        collectedAt: c.collectedAt,
        source: c.source,
      },
      clock.now().getTime(),
    );
    await store.addConsent({
      e164: k.e164,
      professional: k.professional,
      categories: k.categories,
      collectedAt: new Date(k.collectedAt),
      ...(k.source !== null ? { source: k.source } : {}),
    });
  }
  for (const c of CONTRACTS) {
    const k = contractOf(
      rows,
      { number: c.number, professional: PROFESSIONAL, categories: 'energy-supply', start: c.start },
      clock.now().getTime(),
    );
    await store.addContract({
      e164: k.e164,
      professional: k.professional,
      categories: k.categories,
      start: new Date(k.start),
    });
  }

  const decided: Decision[] = [];
  const unobserve = gate.observe((e) => decided.push(e.decision));
  cleanup.push(async () => unobserve());

  const day = DateTime.fromISO(DEMO_DAY).setLocale('en-GB').toFormat('cccc d LLLL yyyy');
  io.out(
    [
      `callgate demo: ${day}, from ${DEMO_START} Paris time, the day played ${opts.speed}× faster; PBX: ${opts.pbx} simulator (shipped dialplan) + callgate's ${opts.pbx} adapter`,
      `  store: ${dbPath} (temporary${opts.keep ? ', kept' : ', removed at the end'}); ${CONSENTS.length} consents and ${CONTRACTS.length} contract on file for ${PROFESSIONAL}`,
      ...(running.api
        ? [
            `  dashboard: ${running.api.url}/  (API token: ${token})${opts.hold ? '' : ' — open while the demo runs; --hold keeps it after the last call'}`,
          ]
        : []),
      '  numbers are masked as in the gate\'s logs; times are Paris times, "local" is the consumer\'s when it is not Paris',
      '',
    ].join('\n') + '\n',
  );
  io.out(header());

  const tally = newTally();
  for (const step of DEMO_SCRIPT) {
    if (signals.stopped() || (opts.calls !== undefined && tally.calls >= opts.calls)) break;
    clock.advanceTo(at(step.at));
    if (step.kind === 'event') {
      const e164 = subscriberNumber(rows, step.number);
      const now = clock.now();
      if (step.what === 'withdraw') {
        const n = await store.withdrawConsent(e164, PROFESSIONAL, now);
        io.out(
          eventLine({ at: now, day: DEMO_DAY, number: e164, text: `consent withdrawn (${n}): ${step.note}` }) + '\n',
        );
      } else {
        await store.addRefusal(e164, PROFESSIONAL, now);
        io.out(eventLine({ at: now, day: DEMO_DAY, number: e164, text: `refusal recorded: ${step.note}` }) + '\n');
      }
      continue;
    }
    const placedAt = clock.now();
    const before = decided.length;
    const end: CallEnd = await pbx.call({
      to: step.to,
      campaign: step.campaign,
      callerId: CALLER_ID,
      withheld: step.withheld === true,
      postalCode: step.postalCode,
      callee: step.callee,
    });
    const decision = decided[before];
    decided.length = 0;
    count(tally, decision, end);
    io.out(
      (decision
        ? decisionLine({ at: placedAt, day: DEMO_DAY, to: step.to, campaign: step.campaign, decision, end })
        : ungatedLine({ at: placedAt, day: DEMO_DAY, to: step.to, campaign: step.campaign, end })) + '\n',
    );
    await signals.wait(opts.paceMs);
  }
  const interrupted = signals.stopped();
  io.out(
    summary(tally, [
      `  ${interrupted ? 'interrupted (Ctrl-C)' : opts.calls !== undefined && tally.calls >= opts.calls ? `stopped after ${opts.calls} call(s) (--calls)` : 'end of the day'} at ${DateTime.fromJSDate(clock.now(), { zone: PARIS }).toFormat('HH:mm')} Paris time`,
    ]),
  );
  if (opts.hold && running.api && !interrupted) {
    io.out(`the gate and the dashboard keep running at ${running.api.url}/ — Ctrl-C to stop\n`);
    while (!signals.stopped()) await signals.wait(3_600_000);
  }
}
