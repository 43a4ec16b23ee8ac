/**
 * The FreeSWITCH benchmark's floors (bench/standin-esl.ts without a library, bench/standin-esl-lib.ts
 * on the esl package) are gates, not no-ops: on the simulator with the shipped dialplan, each sets the
 * channel variables, transfers an even-numbered call to the allow context, hangs up an odd one with
 * CALL_REJECTED, and sees the allowed call's end on its inbound connection — the work callgate does
 * per call, without the rules and the store. A CPU figure compared with theirs is then one of the same
 * round trips.
 */
import { startEslStandIn } from '../../bench/standin-esl';
import { startEslLibStandIn } from '../../bench/standin-esl-lib';
import { loadDialplan } from '../../src/sim/esl/dialplan';
import { EslSimulator } from '../../src/sim/esl/simulator';
import { freePort, SHIPPED_DIALPLAN } from './freeswitch-helpers';

async function until(f: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each([
  ['without a library', startEslStandIn],
  ['on the esl package', startEslLibStandIn],
])('the FreeSWITCH stand-in gate %s', (_name, start) => {
  it('allows the even numbers, blocks the odd ones, and follows the allowed calls to their end', async () => {
    const port = await freePort();
    const sim = new EslSimulator({
      dialplan: loadDialplan(SHIPPED_DIALPLAN, { callgate_socket: `127.0.0.1:${port}` }),
      callee: () => ({ answerAfterMs: 5, talkMs: 10 }),
    });
    const inboundPort = await sim.listenInbound();
    const stand = await start({ inboundPort, allowContext: 'callgate-allowed', listenPort: port });
    try {
      const calls = await Promise.all(
        ['0612345670', '0612345671', '0612345672', '0612345673'].map(
          (to) => sim.placeCall({ to, context: 'callgate-outbound', callerIdNumber: '0162000001' }).done,
        ),
      );
      for (const [i, c] of calls.entries()) {
        const allowed = i % 2 === 0;
        expect(c.vars['callgate_verdict']).toBe(allowed ? 'allow' : 'block');
        expect(c.vars['callgate_decision_id']).toMatch(/^standin-\d+$/);
        expect(c.vars['sip_h_X-Callgate-Decision']).toBe(
          `${c.vars['callgate_decision_id']};verdict=${allowed ? 'allow' : 'block'}`,
        );
        if (allowed) {
          expect(c.transfers).toEqual([{ ext: c.to, context: 'callgate-allowed' }]);
          expect(c.answered).toBe(true);
        } else {
          expect(c.transfers).toEqual([]);
          expect(c.vars['callgate_reasons']).toBe('no_consent');
          expect(c.hangupCause).toBe('CALL_REJECTED');
        }
      }
      expect(stand.released()).toBe(4);
      // one CHANNEL_HANGUP_COMPLETE per allowed call, none for the blocked ones (the verdict filter)
      await until(() => stand.outcomes() >= 2, 'the allowed calls’ ends');
      await new Promise((r) => setTimeout(r, 50));
      expect(stand.outcomes()).toBe(2);
    } finally {
      await stand.stop();
      await sim.close();
    }
  });
});
