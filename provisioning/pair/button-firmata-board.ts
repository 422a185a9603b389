/**
 * A Firmata board opened for pairing (issue 7 §2): the same stack as the
 * gateway's driver (devices/panic-button/hw-firmata.ts): serialport 13 ->
 * FirmataFrameFilter (only whole messages reach firmata-io) -> firmata-io,
 * with the board config's baud, version query and handshake timeout.
 *
 * Why not the driver itself: it reports debounced button events for
 * configured pins only, while press-to-learn needs the pin table, every
 * input's raw level and the loops' raw ADC counts. johnny-five is left out
 * because firmata-io alone does the handshake and nothing here needs j5's
 * components (and its module-level Board cache and 10 s timer would only
 * have to be undone, as the driver does).
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { EventEmitter } from 'node:events'
import { SerialPort } from 'serialport'
import type { FirmataBoardConfig } from '../../devices/panic-button/board-config.js'
import { FirmataFrameFilter } from '../../devices/panic-button/firmata-frame-filter.js'
import { describeMissingPort } from '../../devices/panic-button/hw-firmata.js'

const require = createRequire(import.meta.url)

/** The parts of firmata-io's Board used here (it ships no types). */
interface FirmataIo extends EventEmitter {
  MODES: { INPUT: number; ANALOG: number; PULLUP: number }
  RESOLUTION: { ADC: number | null }
  pins: Array<{ supportedModes: number[]; analogChannel: number }>
  analogPins: number[]
  firmware: { name?: string; version?: { major: number; minor: number } }
  versionReceived?: boolean
  reportVersionTimeoutId?: ReturnType<typeof setTimeout>
  pinMode(pin: number, mode: number): void
  digitalRead(pin: number, cb: (value: number) => void): void
  analogRead(channel: number, cb: (value: number) => void): void
}
const { Firmata } = require('firmata-io') as { Firmata: new (transport: EventEmitter, o: Record<string, unknown>) => FirmataIo }

/** Firmata REPORT_VERSION: every firmware answers it, so it doubles as a ping (as in the driver). */
const PING = Buffer.from([0xf9])

/** The board's stable name once `safehouse install` has written its udev rule (provisioning/install/udev-rules.ts). */
export const udevFirmata = (boardId: string): string => `/dev/safehouse-firmata-${boardId}`

const CHECKS = (cfg: FirmataBoardConfig): string =>
  `Check: the USB cable (a charge-only cable carries no data); that ${cfg.port} is the board ` +
  `(after \`safehouse install\` its stable name is ${udevFirmata(cfg.id)}; \`ls -l /dev/serial/by-id/\` lists the ports by device); ` +
  'that your user is in the "dialout" group; and that the board runs StandardFirmata ' +
  `at ${cfg.baud} baud (docs/devices/panic-button.md §3).`

export interface BoardPins {
  /** Digital pins that can be inputs (with the pull-up when asked) and have no analog channel. */
  digital: number[]
  /** Analog channels and the pin each is on. */
  analog: Array<{ channel: number; pin: number }>
  total: number
  /** Full-scale ADC reading the board reports (1023 on a Nano/Uno, 4095 on 12-bit boards). */
  adcMax: number
}

export class FirmataPairBoard {
  private lastRx = 0
  private problem = ''

  private constructor(
    readonly cfg: FirmataBoardConfig,
    private readonly port: SerialPort,
    private readonly io: FirmataIo,
  ) {}

  /** Open the port and complete the Firmata handshake; throws a message that says what to check. */
  static async open(cfg: FirmataBoardConfig): Promise<FirmataPairBoard> {
    const path = cfg.port
    if (!existsSync(path)) {
      const ports = await SerialPort.list().catch(() => [])
      throw new Error(`${describeMissingPort(path, ports)} After \`safehouse install\` the board is ${udevFirmata(cfg.id)}.`)
    }
    const port = new SerialPort({ path, baudRate: cfg.baud, autoOpen: false })
    const filter = new FirmataFrameFilter()
    const transport = new EventEmitter() as EventEmitter & { write: (d: Buffer, cb?: (e?: Error | null) => void) => boolean }
    transport.write = (d, cb) => port.write(d, cb)
    // Built before the port opens, like the driver: a Nano announces itself right after its reset.
    const io = new Firmata(transport, { reportVersionTimeout: cfg.version_query_ms, samplingInterval: cfg.sampling_interval_ms })
    const board = new FirmataPairBoard(cfg, port, io)
    port.on('data', (chunk: Buffer) => {
      board.lastRx = performance.now()
      if (filter.push(chunk) > 0) {
        try { transport.emit('data', filter.out.subarray(0, filter.outLength)) } catch { /* dropped, as the driver does */ }
      }
    })
    port.on('error', (e: Error) => { board.problem ||= `serial port ${path}: ${e.message}` })
    port.on('close', () => { board.problem ||= `serial port ${path} closed` })
    io.on('error', (e: unknown) => { board.problem ||= `board on ${path}: ${e instanceof Error ? e.message : String(e)}` })
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => {
        if (!err) { resolve(); return }
        let hint = CHECKS(cfg)
        if (/permission denied|EACCES/i.test(err.message)) hint = 'Add your user to the "dialout" group (sudo usermod -aG dialout $USER, then log in again), or run with sudo.'
        else if (/lock|busy/i.test(err.message)) hint = 'Another program holds the port: stop the gateway while pairing (sudo systemctl stop safehouse) and close any serial monitor.'
        reject(new Error(`cannot open serial port ${path}: ${err.message}. ${hint}`))
      }))
      board.lastRx = performance.now()
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          const partly = io.versionReceived === true ? ' (it sent its version but not its capabilities: old or custom firmware, reflash StandardFirmata)' : ' (no reply at all)'
          reject(new Error(`board on ${path} did not answer the Firmata handshake within ${cfg.handshake_timeout_ms} ms${partly}. ${CHECKS(cfg)}`))
        }, cfg.handshake_timeout_ms)
        const poll = setInterval(() => {
          if (!board.problem) return
          clearTimeout(timer); clearInterval(poll)
          reject(new Error(`${board.problem}. ${CHECKS(cfg)}`))
        }, 50)
        io.once('ready', () => { clearTimeout(timer); clearInterval(poll); resolve() })
      })
    } catch (e) {
      await board.close()
      throw e
    }
    filter.afterHandshake = true
    return board
  }

  get firmware(): string {
    const fw = this.io.firmware
    return fw.name ? `${fw.name.replace(/\.ino$/, '')} ${fw.version?.major ?? '?'}.${fw.version?.minor ?? '?'}` : 'unknown firmware'
  }

  pins(pullup: boolean): BoardPins {
    const io = this.io
    const mode = pullup ? io.MODES.PULLUP : io.MODES.INPUT
    const digital: number[] = []
    io.pins.forEach((p, i) => { if (p.analogChannel === 127 && p.supportedModes.includes(mode)) digital.push(i) })
    const analog = io.analogPins.map((pin) => ({ channel: io.pins[pin].analogChannel, pin })).sort((a, b) => a.channel - b.channel)
    return { digital, analog, total: io.pins.length, adcMax: io.RESOLUTION.ADC ?? 1023 }
  }

  /** Make `pin` an input (pull-up on when asked) and report its level. */
  watchDigital(pin: number, pullup: boolean, cb: (level: number) => void): void {
    this.io.pinMode(pin, pullup ? this.io.MODES.PULLUP : this.io.MODES.INPUT)
    this.io.digitalRead(pin, cb)
  }

  /** Report analog channel `channel` every sampling interval. */
  watchAnalog(channel: number, cb: (reading: number) => void): void {
    this.io.pinMode(channel, this.io.MODES.ANALOG)
    this.io.analogRead(channel, cb)
  }

  /**
   * Liveness, as the driver's tick: '' while the board is there; else what
   * went wrong. A PTY or some USB adapters never report a close, so silence
   * and a vanished path are the signs.
   */
  check(): string {
    if (this.problem) return this.problem
    if (!existsSync(this.cfg.port)) return `serial port ${this.cfg.port} vanished (board unplugged?)`
    const quiet = performance.now() - this.lastRx
    if (quiet > this.cfg.dead_after_ms) return `board on ${this.cfg.port} went silent for ${Math.round(quiet)} ms (unplugged, reset or hung)`
    if (quiet >= this.cfg.liveness_interval_ms) this.port.write(PING)
    return ''
  }

  async close(): Promise<void> {
    const io = this.io
    if (io.reportVersionTimeoutId) clearTimeout(io.reportVersionTimeoutId)
    io.removeAllListeners()
    io.on('error', () => {})
    const port = this.port
    port.removeAllListeners('data')
    port.on('error', () => {})
    if (!port.isOpen) return
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000) // a vanished device may never call back
      port.close(() => { clearTimeout(t); resolve() })
    })
  }
}
