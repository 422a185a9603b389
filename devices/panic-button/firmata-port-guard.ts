/**
 * One Firmata digital port (8 pins) as the gateway trusts it (issue 11): a
 * pin level reaches a button only from a *confirmed* report, and the pins'
 * setup is checked on every confirmation. Pure state, no I/O: the caller
 * (board-pins.ts) sends the queries and acts on the verdicts.
 *
 * A confirmation round is, on the wire, PIN_STATE_QUERY for each watched pin
 * of the port and then REPORT_DIGITAL(port, on). StandardFirmata answers in
 * order: one PIN_STATE_RESPONSE per pin, then the port's value at once
 * (reportDigitalCallback sends it when reporting is turned on). The report
 * that follows all the pin-state answers is the board's current truth, *if*
 * the frame filter counted no noise between the round being sent and that
 * report; otherwise the round is "dirty" and is asked again.
 *
 * Why (docs/decisions.md "Firmata noise"): a random byte stream holds
 * well-formed DIGITAL_MESSAGEs (about one in 64 three-byte windows), and a
 * board only reports a pin when it changes, so one forged report would leave
 * a phantom press standing. Forging a whole clean round (pin states in the
 * right modes, then the report, with no garbage around them) is what noise
 * does not do. The same round tells a board that reset (its pins are back to
 * OUTPUT) from one that did not.
 */

/** Verdict of a report, for the caller. */
export const Verdict = {
  /** Nothing to do (no watched pin changed, or the report is not the round's answer yet). */
  IGNORE: 0,
  /** A watched pin claims a change: start a round (if none is open). */
  QUERY: 1,
  /** A clean round: levels() are the board's truth and every pin is in its mode. */
  OK: 2,
  /** A clean round found a pin out of its mode (wrongPin/wrongMode): the board reset or ignores setup. */
  WRONG: 3,
  /** The round's answer came with noise around it: ask again. */
  DIRTY: 4,
} as const
export type Verdict = (typeof Verdict)[keyof typeof Verdict]

export class FirmataPortGuard {
  /** Watched pins (Arduino numbers) and the mode each must be in. */
  readonly pins: number[] = []
  private readonly modes: number[] = []
  /** Confirmed level per watched pin, -1 unknown. */
  private readonly level: number[] = []
  /** Level a report claimed and no round has confirmed yet, -1 none; and when it was first claimed. */
  private readonly claimed: number[] = []
  private readonly claimedAt: number[] = []
  /** Monotonic ms each confirmed level began: the first report that claimed it (or the confirmation). */
  private readonly edge: number[] = []
  /** Per claim: made on a quiet line, the filter's noise count then, and when a report took it back (-1 not). */
  private readonly claimQuiet: boolean[] = []
  /** Per claim: made after the pins' setup was confirmed (one made mid-setup is neither a pulse nor a phantom caught). */
  private readonly claimSettled: boolean[] = []
  private readonly claimNoise: number[] = []
  private readonly revertAt: number[] = []
  /** After an OK verdict: a pulse (claimed level, from, to) the board reported and took back before the round, -1 none. */
  private readonly pulse: number[] = []
  private readonly pulseFrom: number[] = []
  private readonly pulseTo: number[] = []
  private allMask = 0
  private statesGot = 0
  private noiseAt = 0
  /** Round open: queries sent, answer not yet complete. */
  open = false
  /** Monotonic ms the open round was sent. */
  openedAt = 0
  /** Setup generation the open round was sent in (board-pins.ts: a round sent before a setup cannot judge it). */
  roundGen = -1
  /** Monotonic ms of the last OK verdict (the pins' setup and levels last known good). */
  lastOk = -Infinity
  wrongPin = -1
  wrongMode = -1
  /** Reports whose claimed change a clean round did not confirm (phantoms caught). */
  unconfirmed = 0

  constructor(readonly port: number) {}

  watch(pin: number, mode: number): void {
    this.allMask |= 1 << this.pins.length
    this.pins.push(pin)
    this.modes.push(mode)
    this.level.push(-1)
    this.claimed.push(-1)
    this.claimedAt.push(0)
    this.edge.push(0)
    this.claimQuiet.push(false)
    this.claimSettled.push(true)
    this.claimNoise.push(0)
    this.revertAt.push(-1)
    this.pulse.push(-1)
    this.pulseFrom.push(0)
    this.pulseTo.push(0)
  }

  /** Confirmed level of watched pin index i (0/1, -1 not yet known). */
  levelAt(i: number): number { return this.level[i] }
  /** When the confirmed level of pin index i began (monotonic ms). */
  edgeAt(i: number): number { return this.edge[i] }
  /**
   * After an OK verdict: the level of a pulse on pin index i that the board reported and took back
   * before the round answered (-1 none), with pulseFrom/pulseTo. Taken only if both reports came on a
   * quiet line and no noise came until the round's answer: a press shorter than a slow round trip.
   */
  pulseAt(i: number): number { return this.pulse[i] }
  pulseSpan(i: number): [number, number] { return [this.pulseFrom[i], this.pulseTo[i]] }

  /** A round was sent at `now` in setup generation `gen`, the filter's noise count being `noise`. */
  startRound(now: number, gen: number, noise: number): void {
    this.open = true
    this.openedAt = now
    this.roundGen = gen
    this.noiseAt = noise
    this.statesGot = 0
    this.wrongPin = -1
    this.wrongMode = -1
  }

  /** The round got no complete answer in time (lost in a reset, or the board is slow): closed, to be sent again. */
  expire(now: number, timeoutMs: number): boolean {
    if (!this.open || now - this.openedAt < timeoutMs) return false
    this.open = false
    return true
  }

  /** Forget the open round (the board booted: its answer is not coming). */
  abandon(): void { this.open = false }

  /** A PIN_STATE_RESPONSE; false if no open round asked for it. */
  pinState(pin: number, mode: number): boolean {
    if (!this.open) return false
    const i = this.pins.indexOf(pin)
    if (i < 0) return false
    this.statesGot |= 1 << i
    if (mode !== this.modes[i] && this.wrongPin < 0) { this.wrongPin = pin; this.wrongMode = mode }
    return true
  }

  /**
   * A DIGITAL_MESSAGE; `quiet`: no noise on the line for a while before it (board-pins.ts); `settled`:
   * the pins' setup was confirmed since it was last sent (a claim made otherwise is never a pulse).
   */
  report(value: number, noise: number, now: number, quiet = false, settled = true): Verdict {
    if (this.open && this.statesGot === this.allMask) {
      // the answer to the round (or a change the board reported after answering it: just as current)
      this.open = false
      if (noise !== this.noiseAt) return Verdict.DIRTY
      if (this.wrongPin >= 0) return Verdict.WRONG
      for (let i = 0; i < this.pins.length; i++) {
        const bit = (value >> (this.pins[i] & 7)) & 1
        this.pulse[i] = -1
        if (this.claimed[i] >= 0 && this.claimed[i] !== bit) {
          if (this.revertAt[i] >= 0 && this.claimQuiet[i] && this.claimNoise[i] === noise && this.level[i] === bit) {
            this.pulse[i] = this.claimed[i]
            this.pulseFrom[i] = this.claimedAt[i]
            this.pulseTo[i] = this.revertAt[i]
          } else if (this.claimSettled[i]) {
            this.unconfirmed++
          }
        }
        if (bit !== this.level[i]) this.edge[i] = this.claimed[i] === bit ? this.claimedAt[i] : now
        this.claimed[i] = -1
        this.revertAt[i] = -1
        this.level[i] = bit
      }
      this.lastOk = now
      return Verdict.OK
    }
    let changed = false
    for (let i = 0; i < this.pins.length; i++) {
      const bit = (value >> (this.pins[i] & 7)) & 1
      if (bit === this.level[i]) {
        // a claim taken back before any round answered: remember when (a short real press, or noise)
        if (this.claimed[i] >= 0 && this.revertAt[i] === -1) this.revertAt[i] = quiet ? now : -2
        continue
      }
      // a new claim, or the same level claimed again after being taken back (a second press: it restarts)
      if (this.claimed[i] !== bit || this.revertAt[i] !== -1) {
        this.claimed[i] = bit
        this.claimedAt[i] = now
        this.claimQuiet[i] = quiet && settled
        this.claimSettled[i] = settled
        this.claimNoise[i] = noise
        this.revertAt[i] = -1
      }
      changed = true
    }
    return changed ? Verdict.QUERY : Verdict.IGNORE
  }
}
