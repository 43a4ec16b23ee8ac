/**
 * The demo's clock: a working day that passes in seconds. It runs `speed` times faster than real time
 * and the scripted dialer moves it forward to each call's scheduled instant (never back), so the gate
 * judges every call at its time of day while the whole day takes a few seconds. The gate, the PBX
 * adapters (call outcomes) and the store's data commands all read this one clock.
 */
import type { Clock } from '../gate/clock';

export class DemoClock implements Clock {
  private base: number;
  private realAt: number;

  constructor(
    start: Date,
    /** Simulated ms per real ms between scheduled instants. */
    readonly speed: number,
    private readonly real: () => number = Date.now,
  ) {
    this.base = start.getTime();
    this.realAt = real();
  }

  get describe(): string {
    return `demo day from ${new Date(this.base).toISOString()}, ${this.speed}× real time`;
  }

  now(): Date {
    return new Date(this.base + (this.real() - this.realAt) * this.speed);
  }

  /** Moves to `at` if it is later than now (the clock never goes back: decisions keep their order). */
  advanceTo(at: Date): void {
    if (at.getTime() <= this.now().getTime()) return;
    this.base = at.getTime();
    this.realAt = this.real();
  }
}
