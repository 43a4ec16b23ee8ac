/**
 * The Asterisk adapter's pure parts: Stasis() arguments → attempt, CALLERID(pres) → presentation
 * (CID-1, C. consom. L. 221-17), and the outcome read from events a real Asterisk 22.10.1 sent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AriEvent } from '../../src/pbx/asterisk/ari';
import { argsFromAppData, buildAttempt, parseStasisArgs, presentationOf } from '../../src/pbx/asterisk/attempt';
import { OutcomeTracker } from '../../src/pbx/asterisk/outcome';

const recorded = fs
  .readFileSync(path.join(__dirname, '..', '..', 'src', 'sim', 'fixtures', 'ari-recorded-events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as AriEvent);

test.each([
  ['allowed_not_screened', 'allowed'],
  ['allowed_passed_screen', 'allowed'],
  ['allowed', 'allowed'],
  ['prohib_not_screened', 'restricted'],
  ['prohib', 'restricted'],
  ['', 'restricted'],
  ['unavailable', 'restricted'],
])('CALLERID(pres)=%p → %s', (pres, want) => {
  expect(presentationOf(pres)).toBe(want);
});

test('Stasis arguments become the attempt; empty ones are left out', () => {
  const ch = {
    id: '1.2',
    name: 'Local/x',
    state: 'Ring',
    caller: { name: '', number: '1001' },
    dialplan: { exten: '0612345678' },
  };
  const a = parseStasisArgs(['0612345678', 'spring', '+33123456789', 'allowed_not_screened', '97200'], ch);
  expect(buildAttempt(a, '1.2', new Date(0))).toEqual({
    to: '0612345678',
    callerId: { number: '+33123456789', presentation: 'allowed' },
    at: new Date(0),
    campaignId: 'spring',
    contact: { postalCode: '97200' },
    source: { pbx: 'asterisk', channelId: '1.2' },
  });
  const bare = buildAttempt(parseStasisArgs(['', '', '', 'prohib'], ch), '1.2', new Date(0));
  expect(bare).toEqual({
    to: '0612345678',
    callerId: { number: '1001', presentation: 'restricted' },
    at: new Date(0),
    source: { pbx: 'asterisk', channelId: '1.2' },
  });
});

test("a recovered channel's arguments are read back from dialplan.app_data of its app only", () => {
  expect(argsFromAppData('callgate,0612345678,spring,+33123456789,allowed_not_screened,', 'callgate')).toEqual([
    '0612345678',
    'spring',
    '+33123456789',
    'allowed_not_screened',
    '',
  ]);
  expect(argsFromAppData('other-app,0612345678', 'callgate')).toBeUndefined();
  // The recorded real snapshot of a channel in Stasis carries exactly this form.
  const ss = recorded.find((e) => e.type === 'StasisStart' && e.args?.[0] === '0900123456')!;
  expect(argsFromAppData(ss.channel!.dialplan!.app_data!, 'compliance-gate')).toEqual(ss.args);
});

test('outcome from the recorded real events: answered (Dial ANSWER), cause from ChannelDestroyed, duration from Asterisk timestamps', () => {
  const id = 'c04b101f-23dc-4c54-8e84-041a6c54df69'; // the ;1 half, dialled and answered, then hung up
  const t = new OutcomeTracker(id);
  const end = new Date('2030-01-01T00:00:00Z');
  let out;
  for (const e of recorded) {
    const mine = e.channel?.id === id || e.peer?.id === id || e.caller?.id === id;
    if (!mine) continue;
    out = t.feed(e, () => end) ?? out;
  }
  expect(out).toEqual({ answered: true, dialStatus: 'ANSWER', hangupCause: '16', durationMs: 2503, endedAt: end });
});

test('unanswered: no duration, the dial status kept', () => {
  const t = new OutcomeTracker('c1');
  const ch = { id: 'c1', name: 'n', state: 'Ring', caller: { name: '', number: '' } };
  expect(
    t.feed(
      {
        type: 'Dial',
        dialstatus: 'BUSY',
        caller: ch,
        peer: { ...ch, id: 'p' },
        timestamp: '2026-01-01T00:00:00.000+0000',
      },
      () => new Date(0),
    ),
  ).toBeUndefined();
  expect(
    t.feed(
      { type: 'ChannelDestroyed', cause: 17, channel: ch, timestamp: '2026-01-01T00:00:01.000+0000' },
      () => new Date(0),
    ),
  ).toEqual({
    answered: false,
    dialStatus: 'BUSY',
    hangupCause: '17',
    durationMs: 0,
    endedAt: new Date(0),
  });
});
