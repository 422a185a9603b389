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
 *
 * A restart cannot tell a battery change from a replayed recording (issue 12
 * §5: after 61 s of silence one recorded frame, counter 5, was accepted and
 * then every later recorded frame up to the old counter 300 raised an alarm).
 * So a restart puts the device in a restarted state that remembers the old
 * high-water mark (`high`, persisted with the counter): every frame up to
 * that mark is UNVERIFIED (accepted once, its alarm raised but marked
 * `unverified`), no second restart is accepted, and only a counter above the
 * mark or a technician's re-pair returns the device to normal. A recording
 * can no longer produce a verified alarm, nor be replayed twice, nor pull
 * the stored counter down for good.
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
  /** Higher than the last accepted, but not above the high-water mark of a restarted device: accept once, mark unverified. */
  UNVERIFIED: 4,
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
 *                      (after a gateway restart the silence is unknown and counts as long enough:
 *                      the persisted high-water mark bounds what that allows)
 * @param high          the old high-water mark while the device is in the restarted state, else -1
 */
export function judgeCounter(last: number, lastValidMono: number, counter: number, nowMono: number, rule: CounterRule, high = -1): CounterVerdict {
  if (last < 0) return CounterVerdict.FRESH
  if (counter > last) return high >= 0 && counter <= high ? CounterVerdict.UNVERIFIED : CounterVerdict.FRESH
  if (counter === last) return CounterVerdict.SAME
  if (high < 0 && rule.allowReset && counter < rule.resetMax && (lastValidMono < 0 || nowMono - lastValidMono >= rule.resetSilenceMs)) {
    return CounterVerdict.RESET
  }
  return CounterVerdict.REPLAY
}
