/**
 * Follows an allowed call after it left Stasis (the app subscribed to its channel) and turns
 * the events into the CallOutcome recorded on the attempt: every attempt counts, answered or
 * not (FREQ-2, Code de la consommation D. 223-9), and the audit keeps how it ended.
 *
 * Asterisk facts (observed on a real Asterisk 22.10.1, see src/sim/fixtures/ari-recorded-events.jsonl):
 * - the channel's own state is the truth about "answered": a call answered by Dial(), an Answer(),
 *   an IVR or a queue all take the channel to Up (ChannelStateChange); only Dial() produces Dial
 *   events and DIALSTATUS, so its dial status is kept as extra information when there is one;
 * - the real hangup cause (e.g. 21) appears only in ChannelDestroyed — ChannelHangupRequest
 *   carries 32 (soft-hangup flag) or 16 — so the cause is read from ChannelDestroyed.
 * Durations come from Asterisk's own event timestamps (one clock on both ends): from the channel
 * going Up to ChannelDestroyed.
 */
import type { CallOutcome } from '../../gate/store';
import type { AriEvent } from './ari';

export class OutcomeTracker {
  /** Asterisk's timestamp (ms) of the channel going Up; NaN when answered at an unknown instant. */
  private answeredAt: number | undefined;
  private dialStatus: string | undefined;

  /**
   * @param upAtStart the channel was already Up when it entered Stasis (answered by the dialplan
   *   before the gate): its state says nothing about the callee, so a Dial ANSWER is taken instead.
   */
  constructor(
    readonly channelId: string,
    private readonly upAtStart = false,
  ) {}

  /** The channel was found Up after events were missed (reconnect): answered, at an unknown instant. */
  answeredUnseen(): void {
    if (this.answeredAt === undefined && !this.upAtStart) this.answeredAt = NaN;
  }

  get answered(): boolean {
    return this.answeredAt !== undefined;
  }

  /** Feeds one event about this channel; returns the outcome when the channel is gone. */
  feed(ev: AriEvent, now: () => Date): CallOutcome | undefined {
    const ts = ev.timestamp ? Date.parse(ev.timestamp) : NaN;
    switch (ev.type) {
      case 'ChannelStateChange':
        if (!this.upAtStart && ev.channel?.id === this.channelId && ev.channel.state === 'Up') this.answeredAt ??= ts;
        return undefined;
      case 'Dial':
        if (ev.caller?.id === this.channelId || ev.peer?.id === this.channelId) {
          if (ev.dialstatus) this.dialStatus = ev.dialstatus;
          if (this.upAtStart && ev.dialstatus === 'ANSWER') this.answeredAt ??= ts;
        }
        return undefined;
      case 'ChannelDestroyed': {
        if (ev.channel?.id !== this.channelId) return undefined;
        const out: CallOutcome = { answered: this.answeredAt !== undefined, endedAt: now() };
        if (this.dialStatus) out.dialStatus = this.dialStatus;
        if (ev.cause !== undefined) out.hangupCause = String(ev.cause);
        if (this.answeredAt === undefined) out.durationMs = 0;
        // answered at an instant the gate did not see: the duration is unknown, and left out
        else if (Number.isFinite(this.answeredAt) && Number.isFinite(ts))
          out.durationMs = Math.max(0, ts - this.answeredAt);
        return out;
      }
      default:
        return undefined;
    }
  }
}
