/**
 * The replay rule for BTHome encryption counters, as a pure function.
 *
 * bthome.io/encryption: the counter "should increase every advertisement" and
 * replay protection "has to be implemented on the receiving side (e.g. by
 * verifying that the counter has increased compared to the previous counter
 * value)". The spec says nothing about restarts; devices do restart their
 * counter at 0 after a battery change. Home Assistant's reference receiver
 * (bthome-ble parser.py) accepts any lower counter below 100 for that reason.
 * We accept a restart only when (a) the new counter is small (< resetMax,
 * default 100, same bound), (b) the device sent no valid packet for
 * resetSilenceMs (a battery swap takes the device off air), and (c) the
 * packet authenticates (the caller decrypts before committing). Sites that
 * prefer no restarts at all set `counter_reset: never`; then a technician
 * resets the counter with `safehouse pair`. Every accepted restart is counted
 * (`ble_counter_reset`) so it is visible in device state.
 */

export const CounterVerdict = {
  /** Higher than anything accepted: decrypt and accept. */
  FRESH: 0,
  /** Same counter as the last accepted packet: an identical repeat is a duplicate; other bytes are a replay. */
  SAME: 1,
  /** Lower: a replay; reject without decrypting. */
  REPLAY: 2,
  /** Lower, but allowed as a counter restart: decrypt, and accept only if it authenticates. */
  RESET: 3,
} as const
export type CounterVerdict = (typeof CounterVerdict)[keyof typeof CounterVerdict]

export interface CounterRule {
  /** false = `counter_reset: never`. */
  allowReset: boolean
  resetMax: number
  resetSilenceMs: number
}

/**
 * @param last          last accepted counter, -1 when none (first contact: trust on first use)
 * @param lastValidMono monotonic ms of the last authenticated packet, -1 when none since start
 *                      (after a gateway restart the silence is unknown and counts as long enough)
 */
export function judgeCounter(last: number, lastValidMono: number, counter: number, nowMono: number, rule: CounterRule): CounterVerdict {
  if (last < 0 || counter > last) return CounterVerdict.FRESH
  if (counter === last) return CounterVerdict.SAME
  if (rule.allowReset && counter < rule.resetMax && (lastValidMono < 0 || nowMono - lastValidMono >= rule.resetSilenceMs)) {
    return CounterVerdict.RESET
  }
  return CounterVerdict.REPLAY
}
