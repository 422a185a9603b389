/**
 * Reopen delays for the lamp-box port (issue 5 §3): the shared jittered
 * exponential backoff (devices/time/backoff.ts) with the lamp box's defaults.
 */
import { Backoff } from '../time/backoff.js'

export interface BackoffOptions {
  baseMs: number
  maxMs: number
  /** Uniform [0, 1); injectable for tests. */
  random: () => number
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 250, maxMs: 30_000, random: Math.random }

export class ReopenBackoff extends Backoff {
  constructor(o: BackoffOptions = DEFAULT_BACKOFF) {
    super(o.baseMs, o.maxMs, o.random)
  }
}
