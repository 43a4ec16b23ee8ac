/** The FreeSWITCH half of the soak (bench/soak.ts): the simulator in a child process, callgate or the stand-in in this one. */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import type { Gate } from '../src/gate/gate';
import type { createLogger } from '../src/gate/logger';
import { createFreeswitchAdapter } from '../src/pbx/freeswitch';
import { freeswitchConfigSchema } from '../src/pbx/freeswitch/config';
import { SIM_EXEC_ARGV } from '../src/sim/ari/child';
import type { EslSoakResult } from './soak-esl-child';
import type { PbxRun } from './soak';
import { startEslStandIn } from './standin-esl';
import { freePort } from '../src/sim/free-port';

/** Forks the simulator aimed at `port`, lets `start` connect to its inbound port, runs the calls. */
async function eslRun(
  port: number,
  durationS: number,
  ratePerS: number,
  start: (inboundPort: number) => Promise<{ stop(): Promise<void> }>,
): Promise<PbxRun> {
  const child = fork(path.join(__dirname, 'soak-esl-child.js'), [`127.0.0.1:${port}`], {
    execArgv: SIM_EXEC_ARGV,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inboundPort = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { inboundPort: number }) => resolve(m.inboundPort));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code})`)));
  });
  const app = await start(inboundPort);
  const t0 = Date.now();
  const res = await new Promise<EslSoakResult>((resolve, reject) => {
    child.once('message', (m: EslSoakResult) => resolve(m));
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) without a result`)));
    child.send({ type: 'run', durationS, ratePerS });
  });
  const wallS = (Date.now() - t0) / 1000;
  await app.stop();
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ type: 'stop' });
  await exited;
  return {
    calls: res.calls,
    continued: res.transferred,
    blocked: res.rejected,
    noRelease: res.noRelease,
    wrong: res.wrong,
    cutByBackstop: 0,
    stuck: 0,
    samplesNs: res.samples.map((ms) => ms * 1e6),
    wallS,
  };
}

export async function eslStandInRun(durationS: number, ratePerS: number): Promise<PbxRun> {
  // the FreeSWITCH bench's stand-in (bench/standin-esl.ts): callgate's writes, outcomes followed inbound
  const port = await freePort();
  return eslRun(port, durationS, ratePerS, (inboundPort) =>
    startEslStandIn({ inboundPort, allowContext: 'callgate-allowed', listenPort: port }),
  );
}

export async function eslGateRun(
  gate: Gate,
  logger: ReturnType<typeof createLogger>,
  durationS: number,
  ratePerS: number,
): Promise<PbxRun> {
  const port = await freePort();
  return eslRun(port, durationS, ratePerS, async (inboundPort) => {
    const adapter = createFreeswitchAdapter({
      gate,
      config: freeswitchConfigSchema.parse({
        allowContext: 'callgate-allowed',
        listen: { host: '127.0.0.1', port },
        inbound: { host: '127.0.0.1', port: inboundPort, password: 'ClueCon' },
      }),
      logger,
    });
    await adapter.start();
    return {
      stop: async () => {
        await adapter.stop();
        await gate.drain();
      },
    };
  });
}
