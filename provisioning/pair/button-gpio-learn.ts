/**
 * Press-to-learn on the Pi's own GPIO (issue 7 §2, `pair button --gpio`): the
 * kernel's gpio-keys driver turns each button into a key on a Linux input
 * device; the press tells which key code (and, from the dtoverlay line in the
 * boot config, which GPIO line) the button is.
 *
 * The events are decoded by the gateway driver's own decoder
 * (devices/panic-button/input-event.ts: struct input_event, EV_KEY, value
 * 1/0, autorepeat 2 ignored), but read with O_NONBLOCK and polled instead of
 * the driver's blocking read: a blocking read of /dev/input holds a libuv
 * threadpool thread until the next key event, and Node cannot exit while one
 * is blocked (libuv joins its threads at exit), so the command would hang
 * after learning until someone pressed a key again. The kernel reports no
 * initial key state, so every key rests "released".
 */
import { readFileSync, open, read, close, constants } from 'node:fs'
import { systemClock } from '../../devices/time/clock.js'
import { InputEventDecoder } from '../../devices/panic-button/input-event.js'
import { PressLearner, type DigitalWatch, type LearnOptions } from './button-learn.js'

export interface GpioLearned { keyCode: number; how: string }

const POLL_MS = 20

/** Non-blocking reader of input_event records; calls onKey(code, pressed) per EV_KEY press/release. */
class KeyEventReader {
  private fd = -1
  private stopped = false
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly decoder: InputEventDecoder
  error = ''

  constructor(private readonly path: string, onKey: (code: number, pressed: boolean) => void) {
    this.decoder = new InputEventDecoder((code, value) => { if (value === 0 || value === 1) onKey(code, value === 1) })
  }

  open(): Promise<void> {
    return new Promise((resolve, reject) => open(this.path, constants.O_RDONLY | constants.O_NONBLOCK, (err, fd) => {
      if (err) {
        const hint = err.code === 'ENOENT'
          ? 'is the gpio-keys overlay in /boot/firmware/config.txt (dtoverlay=gpio-key,...) and is this the right device? `ls -l /dev/input/by-path/` or `cat /proc/bus/input/devices` lists them; pass it with --input-device'
          : err.code === 'EACCES' ? 'add your user to the "input" group (sudo usermod -aG input $USER, then log in again), or run with sudo' : 'see docs/devices/panic-button.md §5'
        reject(new Error(`cannot open input device ${this.path}: ${err.message}: ${hint}`))
        return
      }
      this.fd = fd
      this.poll()
      resolve()
    }))
  }

  private poll(): void {
    if (this.stopped) return
    const d = this.decoder
    read(this.fd, d.buf, d.fill, d.room, null, (err, n) => {
      if (this.stopped) return
      if (err && err.code !== 'EAGAIN') { this.error = `input device ${this.path} failed: ${err.message}`; return }
      // EAGAIN: no event yet; 0: a FIFO (tests) with no writer yet
      if (!err && n > 0) d.decode(n)
      this.timer = setTimeout(() => this.poll(), err || n === 0 ? POLL_MS : 0)
    })
  }

  close(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    if (this.fd >= 0) close(this.fd, () => {})
    this.fd = -1
  }
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
  const learner = new PressLearner(systemClock, o.learn)
  const watches = new Map<number, DigitalWatch>()
  const reader = new KeyEventReader(o.inputDevice, (code, pressed) => {
    let w = watches.get(code)
    if (!w) {
      w = learner.digital(`key ${code}`)
      w.sample(0) // released at rest: the kernel does not report it
      w.rest = 0
      watches.set(code, w)
    }
    w.sample(pressed ? 1 : 0)
  })
  await reader.open()
  try {
    o.say(`Press the button you are pairing, then release it (waiting up to ${o.seconds} s on ${o.inputDevice})...`)
    const deadline = performance.now() + o.seconds * 1000
    for (;;) {
      await new Promise((r) => setTimeout(r, 50))
      if (reader.error) throw new Error(`${reader.error}: check the device with \`sudo evtest ${o.inputDevice}\``)
      const v = learner.verdict()
      if (v.kind === 'learned') return { keyCode: Number(v.input.name.slice(4)), how: v.how }
      if (v.kind === 'several') {
        o.say(`Several keys changed (${v.inputs.map((i) => i.name).join(', ')}): press only the button you are pairing, once.`)
        learner.arm()
      }
      if (performance.now() > deadline) {
        throw new Error(`nothing was pressed within ${o.seconds} s on ${o.inputDevice}: check the dtoverlay=gpio-key line in ` +
          '/boot/firmware/config.txt and the button\'s wiring (test with `sudo evtest`), or run again with a longer --seconds')
      }
    }
  } finally {
    reader.close()
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
