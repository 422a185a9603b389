/**
 * Wired panic buttons on the Pi's own GPIO (issue 3 §5), through the kernel
 * `gpio-keys` driver: a `dtoverlay=gpio-key,...` line per button in
 * /boot/firmware/config.txt turns a GPIO line into a key on a Linux input
 * device, which this driver reads with plain node:fs.
 *
 * Why this way: it works on every Pi including the Pi 5 (RP1 GPIO), needs no
 * native module (installs cleanly on x86 CI), and the kernel does the
 * interrupt handling, pull-up, polarity (active_low) and a first debounce.
 * raspi-io is unmaintained; the GPIO character device needs ioctls node:fs
 * cannot issue.
 *
 * Records: struct input_event, decoded by input-event.ts (shared with
 * `safehouse pair button --gpio`).
 *
 * The read blocks one libuv threadpool thread per input device while waiting
 * (evdev cannot be opened as a stream); the default pool has 4.
 */
import { open, read, close } from 'node:fs'
import type { Clock, TimerHandle } from '../time/clock.js'
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import type { Logger } from 'pino'
import { ButtonChannel, type PanicButtonDevice } from './button-channel.js'
import { Backoff } from '../time/backoff.js'
import { InputEventDecoder } from './input-event.js'

export interface GpioPanicButtonOptions {
  /** Buttons with `driver: gpio`; grouped by `input_device`, matched by `key_code`. */
  buttons: readonly PanicButtonDevice[]
  reconnectMinMs?: number
  reconnectMaxMs?: number
}

class InputDeviceReader {
  private fd = -1
  private stopped = false
  private generation = 0
  private readonly byCode = new Map<number, ButtonChannel>()
  private readonly decoder = new InputEventDecoder((code, value) => this.key(code, value))
  private retryTimer: TimerHandle | null = null
  private readonly backoff: Backoff
  private readonly onRead = (err: NodeJS.ErrnoException | null, n: number): void => this.readDone(err, n)
  private readonly onRetry = (): void => { this.retryTimer = null; this.openDevice() }
  private inFault = false
  unknownKeys = 0

  constructor(
    readonly path: string,
    readonly channels: readonly ButtonChannel[],
    private readonly clock: Clock,
    private readonly log: Logger,
    minMs: number,
    maxMs: number,
  ) {
    for (const ch of channels) this.byCode.set(ch.config.key_code, ch)
    this.backoff = new Backoff(minMs, maxMs)
  }

  openDevice(): void {
    if (this.stopped) return
    const gen = ++this.generation
    open(this.path, 'r', (err, fd) => {
      if (this.stopped || gen !== this.generation) { if (!err) close(fd, () => {}); return }
      if (err) {
        const hint = err.code === 'ENOENT'
          ? ': is the gpio-keys overlay in /boot/firmware/config.txt (dtoverlay=gpio-key,...) and input_device the right path? See docs/devices/panic-button.md'
          : err.code === 'EACCES' ? ': add the gateway user to the "input" group' : ''
        this.fail(`cannot open input device ${this.path}: ${err.message}${hint}`)
        return
      }
      this.fd = fd
      this.decoder.reset()
      this.inFault = false
      this.backoff.reset()
      this.log.info({ path: this.path }, 'gpio input device open')
      for (const ch of this.channels) ch.linkUp()
      this.next()
    })
  }

  private next(): void {
    const d = this.decoder
    read(this.fd, d.buf, d.fill, d.room, null, this.onRead)
  }

  private readDone(err: NodeJS.ErrnoException | null, n: number): void {
    if (this.stopped) return
    if (err || n === 0) {
      // ENODEV: the device went away; 0: end of stream (never for evdev, a closed FIFO in tests)
      this.fail(err ? `input device ${this.path} failed: ${err.message}` : `input device ${this.path} closed`)
      return
    }
    this.decoder.decode(n)
    this.next()
  }

  private key(code: number, value: number): void {
    const ch = this.byCode.get(code)
    if (ch === undefined) this.unknownKey()
    else ch.contact(value === 1)
  }

  private unknownKey(): void {
    this.unknownKeys++
    for (const ch of this.channels) ch.count('gpio_unknown_key')
  }

  private fail(reason: string): void {
    this.closeFd()
    const first = !this.inFault
    this.inFault = true
    for (const ch of this.channels) ch.linkDown(reason)
    const delay = this.backoff.next()
    if (first) this.log.error({ path: this.path, reason, retryInMs: delay }, 'gpio input device fault')
    else this.log.warn({ path: this.path, reason, attempt: this.backoff.attempts, retryInMs: delay }, 'gpio input device still down')
    this.retryTimer = this.clock.setTimeout(this.onRetry, delay)
  }

  private closeFd(): void {
    this.generation++
    if (this.fd >= 0) { close(this.fd, () => {}); this.fd = -1 }
  }

  stop(): void {
    this.stopped = true
    if (this.retryTimer) { this.clock.clearTimeout(this.retryTimer); this.retryTimer = null }
    this.closeFd()
  }
}

export class GpioPanicButtonDriver implements DeviceDriver {
  readonly kind = 'panic-button' as const
  private readonly readers: InputDeviceReader[] = []
  private readonly channels: ButtonChannel[] = []
  private stopped = false

  constructor(opts: GpioPanicButtonOptions, ctx: DriverContext) {
    const byPath = new Map<string, ButtonChannel[]>()
    const codes = new Map<string, string>()
    for (const b of opts.buttons) {
      const c = b.config
      if (c.wiring === 'eol_supervised') throw new Error(`panic button "${c.id}": the Pi has no analog input; eol_supervised needs driver: firmata`)
      const key = `${c.input_device}#${c.key_code}`
      const other = codes.get(key)
      if (other) throw new Error(`panic buttons "${other}" and "${c.id}" both use key_code ${c.key_code} on ${c.input_device}; give each gpio-key overlay its own keycode`)
      codes.set(key, c.id)
      const ch = new ButtonChannel(b, ctx.clock, ctx.sink)
      this.channels.push(ch)
      byPath.set(c.input_device, [...(byPath.get(c.input_device) ?? []), ch])
    }
    for (const [path, chans] of byPath) {
      this.readers.push(new InputDeviceReader(path, chans, ctx.clock, ctx.log.child({ driver: 'gpio' }),
        opts.reconnectMinMs ?? 1000, opts.reconnectMaxMs ?? 30000))
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    for (const ch of this.channels) ch.linkStarting()
    for (const r of this.readers) r.openDevice()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const r of [...this.readers].reverse()) r.stop()
    for (const ch of this.channels) ch.linkStopped()
  }

  /** Key events whose code no configured button uses (a mistyped key_code shows here). */
  unknownKeys(): number { return this.readers.reduce((n, r) => n + r.unknownKeys, 0) }
}
