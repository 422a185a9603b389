/**
 * Press-to-learn on the Pi's own GPIO (issue 7 §2, `pair button --gpio`),
 * through the gateway's own driver (devices/panic-button/hw-gpio.ts): it is
 * started with one button per possible key code on the input device, so
 * whichever key the press produces is reported by the same read path, event
 * decoding and debounce the gateway will use. The kernel's gpio-keys driver
 * reports no initial state, so every key rests "released".
 *
 * The GPIO line itself is not in the key event: it is looked up in the
 * dtoverlay=gpio-key lines of the boot config (docs/devices/panic-button.md §5).
 */
import { readFileSync } from 'node:fs'
import pino from 'pino'
import { systemClock } from '../../gateway/clock.js'
import { Kind } from '../../gateway/core/event-kinds.js'
import type { DeviceInputSink, DeviceLinkStatus } from '../../devices/device-driver.js'
import { GpioPanicButtonDriver } from '../../devices/panic-button/hw-gpio.js'
import { panicButtonDefaults } from '../../devices/panic-button/config.js'
import { PressLearner, type DigitalWatch, type LearnOptions } from './button-learn.js'

/** Key codes the gpio-keys overlay can give (the config schema's key_code range). */
const KEY_CODES = 768

export interface GpioLearned { keyCode: number; how: string }

/** Sink for the learning driver: key presses and releases go to the learner, faults are kept. */
class LearnSink implements DeviceInputSink {
  fault = ''
  online = false
  private readonly watches = new Map<number, DigitalWatch>()
  constructor(private readonly learner: PressLearner) {}

  input(device: number, kind: number): void {
    if (kind !== Kind.PANIC && kind !== Kind.RELEASE) return
    let w = this.watches.get(device)
    if (!w) {
      w = this.learner.digital(`key ${device}`)
      w.sample(0) // released at rest: the kernel does not report it
      w.rest = 0
    }
    this.watches.set(device, w)
    w.sample(kind === Kind.PANIC ? 1 : 0)
  }

  linkStatus(_device: number, status: DeviceLinkStatus, reason: string): void {
    if (status === 'fault') this.fault = reason
    if (status === 'online') { this.online = true; this.fault = '' }
  }

  count(): void {}
}

/**
 * Wait for one key to be pressed (and released, or held) on `inputDevice`.
 * Throws when the device cannot be opened or nothing is pressed in time.
 */
export async function learnGpioKey(o: {
  inputDevice: string
  seconds: number
  say: (s: string) => void
  learn: LearnOptions
}): Promise<GpioLearned> {
  const learner = new PressLearner(systemClock, { ...o.learn, settleMs: 0 }) // the driver has debounced already
  const sink = new LearnSink(learner)
  const driver = new GpioPanicButtonDriver({
    buttons: Array.from({ length: KEY_CODES }, (_, code) => ({
      index: code,
      config: panicButtonDefaults(`key-${code}`, { driver: 'gpio', key_code: code, input_device: o.inputDevice, stuck_s: 86400 }),
    })),
    reconnectMinMs: 60_000, // one attempt: a missing device is reported, not retried
  }, { clock: systemClock, log: pino({ level: 'silent' }), sink })
  await driver.start(new AbortController().signal)
  try {
    o.say(`Press the button you are pairing, then release it (waiting up to ${o.seconds} s on ${o.inputDevice})...`)
    const deadline = performance.now() + o.seconds * 1000
    for (;;) {
      await new Promise((r) => setTimeout(r, 50))
      if (sink.fault) throw new Error(`${sink.fault}. Run \`sudo evtest\` to see which input devices exist; pass the right one with --input-device`)
      const v = learner.verdict()
      if (v.kind === 'learned') return { keyCode: Number(v.input.name.slice(4)), how: v.how }
      if (v.kind === 'several') {
        o.say(`Several keys changed (${v.inputs.map((i) => i.name).join(', ')}): press only the button you are pairing, once.`)
        learner.arm()
      }
      if (performance.now() > deadline) {
        throw new Error(`nothing was pressed within ${o.seconds} s on ${o.inputDevice}` +
          `${sink.online ? '' : ' (the input device never opened)'}: check the dtoverlay=gpio-key line in /boot/firmware/config.txt ` +
          'and the button\'s wiring (test with `sudo evtest`), or run again with a longer --seconds')
      }
    }
  } finally {
    await driver.stop()
    learner.dispose()
  }
}

export interface OverlayKey { gpio: number; label: string }

/** `dtoverlay=gpio-key,gpio=17,...,keycode=0x100,label="PANIC1"` lines: the GPIO line (and label) of a key code. */
export function overlayForKey(bootConfig: string, keyCode: number): OverlayKey | null {
  for (const line of bootConfig.split('\n')) {
    const m = /^\s*dtoverlay=gpio-key,(.*)$/.exec(line)
    if (!m) continue
    const params = new Map<string, string>()
    for (const p of m[1].split(',')) {
      const eq = p.indexOf('=')
      if (eq > 0) params.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'))
    }
    // the overlay's default keycode is 116 (KEY_POWER)
    const code = Number(params.get('keycode') ?? '116')
    const gpio = Number(params.get('gpio'))
    if (code === keyCode && Number.isInteger(gpio)) return { gpio, label: params.get('label') ?? '' }
  }
  return null
}

/** The boot config's overlay for a key, from the first of `files` that can be read. */
export function findOverlay(files: readonly string[], keyCode: number): OverlayKey | null {
  for (const f of files) {
    let text: string
    try { text = readFileSync(f, 'utf8') } catch { continue }
    return overlayForKey(text, keyCode)
  }
  return null
}
