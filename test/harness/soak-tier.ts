/**
 * Which tier the suite runs in (issue 14 §5). `npm test` alone is the default
 * tier (under five minutes on an idle two-core machine); `.ci/run` exports
 * SAFEHOUSE_SOAK=long and runs the long tier as well: the full-length soaks,
 * outages and kill series, and the files that import ./long-tier.js.
 */

/** True when the long tier runs (SAFEHOUSE_SOAK=long, as `.ci/run` sets it). */
export const LONG = process.env.SAFEHOUSE_SOAK === 'long'

/** Short by default, long in the long tier. */
export function soakMs(shortMs: number, longMs: number): number {
  return LONG ? longMs : shortMs
}

/**
 * Test options for a case that runs only in the long tier: `t.test(name, longOnly(), fn)`.
 * Skipped visibly (with the reason) in the default tier.
 */
export function longOnly(o: Record<string, unknown> = {}): Record<string, unknown> {
  return LONG ? o : { ...o, skip: 'long tier: runs only with SAFEHOUSE_SOAK=long (.ci/run; README "Run the tests")' }
}
