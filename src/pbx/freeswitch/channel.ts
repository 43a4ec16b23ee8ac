/**
 * FreeSWITCH channel data (the URL-decoded CHANNEL_DATA an outbound socket receives) → CallAttempt.
 *
 * Caller ID presented (CID-1 … CID-6, C. consom. L. 221-17): the number is the first non-empty of
 * `effective_caller_id_number`, `origination_caller_id_number`, `Caller-Caller-ID-Number`; it is
 * 'restricted' when the channel hides the number — `Caller-Privacy-Hide-Number: true`, a `privacy`
 * variable of yes/full/number, an `origination_privacy` containing hide_number, or a SIP `Privacy`
 * header asking for id/user/header privacy (RFC 3323/3325).
 *
 * Pure: no I/O, the instant comes from the caller (the gate's clock).
 */
import type { CallAttempt } from '../../core/types';
import { CallgateError } from '../../errors';

export type ChannelData = Record<string, string | undefined>;

function first(data: ChannelData, keys: string[]): string | undefined {
  for (const k of keys) {
    const v = data[k];
    if (v !== undefined && v !== '' && v !== '_undef_') return v;
  }
  return undefined;
}

/** True when the channel withholds the calling number. */
export function hidesNumber(data: ChannelData): boolean {
  if ((data['Caller-Privacy-Hide-Number'] ?? data['Channel-Privacy-Hide-Number']) === 'true') return true;
  const privacy = (data['variable_privacy'] ?? '').toLowerCase();
  if (/^(yes|true|full|number)$/.test(privacy.trim())) return true;
  const orig = (data['variable_origination_privacy'] ?? '').toLowerCase();
  if (/hide_number/.test(orig)) return true;
  const sip = (data['variable_sip_h_Privacy'] ?? data['variable_sip_Privacy'] ?? '').toLowerCase();
  const tokens = sip.split(/[;,\s]+/).filter(Boolean);
  return tokens.some((t) => t === 'id' || t === 'user' || t === 'header');
}

export class ChannelDataError extends CallgateError {
  constructor(message: string) {
    super('CG_ERR_FS_CHANNEL_DATA', message);
    this.name = 'ChannelDataError';
  }
}

/** Builds the attempt; throws ChannelDataError when the channel has no destination at all. */
export function attemptFromChannelData(data: ChannelData, at: Date): CallAttempt {
  const to = first(data, ['Caller-Destination-Number', 'Channel-Destination-Number', 'variable_destination_number']);
  if (to === undefined) {
    throw new ChannelDataError(
      'channel data has no Caller-Destination-Number: is the socket app in the outbound context?',
    );
  }
  const number =
    first(data, [
      'variable_effective_caller_id_number',
      'variable_origination_caller_id_number',
      'Caller-Caller-ID-Number',
    ]) ?? '';
  const attempt: CallAttempt = {
    to,
    callerId: { number, presentation: hidesNumber(data) ? 'restricted' : 'allowed' },
    at,
    source: { pbx: 'freeswitch', channelId: first(data, ['Unique-ID', 'Channel-Unique-ID', 'Caller-Unique-ID']) },
  };
  const campaignId = first(data, ['variable_callgate_campaign']);
  if (campaignId !== undefined) attempt.campaignId = campaignId;
  const postalCode = first(data, ['variable_callgate_postal_code']);
  const timeZone = first(data, ['variable_callgate_time_zone']);
  if (postalCode !== undefined || timeZone !== undefined) {
    attempt.contact = {};
    if (postalCode !== undefined) attempt.contact.postalCode = postalCode;
    if (timeZone !== undefined) attempt.contact.timeZone = timeZone;
  }
  return attempt;
}
