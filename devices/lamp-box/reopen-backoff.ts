/**
 * Jittered exponential backoff for reopening the lamp-box port (issue 5 §3,
 * DESIGN §7: never a fixed reconnect interval). "Equal jitter": half the
 * capped exponential delay is fixed, half random, so retries from many
 * posts after a power cut spread out but none waits near zero.
 */
export interface BackoffOptions {
  baseMs: number
  maxMs: number
  /** Uniform [0, 1); injectable for tests. */
  random: () => number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 30_000, random: Math.random }

export class ReopenBackoff {
  private attempt = 0
  constructor(private readonly o: BackoffOptions = DEFAULT_BACKOFF) {}

  /** Delay before the next attempt; grows until reset(). */
  next(): number {
    const cap = Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(this.attempt, 20))
    this.attempt++
    return Math.round(cap / 2 + (cap / 2) * this.o.random())
  }

  get attempts(): number { return this.attempt }

  reset(): void { this.attempt = 0 }
}
