/**
 * Checks across settings that a per-field schema cannot make: unique ids,
 * campaigns pointing at declared professionals, the default campaign.
 * They run on the raw YAML value, whatever else is wrong, so that every
 * problem is reported at once.
 */
import { quoteValue } from '../core/quote';
import type { Problem } from './problems';
import { DEFAULT_POLICY } from '../core/types';
import { DEFAULT_DEADLINE_MS } from './schema';
import { backstopProblem, DEFAULT_DIALPLAN_BACKSTOP_S } from '../pbx/freeswitch/config';

type Raw = Record<string, unknown>;

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

function ids(list: unknown, what: string, problems: Problem[]): Map<string, number> {
  const seen = new Map<string, number>();
  if (!Array.isArray(list)) return seen;
  list.forEach((item, i) => {
    if (!isObj(item) || typeof item.id !== 'string') return;
    const first = seen.get(item.id);
    if (first !== undefined)
      problems.push({
        path: `${what}[${i}].id`,
        message: `duplicate id ${quoteValue(item.id)} (also ${what}[${first}].id)`,
      });
    else seen.set(item.id, i);
  });
  return seen;
}

export function crossChecks(raw: Raw): Problem[] {
  const problems: Problem[] = [];
  if (isObj(raw.retention) && typeof raw.retention.days === 'number') {
    const windowDays =
      isObj(raw.policy) && typeof raw.policy.windowDays === 'number'
        ? raw.policy.windowDays
        : DEFAULT_POLICY.windowDays;
    if (raw.retention.days < windowDays)
      problems.push({
        path: 'retention.days',
        message: `must be at least policy.windowDays (${windowDays}): \`callgate purge\` must keep the attempts the frequency limit counts`,
      });
  }
  const store = raw.store;
  if (isObj(store) && store.driver === 'postgres' && typeof store.statementTimeoutMs === 'number') {
    const deadline =
      isObj(raw.gate) && typeof raw.gate.deadlineMs === 'number' ? raw.gate.deadlineMs : DEFAULT_DEADLINE_MS;
    if (store.statementTimeoutMs >= deadline)
      problems.push({
        path: 'store.statementTimeoutMs',
        message: `must be below gate.deadlineMs (${deadline} ms), so that a slow statement is cancelled before the fail mode decides; leave it out for half the deadline`,
      });
  }
  if (isObj(raw.freeswitch)) {
    // the dialplan's sched_hangup (one-second resolution) must not overlap the gate's deadline (issue 12.4)
    const deadline =
      isObj(raw.gate) && typeof raw.gate.deadlineMs === 'number' ? raw.gate.deadlineMs : DEFAULT_DEADLINE_MS;
    const n = raw.freeswitch.dialplanBackstopS;
    const problem = backstopProblem(deadline, typeof n === 'number' ? n : DEFAULT_DIALPLAN_BACKSTOP_S);
    if (problem !== undefined)
      problems.push({
        path: typeof n === 'number' ? 'freeswitch.dialplanBackstopS' : 'gate.deadlineMs',
        message: problem,
      });
  }
  const pros = ids(raw.professionals, 'professionals', problems);
  const camps = ids(raw.campaigns, 'campaigns', problems);
  const declared = [...pros.keys()].join(', ') || 'none';

  if (Array.isArray(raw.campaigns)) {
    raw.campaigns.forEach((c, i) => {
      if (isObj(c) && typeof c.professional === 'string' && pros.size > 0 && !pros.has(c.professional)) {
        problems.push({
          path: `campaigns[${i}].professional`,
          message: `unknown professional ${quoteValue(c.professional)} (declared: ${declared})`,
        });
      }
    });
  }

  const dc = raw.defaultCampaign;
  if (typeof dc === 'string') {
    if (!camps.has(dc)) {
      problems.push({
        path: 'defaultCampaign',
        message: `unknown campaign ${quoteValue(dc)} (declared: ${[...camps.keys()].join(', ') || 'none'}); name a campaign or write the default campaign inline`,
      });
    }
  } else if (dc === undefined || isObj(dc)) {
    const d = dc ?? {};
    if (typeof d.professional === 'string') {
      if (pros.size > 0 && !pros.has(d.professional)) {
        problems.push({
          path: 'defaultCampaign.professional',
          message: `unknown professional ${quoteValue(d.professional)} (declared: ${declared})`,
        });
      }
    } else if (d.professional === undefined && pros.size > 1) {
      problems.push({
        path: 'defaultCampaign.professional',
        message: `required when several professionals are declared (${declared})`,
      });
    }
    const did = typeof d.id === 'string' ? d.id : 'default';
    if (camps.has(did)) {
      problems.push({
        path: 'defaultCampaign.id',
        message: `${quoteValue(did)} is also a campaign id; give the inline default campaign another id, or write defaultCampaign: ${did}`,
      });
    }
  }
  return problems;
}
