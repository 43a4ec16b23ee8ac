/**
 * StasisStart → CallAttempt.
 *
 * The shipped dialplan (dialplan/asterisk/extensions_callgate.conf) calls
 *   Stasis(callgate,${EXTEN},${CALLGATE_CAMPAIGN},${CALLERID(num)},${CALLERID(pres)},${CALLGATE_POSTAL_CODE},${CALLGATE_TIME_ZONE},${TIMEOUT(absolute)})
 * so everything the gate needs arrives with the event, without a REST round trip. The last argument
 * is what is left of the dialplan's own backstop (TIMEOUT(absolute), seconds, "0" when none): the
 * adapter checks that its own backstop comes first (adapter.ts, dialplan/asterisk/README.md).
 *
 * Caller-ID presentation (CID-1, Code de la consommation L. 221-17 —
 * a prospecting call must present a number): Asterisk's CALLERID(pres) reads
 * `allowed_not_screened` (or another `allowed*` value) for a presented number and `prohib*`
 * when withheld (observed on Asterisk 22.10.1). Anything else — an empty value when the
 * dialplan did not pass it — is taken as withheld, so a misconfigured dialplan blocks with
 * caller_id_withheld and says so rather than letting calls through unchecked.
 */
import type { CallAttempt } from '../../core/types';
import type { AriChannel } from './ari';

export type StasisArgs = {
  number: string;
  campaignId?: string;
  callerIdNumber: string;
  presentation: 'allowed' | 'restricted';
  /** The raw CALLERID(pres) value, for the logs. */
  rawPresentation: string;
  postalCode?: string;
  /** IANA time zone of the callee (CALLGATE_TIME_ZONE), e.g. America/Cayenne. */
  timeZone?: string;
  /**
   * What was left of the dialplan's TIMEOUT(absolute) when Stasis() started, ms; undefined when the
   * dialplan passed nothing (an older snippet), 0 when it set no absolute timeout.
   */
  dialplanBackstopMs?: number;
};

export function presentationOf(pres: string): 'allowed' | 'restricted' {
  return /^allowed/i.test(pres.trim()) ? 'allowed' : 'restricted';
}

/** Reads the Stasis() arguments; the number falls back to the channel's extension. */
export function parseStasisArgs(args: readonly string[], channel: AriChannel): StasisArgs {
  const a = (i: number) => (args[i] ?? '').trim();
  const rawPresentation = a(3);
  return {
    number: a(0) || channel.dialplan?.exten || '',
    campaignId: a(1) || undefined,
    callerIdNumber: a(2) || channel.caller?.number || '',
    presentation: presentationOf(rawPresentation),
    rawPresentation,
    postalCode: a(4) || undefined,
    timeZone: a(5) || undefined,
    dialplanBackstopMs: secondsToMs(a(6)),
  };
}

/** "3.999" (TIMEOUT(absolute) as Asterisk prints it: seconds, 3 decimals) → 3999; "" → undefined. */
function secondsToMs(s: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  return Math.round(Number(s) * 1000);
}

/**
 * The arguments of a channel found in Stasis after a reconnect, read back from its snapshot:
 * dialplan.app_data is the raw `Stasis()` data, "callgate,0612345678,campaign,…".
 */
export function argsFromAppData(appData: string, app: string): string[] | undefined {
  const parts = appData.split(',');
  if (parts[0]?.trim() !== app) return undefined;
  return parts.slice(1);
}

export function buildAttempt(args: StasisArgs, channelId: string, at: Date): CallAttempt {
  const attempt: CallAttempt = {
    to: args.number,
    callerId: { number: args.callerIdNumber, presentation: args.presentation },
    at,
    source: { pbx: 'asterisk', channelId },
  };
  if (args.campaignId) attempt.campaignId = args.campaignId;
  if (args.postalCode || args.timeZone)
    attempt.contact = {
      ...(args.postalCode ? { postalCode: args.postalCode } : {}),
      ...(args.timeZone ? { timeZone: args.timeZone } : {}),
    };
  return attempt;
}

/** Numbers in logs are masked the gate's way (RGPD art. 5.1.c). */
export { maskNumber } from '../../gate/mask';
