/**
 * Decision → what the outbound socket tells FreeSWITCH. Pure.
 *
 * Channel variables written on every gated call (both verdicts), so the dialplan, the CDR and the
 * carrier-facing INVITE carry the audit trail (FR-RULES §9):
 *   callgate_verdict, callgate_decision_id, callgate_basis, callgate_tags,
 *   sip_h_X-Callgate-Decision (copied by mod_sofia onto the outgoing INVITE),
 *   callgate_reasons (blocked calls: the reason codes, comma-separated).
 */
import type { Decision } from '../../core/types';
import type { FreeswitchConfig } from './config';

export type ChannelVariable = { name: string; value: string };

export type Release = { kind: 'transfer'; extension: string; context: string } | { kind: 'hangup'; cause: string };

export type Plan = { variables: ChannelVariable[]; release: Release; cancelScheduledHangup: boolean };

/** Values travel as `execute-app-arg: name=value` header lines: no line breaks, ever. */
function safe(value: string): string {
  // tested first: a replace() allocates and rescans every value, and a line break is the rare case
  return /[\r\n]/.test(value) ? value.replace(/[\r\n]+/g, ' ') : value;
}

/** FreeSWITCH `transfer` splits its argument on spaces: an extension must not contain any. */
function extensionOf(to: string): string {
  return to.replace(/\s+/g, '');
}

export function planFor(decision: Decision, to: string, config: FreeswitchConfig): Plan {
  const variables: ChannelVariable[] = [
    { name: 'callgate_verdict', value: decision.verdict },
    { name: 'callgate_decision_id', value: decision.id },
    { name: 'callgate_basis', value: decision.basis },
    { name: 'callgate_tags', value: decision.tags.join(',') },
  ];
  if (decision.verdict === 'block') {
    variables.push({ name: 'callgate_reasons', value: decision.reasons.map((r) => r.code).join(',') });
  }
  variables.push({ name: 'sip_h_X-Callgate-Decision', value: `${decision.id};verdict=${decision.verdict}` });
  for (const v of variables) v.value = safe(v.value);

  const syncMode = config.mode === 'sync' && config.cancelScheduledHangup;
  if (decision.verdict === 'allow') {
    return {
      variables,
      release: { kind: 'transfer', extension: extensionOf(to), context: config.allowContext },
      cancelScheduledHangup: syncMode,
    };
  }
  if (config.blockContext !== undefined) {
    return {
      variables,
      release: { kind: 'transfer', extension: extensionOf(to), context: config.blockContext },
      cancelScheduledHangup: syncMode,
    };
  }
  return { variables, release: { kind: 'hangup', cause: config.hangupCause }, cancelScheduledHangup: false };
}
