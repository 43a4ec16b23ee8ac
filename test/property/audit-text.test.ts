/**
 * decisionToText (src/store/memory/common.ts) builds the audit text by hand on the hot path; the
 * audit chain hashes that text, so it must be, byte for byte, what JSON.stringify spells
 * (decisionToTextPlain, itself checked against a spelled-out reference in
 * test/store/audit-text.test.ts) for any decision: any strings (quotes, control characters, lone
 * surrogates, U+2028), optional fields present or absent, rules inside and outside the short
 * form's tables, and fields of unexpected types (which the plain form spells or drops its own
 * way). Decisions are generated in runs that share campaigns and caller IDs, as a gate's do, so
 * that the remembered fragments are used and must be told apart when they change.
 */
import fc from 'fast-check';
import { decisionJsonText, decisionToJson } from '../../src/core/decision-json';
import { REASON_CODES, RULE_IDS, type Decision } from '../../src/core/types';
import { decisionToText, decisionToTextPlain } from '../../src/store/memory/common';
import { runs } from './seed';

const text = fc.oneof(
  fc.constantFrom('', 'acme', 'bench', '+33612345678', 'Europe/Paris', 'not an emergency number', 'consent regime'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('a"b', 'back\\slash', 'line\nbreak', '\u2028', '\ud800', 'x\udc00y', '\u0000\u001f'),
);
/** Mostly the expected type, sometimes anything (a field of another type). */
const odd = <T>(a: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 12, arbitrary: a }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, 7, true, ['x']) });
const date = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.date({
      min: new Date('1970-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    }),
  },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }) },
);
const rule = fc.record(
  {
    rule: odd(fc.oneof(fc.constantFrom(...RULE_IDS), text)),
    outcome: odd(fc.constantFrom('pass', 'fail', 'skip', 'exempt')),
    note: fc.oneof(fc.constant(undefined), fc.constantFrom('not an emergency number', 'no_consent'), text),
  },
  { requiredKeys: ['rule', 'outcome'] },
);
const reason = fc.record(
  {
    code: odd(fc.oneof(fc.constantFrom(...REASON_CODES), text)),
    rule: odd(fc.constantFrom(...RULE_IDS)),
    message: odd(text),
    legalRef: odd(text),
    retryAfter: odd(date),
    detail: odd(text),
  },
  { requiredKeys: ['code', 'rule', 'message', 'legalRef'] },
);
/** Campaigns and caller IDs from small pools, so that two of a run differ in one field only. */
const few = (...xs: string[]) =>
  odd(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...xs) }, { weight: 1, arbitrary: text }));
const campaign = fc.record({
  id: few('bench', 'b2'),
  professional: few('acme'),
  dialing: odd(fc.constantFrom('manual', 'automated', 'prerecorded')),
  purpose: odd(fc.constantFrom('prospecting', 'press')),
});
const callerId = fc.record(
  {
    number: few('+33162000001'),
    presentation: odd(fc.constantFrom('allowed', 'restricted')),
    e164: few('+33162000001'),
  },
  { requiredKeys: ['number', 'presentation'] },
);
const decision = (campaigns: unknown[], callerIds: unknown[]) =>
  fc.record(
    {
      id: odd(text),
      verdict: odd(fc.constantFrom('allow', 'block')),
      reasons: fc.array(reason, { maxLength: 3 }),
      tags: fc.array(odd(text), { maxLength: 3 }),
      regime: odd(fc.constantFrom('consent', 'opposition')),
      basis: odd(fc.constantFrom('consent', 'none')),
      at: date,
      callee: fc.oneof(
        fc.constant(undefined),
        fc.record({
          e164: odd(text),
          territory: odd(text),
          timeZone: odd(text),
          timeZones: fc.array(odd(text), { maxLength: 3 }),
          localTime: odd(text),
          zoneSource: odd(text),
        }),
      ),
      callerId: fc.constantFrom(...callerIds),
      campaign: fc.constantFrom(...campaigns),
      rules: fc.array(rule, { maxLength: 6 }),
      monitorOnly: odd(fc.boolean()),
      source: fc.record(
        { pbx: odd(fc.constantFrom('asterisk', 'freeswitch', 'api')), channelId: odd(text) },
        { requiredKeys: ['pbx'] },
      ),
    },
    {
      requiredKeys: [
        'id',
        'verdict',
        'reasons',
        'tags',
        'regime',
        'basis',
        'at',
        'callerId',
        'campaign',
        'rules',
        'monitorOnly',
        'source',
      ],
    },
  );

/** What a call gives: its text, or the error it throws (both forms must throw alike). */
const outcome = (f: () => string): string => {
  try {
    return f();
  } catch (err) {
    return `threw ${(err as Error).name}`;
  }
};

test('decisionToText is exactly the JSON.stringify form, for runs of decisions sharing campaigns and caller IDs', () => {
  const scenario = fc
    .tuple(fc.array(campaign, { minLength: 1, maxLength: 4 }), fc.array(callerId, { minLength: 1, maxLength: 4 }))
    .chain(([campaigns, callerIds]) => fc.array(decision(campaigns, callerIds), { minLength: 1, maxLength: 8 }));
  fc.assert(
    fc.property(scenario, (ds) => {
      for (const d of ds as unknown as Decision[])
        expect(outcome(() => decisionToText(d))).toBe(outcome(() => decisionToTextPlain(d)));
    }),
    runs(800),
  );
});

test("decisionJsonText (the API's answer) is exactly JSON.stringify of decisionToJson, with and without the clock field", () => {
  const scenario = fc
    .tuple(fc.array(campaign, { minLength: 1, maxLength: 4 }), fc.array(callerId, { minLength: 1, maxLength: 4 }))
    .chain(([campaigns, callerIds]) =>
      fc.array(fc.tuple(decision(campaigns, callerIds), fc.option(text, { nil: undefined })), {
        minLength: 1,
        maxLength: 8,
      }),
    );
  fc.assert(
    fc.property(scenario, (runOf) => {
      for (const [d, clock] of runOf as unknown as [Decision, string | undefined][]) {
        const plain = () => JSON.stringify(clock === undefined ? decisionToJson(d) : { ...decisionToJson(d), clock });
        expect(outcome(() => decisionJsonText(d, clock))).toBe(outcome(plain));
      }
    }),
    runs(800),
  );
});

test('rule outcomes changed in place after a decision are not served from the remembered fragments', () => {
  const one = base();
  one.rules = [
    { rule: 'SCOPE-1', outcome: 'pass', note: 'not an emergency number' },
    { rule: 'CID-5', outcome: 'skip' },
  ];
  expect(decisionJsonText(one)).toBe(JSON.stringify(decisionToJson(one)));
  one.rules[0]!.outcome = 'fail';
  one.rules[1]!.note = 'manual "dialing"';
  one.callerId.e164 = '+33162000002';
  expect(decisionJsonText(one, 'fixed')).toBe(JSON.stringify({ ...decisionToJson(one), clock: 'fixed' }));
  expect(decisionJsonText(one)).toContain('{"rule":"SCOPE-1","outcome":"fail","note":"not an emergency number"}');
  expect(decisionJsonText(one)).toContain('{"rule":"CID-5","outcome":"skip","note":"manual \\"dialing\\""}');
  one.rules.pop();
  expect(decisionJsonText(one)).toBe(JSON.stringify(decisionToJson(one)));
});

test('a campaign or caller ID changed in place after a decision is not served from the remembered fragment', () => {
  const one = base();
  expect(decisionToText(one)).toBe(decisionToTextPlain(one));
  one.campaign.id = 'other';
  one.callerId.e164 = '+33162000002';
  expect(decisionToText(one)).toBe(decisionToTextPlain(one));
  expect(decisionToText(one)).toContain('"id":"other"');
  expect(decisionToText(one)).toContain('"e164":"+33162000002"');
});

function base(): Decision {
  return {
    id: 'd1',
    verdict: 'allow',
    reasons: [],
    tags: [],
    regime: 'consent',
    basis: 'consent',
    at: new Date('2026-12-01T10:00:00Z'),
    callerId: { number: '+33162000001', presentation: 'allowed', e164: '+33162000001' },
    campaign: { id: 'bench', professional: 'acme', dialing: 'manual', purpose: 'prospecting' },
    rules: [{ rule: 'SCOPE-1', outcome: 'pass', note: 'not an emergency number' }],
    monitorOnly: false,
    source: { pbx: 'api' },
  };
}
