/**
 * `callgate demo`'s working day: Tuesday 24 November 2026 (consent regime, no public holiday), from
 * 09:00 Paris time, for one professional (acme) with a manual campaign, an automated one, a banned
 * sector and a service line. What each call shows is in its `note`; the verdicts are the gate's own,
 * judged by the real rules (docs/FR-RULES.md): nothing here says what the gate will answer.
 *
 * Times are Paris wall times of that day. Numbers are dialled as a French agent would, national forms:
 * 0692… is La Réunion (UTC+4) and 0596… Martinique (UTC−4), judged in their own time zones.
 */

/** What the callee's side does with an allowed call (the trunk of the simulated PBX). */
export type Callee = 'answer' | 'busy' | 'noanswer';

export type DemoCall = {
  kind: 'call';
  /** Paris wall time, HH:mm, on the demo day. */
  at: string;
  to: string;
  /** Campaign id of the demo configuration; undefined = an agent's phone with no campaign set. */
  campaign?: string;
  /** Presentation withheld (CLIR / privacy). */
  withheld?: boolean;
  postalCode?: string;
  callee: Callee;
  note: string;
};

/** Something the professional records in the store during the day, as `callgate consent withdraw` / `refusal add` do. */
export type DemoEvent = {
  kind: 'event';
  at: string;
  what: 'withdraw' | 'refusal';
  number: string;
  note: string;
};

export type DemoStep = DemoCall | DemoEvent;

export const DEMO_DAY = '2026-11-24';
export const DEMO_START = '09:00';
export const PROFESSIONAL = 'acme';
/** Caller ID presented on every call: a metropolitan numéro polyvalent vérifié (CID-5), on acme's list (CID-6). */
export const CALLER_ID = '+33162000001';

/** Consents on file before the day starts (collected in early November), recorded like `callgate consent add`. */
export const CONSENTS: Array<{ number: string; collectedAt: string; source: string }> = [
  '0612345601',
  '0692123403',
  '0596123404',
  '0388123405',
  '0612345606',
  '0612345607',
  '0612345608',
  '0612345610',
  '0612345611',
  '0612345614',
  '0612345615',
  '0612345616',
  '0612345617',
  '0612345619',
  '0612345620',
].map((number, i) => ({
  number,
  collectedAt: `2026-11-${String(2 + (i % 10)).padStart(2, '0')}T1${i % 8}:15`,
  source: `web form #${4100 + i}`,
}));

/** An ongoing energy-supply contract (CONS-5: legal basis `contract`, no consent needed). */
export const CONTRACTS: Array<{ number: string; start: string }> = [{ number: '0145678909', start: '2025-03-01' }];

const call = (
  at: string,
  to: string,
  campaign: string | undefined,
  callee: Callee,
  note: string,
  more = {},
): DemoCall => ({
  kind: 'call',
  at,
  to,
  campaign,
  callee,
  note,
  ...more,
});

export const DEMO_SCRIPT: DemoStep[] = [
  call('09:05', '0612345601', 'energy-auto', 'answer', 'the dialer starts before 10:00 in Paris'),
  call('09:20', '0692123403', 'energy-manual', 'answer', 'La Réunion: 12:20 there'),
  call('09:40', '0596123404', 'energy-manual', 'answer', 'Martinique: 04:40 there'),
  call('10:02', '0612345601', 'energy-auto', 'answer', 'same number, now inside the hours'),
  call('10:05', '0612345608', 'energy-auto', 'noanswer', 'attempt 1 of a hard-to-reach consumer'),
  call('10:12', '0123456702', 'energy-manual', 'answer', 'no consent on file'),
  call('10:20', '0612345606', 'energy-manual', 'answer', 'consent on file'),
  call('10:31', '0612345607', 'energy-manual', 'answer', 'the consumer will refuse during the call'),
  { kind: 'event', at: '10:33', what: 'refusal', number: '0612345607', note: 'refused during the call' },
  call('10:45', '0692123403', 'energy-manual', 'answer', 'La Réunion: 13:45 there, lunch gap'),
  call('10:50', '0388123405', 'energy-manual', 'busy', 'Strasbourg, postal code given', { postalCode: '67000' }),
  call('11:02', '0612345608', 'energy-auto', 'busy', 'attempt 2'),
  call('11:10', '0145678909', 'energy-manual', 'answer', 'customer under contract, no consent needed'),
  call('11:18', '0612345611', 'energy-manual', 'answer', "agent's phone withholds its number", { withheld: true }),
  { kind: 'event', at: '11:30', what: 'withdraw', number: '0612345606', note: 'withdrew consent on the web form' },
  call('11:42', '0612345606', 'energy-auto', 'answer', 'after the withdrawal'),
  call('11:55', '0612345614', 'renov-auto', 'answer', 'energy-renovation offer (banned sector)'),
  call('12:10', '0612345608', 'energy-auto', 'noanswer', 'attempt 3'),
  call('12:25', '0123456702', 'customer-service', 'answer', 'a service call, not prospecting'),
  call('12:40', '112', undefined, 'answer', 'emergency number'),
  call('13:20', '0612345610', 'energy-manual', 'answer', 'Paris lunch gap'),
  call('14:02', '0612345610', 'energy-manual', 'answer', 'after the lunch gap'),
  call('14:15', '0612345608', 'energy-auto', 'busy', 'attempt 4'),
  call('14:30', '0612345615', 'energy-auto', 'answer', ''),
  call('14:34', '0612345616', 'energy-auto', 'noanswer', ''),
  call('14:41', '0612345612', 'energy-auto', 'answer', 'no consent on file'),
  call('15:05', '0596123404', 'energy-manual', 'answer', 'Martinique: 10:05 there'),
  call('15:30', '0612345607', 'energy-auto', 'answer', 'refused this morning'),
  call('16:00', '0612345608', 'energy-auto', 'answer', 'fifth attempt in 30 days'),
  call('16:20', '0612345617', 'energy-auto', 'answer', ''),
  call('16:45', '01234', 'energy-manual', 'answer', 'a typo: not a dialable number'),
  call('17:10', '0692123403', 'energy-manual', 'answer', 'La Réunion: 20:10 there'),
  call('18:00', '0388123405', 'energy-manual', 'answer', 'Strasbourg, second try', { postalCode: '67000' }),
  call('19:50', '0612345619', 'energy-auto', 'answer', ''),
  call('20:05', '0612345620', 'energy-auto', 'answer', 'after 20:00'),
];

/** The demo configuration (YAML): acme, its caller ID, four campaigns; store, clock and PBX sections are added by the demo. */
export const DEMO_CONFIG = `
professionals:
  - id: ${PROFESSIONAL}
    callerIds: ['${CALLER_ID}', '+33162000002']
campaigns:
  - { id: energy-manual, professional: acme, purpose: prospecting, audience: consumer, dialing: manual, sector: other, categories: [energy-supply] }
  - { id: energy-auto, professional: acme, purpose: prospecting, audience: consumer, dialing: automated, sector: other, categories: [energy-supply] }
  - { id: renov-auto, professional: acme, purpose: prospecting, audience: consumer, dialing: automated, sector: energy_renovation, categories: [energy-supply] }
  - { id: customer-service, professional: acme, purpose: service, audience: consumer, dialing: manual, sector: other, categories: [] }
defaultCampaign: { id: default, professional: acme, purpose: prospecting, audience: consumer, dialing: manual, sector: other, categories: [] }
gate:
  deadlineMs: 500
policy:
  failMode: closed
`;
