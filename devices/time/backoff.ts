/**
 * Jittered exponential backoff, shared by the uplink and every driver that reopens a port
 * ("equal jitter": a random delay in
 * [base/2, base], base doubling up to max). mqtt.js reconnects at a fixed
 * interval, which makes a whole city's posts hammer a restarted station broker
 * in lockstep (DESIGN §7); this spreads them out.
 */
export class Backoff {
  private attempt = 0
  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.round(base / 2 + (this.random() * base) / 2)
  }

  reset(): void {
    this.attempt = 0
  }

  get attempts(): number {
    return this.attempt
  }
}
