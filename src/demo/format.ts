/** What `callgate demo` prints: one aligned line per call, as it is decided, and the summary of the day. */
import { DateTime } from 'luxon';
import type { Decision } from '../core/types';
import { maskNumber } from '../gate/mask';
import type { CallEnd } from './pbx';

const PARIS = 'Europe/Paris';

const COLUMNS: Array<[string, number]> = [
  ['time', 5],
  ['number', 14],
  ['local', 8],
  ['campaign', 16],
  ['verdict', 9],
  ['reasons / tags', 40],
  ['retry after', 18],
  ['call', 0],
];

function row(cells: string[]): string {
  return cells
    .map((c, i) => {
      const w = COLUMNS[i]![1];
      return w === 0 ? c : c.length >= w ? `${c} ` : c.padEnd(w + 1);
    })
    .join('')
    .trimEnd();
}

export function header(): string {
  const h = row(COLUMNS.map(([n]) => n));
  return `${h}\n${'-'.repeat(Math.max(h.length, 120))}\n`;
}

/** HH:mm in Paris, with the day when it is not `day` (a retry after tomorrow or in 30 days). */
export function parisTime(d: Date, day: string): string {
  const t = DateTime.fromJSDate(d, { zone: PARIS });
  return t.toISODate() === day ? t.toFormat('HH:mm') : t.setLocale('en-GB').toFormat('ccc d LLL HH:mm');
}

/** The callee's wall time and territory when it is not Paris: `12:20 RE`. */
function localTime(d: Decision): string {
  if (!d.callee || d.callee.timeZone === PARIS) return '';
  const t = DateTime.fromISO(d.callee.localTime, { setZone: true });
  if (!t.isValid) return '';
  return `${t.toFormat('HH:mm')} ${d.callee.territory}`;
}

export function describeEnd(e: CallEnd): string {
  switch (e.kind) {
    case 'emergency':
      return 'placed, not gated (dialplan)';
    case 'refused':
      return 'rejected (cause 21)';
    case 'answered':
      return 'answered';
    case 'busy':
      return 'busy';
    case 'noanswer':
      return 'no answer';
    case 'other':
      return e.detail;
  }
}

/** The earliest retryAfter of a blocked decision's reasons. */
export function retryAfter(d: Decision): Date | undefined {
  let best: Date | undefined;
  for (const r of d.reasons) if (r.retryAfter && (!best || r.retryAfter < best)) best = r.retryAfter;
  return best;
}

export function decisionLine(o: {
  at: Date;
  day: string;
  to: string;
  campaign?: string;
  decision: Decision;
  end: CallEnd;
}): string {
  const d = o.decision;
  const what =
    d.verdict === 'block' ? d.reasons.map((r) => r.code).join(',') : d.tags.filter((t) => t !== 'recorded').join(',');
  const ra = retryAfter(d);
  return row([
    parisTime(o.at, o.day),
    maskNumber(d.callee?.e164 ?? o.to),
    localTime(d),
    d.campaign.id,
    d.verdict === 'allow' ? 'ALLOW' : 'BLOCK',
    what,
    ra ? parisTime(ra, o.day) : '',
    describeEnd(o.end),
  ]);
}

/** A call the dialplan sent around the gate (emergency numbers, on both PBXs): no decision to print. */
export function ungatedLine(o: { at: Date; day: string; to: string; campaign?: string; end: CallEnd }): string {
  return row([
    parisTime(o.at, o.day),
    maskNumber(o.to),
    '',
    o.campaign ?? '-',
    'NOT GATED',
    'emergency number (SCOPE-1)',
    '',
    describeEnd(o.end),
  ]);
}

export function eventLine(o: { at: Date; day: string; number: string; text: string }): string {
  return row([parisTime(o.at, o.day), maskNumber(o.number), '', '', '*', o.text]);
}

export type Tally = {
  calls: number;
  decisions: number;
  allowed: number;
  blocked: number;
  byReason: Map<string, number>;
  byTag: Map<string, number>;
  outcomes: Map<string, number>;
  ungated: number;
};

export function newTally(): Tally {
  return {
    calls: 0,
    decisions: 0,
    allowed: 0,
    blocked: 0,
    byReason: new Map(),
    byTag: new Map(),
    outcomes: new Map(),
    ungated: 0,
  };
}

export function count(t: Tally, d: Decision | undefined, end: CallEnd): void {
  t.calls++;
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  add(t.outcomes, describeEnd(end));
  if (!d) {
    t.ungated++;
    return;
  }
  t.decisions++;
  if (d.verdict === 'allow') {
    t.allowed++;
    for (const tag of d.tags) add(t.byTag, tag);
  } else {
    t.blocked++;
    for (const r of d.reasons) add(t.byReason, r.code);
  }
}

function list(m: Map<string, number>): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

export function summary(t: Tally, extra: string[] = []): string {
  const lines = [
    '',
    `summary: ${t.calls} call(s), ${t.decisions} decision(s) by the gate${t.ungated ? `, ${t.ungated} routed around it by the dialplan` : ''}`,
    `  allowed  ${t.allowed}${t.byTag.size ? `  (tags: ${list(t.byTag)})` : ''}`,
    `  blocked  ${t.blocked}${t.byReason.size ? `  (reasons: ${list(t.byReason)})` : ''}`,
    `  calls    ${list(t.outcomes)}`,
    ...extra,
  ];
  return lines.join('\n') + '\n';
}
