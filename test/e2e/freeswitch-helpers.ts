/** Shared set-up of the FreeSWITCH end-to-end tests: simulator + real adapter, captured logs. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { GateService } from '../../src/gate/service';
import { createFreeswitchAdapter, type FreeswitchAdapter } from '../../src/pbx/freeswitch';
import { freeswitchConfigSchema, type FreeswitchConfigInput } from '../../src/pbx/freeswitch/config';
import { loadDialplan } from '../../src/sim/esl/dialplan';
import { EslSimulator, type SimOptions } from '../../src/sim/esl/simulator';

import { SHIPPED_DIALPLAN } from '../../src/sim/esl/paths';

export { SHIPPED_DIALPLAN };

export type LogLine = { level: number; msg: string; code?: string; [k: string]: unknown };

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export type Rig = {
  sim: EslSimulator;
  adapter: FreeswitchAdapter;
  lines: LogLine[];
  gatePort: number;
  close(): Promise<void>;
};

import { freePort } from '../../src/sim/free-port';

export { freePort };

export async function rig(opts: {
  gate: GateService;
  config?: Partial<FreeswitchConfigInput>;
  sim?: Partial<SimOptions>;
  /** Start the adapter (default true). */
  startAdapter?: boolean;
  /** callgate_backstop_s of the dialplan (sched_hangup +N). */
  backstopS?: number;
  /** gate.deadlineMs as the adapter knows it (the adapter drops a call 250 ms after it); default 500. */
  deadlineMs?: number;
  inbound?: boolean;
}): Promise<Rig> {
  const gatePort = await freePort();
  const dialplan = loadDialplan(SHIPPED_DIALPLAN, {
    callgate_socket: `127.0.0.1:${gatePort}`,
    ...(opts.backstopS ? { callgate_backstop_s: String(opts.backstopS) } : {}),
  });
  const sim = new EslSimulator({ dialplan, ...opts.sim });
  const inboundPort = opts.inbound === false ? undefined : await sim.listenInbound();
  const { logger, lines } = captureLogger();
  const config = freeswitchConfigSchema.parse({
    allowContext: 'callgate-allowed',
    ...opts.config,
    listen: { host: '127.0.0.1', port: gatePort },
    ...(inboundPort !== undefined
      ? { inbound: { port: inboundPort, reconnectMinMs: 50, reconnectMaxMs: 200, ...(opts.config?.inbound ?? {}) } }
      : {}),
  });
  const adapter = createFreeswitchAdapter({
    gate: opts.gate,
    config,
    logger,
    ...(opts.deadlineMs !== undefined ? { deadlineMs: opts.deadlineMs } : {}),
  });
  if (opts.startAdapter !== false) {
    try {
      await adapter.start();
      if (adapter.outcomes && opts.config?.inbound?.password === undefined) await adapter.outcomes.ready(5000);
    } catch (err) {
      // a rig that failed to start leaves nothing listening (jest would otherwise not exit)
      await adapter.stop().catch(() => undefined);
      await sim.close();
      throw err;
    }
  }
  return {
    sim,
    adapter,
    lines,
    gatePort,
    async close() {
      await adapter.stop();
      await sim.close();
    },
  };
}
