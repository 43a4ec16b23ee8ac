/**
 * Follows an allowed call after it left Stasis (the app subscribed to its channel) and turns
 * the events into the CallOutcome recorded on the attempt: every attempt counts, answered or
 * not (FREQ-2, Code de la consommation D. 223-9), and the audit keeps how it ended.
 *
 * Asterisk facts (PROTOCOLS.md "Observed on a real Asterisk"): the real hangup cause (e.g. 21)
 * appears only in ChannelDestroyed — ChannelHangupRequest carries 32 (soft-hangup flag) or 16 —
 * so the cause is read from ChannelDestroyed. Durations come from Asterisk's own event
 * timestamps (one clock on both ends).
 */
import type { CallOutcome } from '../../gate/store';
import type { AriEvent } from './ari';

export class OutcomeTracker {
  private answeredAt: number | undefined;
  private dialStatus: string | undefined;

  constructor(readonly channelId: string) {}

  /** Feeds one event about this channel; returns the outcome when the channel is gone. */
  feed(ev: AriEvent, now: () => Date): CallOutcome | undefined {
    const ts = ev.timestamp ? Date.parse(ev.timestamp) : NaN;
    switch (ev.type) {
      case 'Dial':
        if (ev.caller?.id === this.channelId || ev.peer?.id === this.channelId) {
          if (ev.dialstatus) this.dialStatus = ev.dialstatus;
          if (ev.dialstatus === 'ANSWER' && this.answeredAt === undefined) this.answeredAt = ts;
        }
        return undefined;
      case 'ChannelVarset':
        if (ev.variable === 'DIALSTATUS' && ev.value) {
          this.dialStatus = ev.value;
          if (ev.value === 'ANSWER' && this.answeredAt === undefined) this.answeredAt = ts;
        }
        return undefined;
      case 'ChannelDestroyed': {
        const answered = this.answeredAt !== undefined;
        const out: CallOutcome = {
          answered,
          hangupCause: ev.cause !== undefined ? String(ev.cause) : undefined,
          durationMs:
            answered && Number.isFinite(ts) && Number.isFinite(this.answeredAt)
              ? Math.max(0, ts - (this.answeredAt as number))
              : 0,
          endedAt: now(),
        };
        if (this.dialStatus) out.dialStatus = this.dialStatus;
        if (out.hangupCause === undefined) delete out.hangupCause;
        return out;
      }
      default:
        return undefined;
    }
  }
}
