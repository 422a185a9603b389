/**
 * Press-to-learn and the loop check on an open Firmata board (issue 7 §2).
 * Watches every digital input (pull-ups per the driver's convention) and every
 * analog channel as a supervised loop, reports what they read, then waits
 * for the technician's press (button-learn.ts decides which input it was).
 */
import { systemClock } from '../../devices/time/clock.js'
import { LoopZone } from '../../devices/panic-button/loop-supervisor.js'
import type { PanicWiring } from '../../devices/panic-button/config.js'
import type { FirmataPairBoard } from './button-firmata-board.js'
import { DEFAULT_LEARN, PressLearner, type WatchedInput } from './button-learn.js'
import { describeLoopReport, formatOhms, reportLoop, thresholdsFor, type LoopReport, type LoopSettings } from './button-loop-check.js'

export type FirmataLearned =
  | { type: 'digital'; pin: number; wiring: Exclude<PanicWiring, 'eol_supervised'>; how: string }
  | { type: 'loop'; channel: number; report: LoopReport; verified: boolean; adcMax: number }

export interface FirmataLearnOptions {
  pullup: boolean
  seconds: number
  /** Loop settings (resistors, thresholds, debounce) of the entry being made or replaced. */
  loop: LoopSettings
  /** Check this analog channel as a supervised loop instead of learning by a press. */
  loopChannel?: number
  say: (s: string) => void
  confirm: (question: string) => Promise<boolean>
}

/** Long enough for every input to report and settle (StandardFirmata samples analog every 19 ms). */
const BASELINE_MS = 700
/** After a press is seen, how long other inputs may still show a change (then it was not one button). */
const GRACE_MS = 300
/** Inputs must be still this long before a new baseline after "several changed". */
const QUIET_MS = 1000

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

class Session {
  readonly learner: PressLearner
  private lastChange = performance.now()

  constructor(private readonly board: FirmataPairBoard, debounceMs: number) {
    this.learner = new PressLearner(systemClock, { ...DEFAULT_LEARN, settleMs: debounceMs })
    this.learner.onChange = () => { this.lastChange = performance.now() }
  }

  /** Sleep while checking the board is still there. */
  async wait(ms: number): Promise<void> {
    const end = performance.now() + ms
    for (;;) {
      const problem = this.board.check()
      if (problem) throw new Error(`${problem}: check the USB cable and run again`)
      const left = end - performance.now()
      if (left <= 0) return
      await sleep(Math.min(50, left))
    }
  }

  async baseline(): Promise<void> {
    this.learner.startBaseline()
    await this.wait(BASELINE_MS)
    this.learner.arm()
  }

  async waitQuiet(): Promise<void> {
    while (performance.now() - this.lastChange < QUIET_MS) await this.wait(50)
  }

  /** Wait for one clean press on the watched inputs; re-baselines when several change. */
  async press(seconds: number, say: (s: string) => void, watching: string): Promise<{ input: WatchedInput; how: string }> {
    const deadline = performance.now() + seconds * 1000
    const reported = new Set<WatchedInput>()
    for (;;) {
      await this.wait(50)
      for (const i of this.learner.ignoredInputs()) {
        if (!reported.has(i)) { reported.add(i); say(`  ignoring ${i.name}: ${i.ignored}`) }
      }
      const v = this.learner.verdict()
      if (v.kind === 'learned') {
        await this.wait(GRACE_MS)
        const again = this.learner.verdict()
        if (again.kind === 'learned' && again.input === v.input) return { input: v.input, how: again.how }
        continue
      }
      if (v.kind === 'several') {
        say(`Several inputs changed (${v.inputs.map((i) => i.name).join(', ')}): release everything, then press only the button you are pairing, once.`)
        await this.waitQuiet()
        await this.baseline()
        say('Press it again now...')
      }
      if (performance.now() > deadline) {
        throw new Error(`nothing was pressed within ${seconds} s (watching ${watching}): check the button's wiring ` +
          '(a normally-open button goes between the pin and GND; a supervised loop needs its end-of-line resistors, docs/devices/panic-button.md), ' +
          'or run again with a longer --seconds')
      }
    }
  }
}

const levelName = (l: number): string => (l === 1 ? 'high' : l === 0 ? 'low' : 'no report')

/** Compact "D2-D7, D9" list of input names. */
function nameRange(prefix: string, nums: number[]): string {
  const out: string[] = []
  for (let i = 0; i < nums.length; i++) {
    let j = i
    while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++
    out.push(j > i ? `${prefix}${nums[i]}-${prefix}${nums[j]}` : `${prefix}${nums[i]}`)
    i = j
  }
  return out.join(', ')
}

export async function learnOnBoard(board: FirmataPairBoard, o: FirmataLearnOptions): Promise<FirmataLearned> {
  const pins = board.pins(o.pullup)
  const settings: LoopSettings = { ...o.loop, adc_max: pins.adcMax }
  const th = thresholdsFor(settings)
  const analog = o.loopChannel === undefined ? pins.analog : pins.analog.filter((a) => a.channel === o.loopChannel)
  if (o.loopChannel !== undefined && analog.length === 0) {
    throw new Error(`analog input A${o.loopChannel} does not exist on this board (it has ${nameRange('A', pins.analog.map((a) => a.channel)) || 'none'}); fix --loop`)
  }
  const digital = o.loopChannel === undefined ? pins.digital : []
  if (digital.length + analog.length === 0) throw new Error(`the board reports no input pins${o.pullup ? ' with a pull-up (try --no-pullup with an external resistor)' : ''}`)
  const s = new Session(board, o.loop.debounce_ms)
  const watches = new Map<WatchedInput, number>()
  try {
    for (const pin of digital) {
      const w = s.learner.digital(`D${pin}`)
      watches.set(w, pin)
      board.watchDigital(pin, o.pullup, (l) => w.sample(l))
    }
    for (const a of analog) {
      const w = s.learner.analog(`A${a.channel}`, th)
      watches.set(w, a.channel)
      board.watchAnalog(a.channel, (r) => w.sample(r))
    }
    o.say('Reading the inputs...')
    await s.baseline()
    const rest = new Map<WatchedInput, number>()
    for (const w of s.learner.inputs) rest.set(w, w.reading)

    if (digital.length > 0) {
      o.say(`Digital inputs now (pull-up ${o.pullup ? 'on: a released normally-open button reads high' : 'off: a released normally-open button reads low'}):`)
      o.say('  ' + s.learner.inputs.filter((w) => !w.analog).map((w) => `${w.name} ${levelName(w.state)}`).join('  '))
    }
    const loops = s.learner.inputs.filter((w) => w.analog)
    if (loops.length > 0 && o.loopChannel !== undefined) {
      const w = loops[0]
      o.say(`Supervised loop: ${w.reading < 0 ? `${w.name}: no reading` : describeLoopReport(w.name, reportLoop(w.reading, settings, th))}`)
    } else if (loops.length > 0) {
      // Unused analog inputs float or read 0: one compact line; --loop N explains a loop in full.
      o.say('Analog inputs now, read as supervised loops (check one in detail with --loop N):')
      o.say('  ' + loops.map((w) => {
        if (w.reading < 0) return `${w.name} no reading`
        const r = reportLoop(w.reading, settings, th)
        return `${w.name} ${w.reading} (${formatOhms(r.ohms)}) ${r.zone}`
      }).join('  '))
    }
    for (const w of s.learner.ignoredInputs()) o.say(`  ignoring ${w.name}: ${w.ignored}`)

    if (o.loopChannel !== undefined) {
      const w = loops[0]
      if (w.reading < 0) throw new Error(`A${o.loopChannel} sent no reading: check that the board runs StandardFirmata`)
      const report = reportLoop(w.reading, settings, th)
      if (report.zone !== 'normal') {
        const trouble = report.zone === 'open' ? 'a cut wire (wire_cut)' : report.zone === 'short' ? 'a shorted wire (wire_short)' : 'a press (alarm)'
        const ok = await o.confirm(`A${o.loopChannel} reads ${report.zone}: the gateway will report ${trouble} until it is fixed. Save this loop anyway?`)
        if (!ok) throw new Error(`not saved: A${o.loopChannel} reads ${report.zone} — ${report.advice}. Fix the wiring and run again`)
        return { type: 'loop', channel: o.loopChannel, report, verified: false, adcMax: pins.adcMax }
      }
      o.say(`Press the button on A${o.loopChannel} to check the loop, then release it (waiting up to ${o.seconds} s)...`)
      await s.press(o.seconds, o.say, `the loop on A${o.loopChannel}`)
      return { type: 'loop', channel: o.loopChannel, report, verified: true, adcMax: pins.adcMax }
    }

    const normalLoops = loops.filter((w) => w.rest === LoopZone.NORMAL && !w.ignored).map((w) => w.name)
    const watching = [nameRange('D', digital), normalLoops.length ? `the loops reading normal on ${normalLoops.join(', ')}` : ''].filter(Boolean).join(' and ')
    o.say(`Press the button you are pairing, then release it (waiting up to ${o.seconds} s)...`)
    const got = await s.press(o.seconds, o.say, watching)
    const n = watches.get(got.input)!
    if (got.input.analog) {
      const report = reportLoop(rest.get(got.input)!, settings, th)
      return { type: 'loop', channel: n, report, verified: true, adcMax: pins.adcMax }
    }
    // With the pull-up a contact to GND reads low when closed; with an external pull-down, high.
    const closedLevel = o.pullup ? 0 : 1
    const wiring = got.input.rest === closedLevel ? 'normally_closed' : 'normally_open'
    return { type: 'digital', pin: n, wiring, how: got.how }
  } finally {
    s.learner.dispose()
  }
}
