/** The text form of `callgate history`: what a compliance officer reads. */
import { formatHistory } from '../../src/cli/format';
import { DEFAULT_POLICY } from '../../src/core/types';
import type { History } from '../../src/gate/store';

const E164 = '+33612345678';

function history(over: Partial<History>): History {
  return {
    e164: E164,
    attempts: [],
    decisions: [],
    consents: [],
    contracts: [],
    dnc: [],
    refusals: [],
    opposition: { listed: false },
    ...over,
  };
}

describe('formatHistory', () => {
  it('shows when a consent with no valid-until ends: the policy period from collection', () => {
    const h = history({
      consents: [{ e164: E164, professional: 'acme', categories: [], collectedAt: new Date('2026-11-01T09:00:00Z') }],
    });
    expect(formatHistory(h, DEFAULT_POLICY)).toMatch(
      /acme {2}every category {2}collected 2026-11-01T09:00:00.000Z {2}valid until 2027-11-01T09:00:00.000Z \(365 days from collection, policy.consentValidityDays\)/,
    );
    expect(formatHistory(h, { consentValidityDays: 90 })).toMatch(/valid until 2027-01-30T09:00:00.000Z \(90 days/);
    expect(formatHistory(h, DEFAULT_POLICY)).not.toMatch(/valid until -/);
  });

  it('shows the 365-day cap when the stated valid-until is later, and the stated date otherwise', () => {
    const collectedAt = new Date('2026-11-01T09:00:00Z');
    const h = history({
      consents: [
        {
          e164: E164,
          professional: 'acme',
          categories: ['energy'],
          collectedAt,
          validUntil: new Date('2028-01-01T00:00:00Z'),
        },
        {
          e164: E164,
          professional: 'acme',
          categories: ['telecom'],
          collectedAt,
          validUntil: new Date('2027-02-01T00:00:00Z'),
        },
      ],
    });
    const text = formatHistory(h, DEFAULT_POLICY);
    expect(text).toMatch(
      /energy .* valid until 2027-11-01T09:00:00.000Z \(365-day cap; stated 2028-01-01T00:00:00.000Z\)/,
    );
    expect(text).toMatch(/telecom .* valid until 2027-02-01T00:00:00.000Z\n/);
  });

  it("shows each attempt's outcome with its hangup cause and duration", () => {
    const attempt = { e164: E164, professional: 'acme', campaignId: 'energy' };
    const h = history({
      attempts: [
        {
          ...attempt,
          decisionId: 'd1',
          at: new Date('2026-11-24T10:00:00Z'),
          outcome: {
            answered: true,
            dialStatus: 'ANSWER',
            hangupCause: 'NORMAL_CLEARING',
            durationMs: 42_400,
            endedAt: new Date('2026-11-24T10:00:50Z'),
          },
        },
        {
          ...attempt,
          decisionId: 'd2',
          at: new Date('2026-11-24T11:00:00Z'),
          outcome: {
            answered: false,
            dialStatus: 'BUSY',
            hangupCause: '17',
            durationMs: 0,
            endedAt: new Date('2026-11-24T11:00:05Z'),
          },
        },
      ],
    });
    const text = formatHistory(h, DEFAULT_POLICY);
    expect(text).toMatch(/decision d1 {2}answered 42 s, hangup NORMAL_CLEARING, ended 2026-11-24T10:00:50.000Z/);
    expect(text).toMatch(/decision d2 {2}BUSY, hangup 17, ended 2026-11-24T11:00:05.000Z/);
  });
});
