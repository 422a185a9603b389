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
 * Wire format: `struct input_event` (linux/input.h): struct timeval (two
 * longs), __u16 type, __u16 code, __s32 value = 24 bytes on 64-bit, 16 bytes
 * for a 32-bit process. EV_KEY (1): value 1 = pressed, 0 = released,
 * 2 = autorepeat (ignored). The kernel only ever returns whole events; a
 * partial tail (a FIFO in tests) is carried to the next read.
 *
 * The read blocks one libuv threadpool thread per input device while waiting
 * (evdev cannot be opened as a stream); the default pool has 4.
 */
import { open, read, close } from 'node:fs'
import type { Clock, TimerHandle } from '../../gateway/clock.js'
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import type { Logger } from 'pino'
import { ButtonChannel, type PanicButtonDevice } from './button-channel.js'
import { Backoff } from '../../gateway/backoff.js'

export const EV_KEY = 1
/** Size of struct input_event for this process's ABI. */
export const INPUT_EVENT_SIZE = process.arch === 'arm' || process.arch === 'ia32' ? 16 : 24
const TYPE_OFFSET = INPUT_EVENT_SIZE - 8

/** Encode one input_event (tests, tools): little-endian like every Pi. */
export function encodeInputEvent(type: number, code: number, value: number, wallMs = Date.now(), size = INPUT_EVENT_SIZE): Buffer {
  const b = Buffer.alloc(size)
  const sec = Math.floor(wallMs / 1000)
  const usec = Math.round((wallMs % 1000) * 1000)
  if (size === 24) { b.writeBigInt64LE(BigInt(sec), 0); b.writeBigInt64LE(BigInt(usec), 8) } else { b.writeInt32LE(sec, 0); b.writeInt32LE(usec, 4) }
  b.writeUInt16LE(type, size - 8)
  b.writeUInt16LE(code, size - 6)
  b.writeInt32LE(value, size - 4)
  return b
}

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
  private fill = 0
  private readonly buf = Buffer.alloc(INPUT_EVENT_SIZE * 64)
  private readonly byCode = new Map<number, ButtonChannel>()
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
      this.fill = 0
      this.inFault = false
      this.backoff.reset()
      this.log.info({ path: this.path }, 'gpio input device open')
      for (const ch of this.channels) ch.linkUp()
      this.next()
    })
  }

  private next(): void {
    read(this.fd, this.buf, this.fill, this.buf.length - this.fill, null, this.onRead)
  }

  private readDone(err: NodeJS.ErrnoException | null, n: number): void {
    if (this.stopped) return
    if (err || n === 0) {
      // ENODEV: the device went away; 0: end of stream (never for evdev, a closed FIFO in tests)
      this.fail(err ? `input device ${this.path} failed: ${err.message}` : `input device ${this.path} closed`)
      return
    }
    const total = this.fill + n
    const buf = this.buf
    let off = 0
    for (; off + INPUT_EVENT_SIZE <= total; off += INPUT_EVENT_SIZE) {
      if (buf.readUInt16LE(off + TYPE_OFFSET) !== EV_KEY) continue
      const value = buf.readInt32LE(off + TYPE_OFFSET + 4)
      if (value === 2) continue // autorepeat
      const ch = this.byCode.get(buf.readUInt16LE(off + TYPE_OFFSET + 2))
      if (ch === undefined) { this.unknownKey(); continue }
      ch.contact(value === 1)
    }
    this.fill = total - off
    if (this.fill > 0) buf.copyWithin(0, off, total)
    this.next()
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

  constructor(opts: GpioPanicButtonOptions, private readonly ctx: DriverContext) {
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
    for (const ch of this.channels) this.ctx.sink.linkStatus(ch.index, 'starting', '')
    for (const r of this.readers) r.openDevice()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const r of [...this.readers].reverse()) r.stop()
    for (const ch of this.channels) {
      ch.dispose()
      this.ctx.sink.linkStatus(ch.index, 'offline', 'stopped')
    }
  }

  /** Key events whose code no configured button uses (a mistyped key_code shows here). */
  unknownKeys(): number { return this.readers.reduce((n, r) => n + r.unknownKeys, 0) }
}
