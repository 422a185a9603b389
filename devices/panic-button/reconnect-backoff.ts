/**
 * Jittered exponential backoff for reopening a board or input device
 * (DESIGN §7: never a fixed reconnect interval). "Equal jitter": half the
 * exponential delay fixed, half random, so many posts that lost power
 * together do not hammer in step, yet a delay never collapses to ~0.
 */
export class ReconnectBackoff {
  private attempt = 0

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Delay before the next attempt; each call counts one failed attempt. */
  next(): number {
    const exp = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.round(exp / 2 + (exp / 2) * this.random())
  }

  get attempts(): number { return this.attempt }

  reset(): void { this.attempt = 0 }
}
