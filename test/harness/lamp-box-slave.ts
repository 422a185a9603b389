/**
 * A Modbus RTU slave that plays the lamp box on the far end of a PTY pair
 * (issue 5 §4: serialport opens one end, this answers on the other). It
 * frames requests with protocols/lamp-box/rtu-frame.ts and answers from
 * devices/lamp-box/controller-model.ts, the same model as the sim twin.
 *
 * Hand-written rather than modbus-serial's ServerSerial because the tests need
 * byte-level misbehaviour on the line: bad CRCs, partial frames, noise,
 * silence, slow replies.
 */
import { SerialPort } from 'serialport'
import { RtuFramer, sealFrame, type RtuFrameSink } from '../../protocols/lamp-box/rtu-frame.js'
import { HR_PATTERN } from '../../protocols/lamp-box/register-map.js'
import { LampBoxControllerModel } from '../../devices/lamp-box/controller-model.js'

export type SlaveMode =
  | 'normal'
  | 'silent' // no replies at all
  | 'bad-crc' // replies with a corrupted CRC
  | 'partial' // first half of each reply, then nothing
  | 'noise' // random bytes before each valid reply
  | 'garbage' // random bytes instead of replies
  | 'late' // each reply `lateMs` after its request (past the master's timeout)
  | 'other-unit' // replies carry another unit id (a second device on the bus, a wrong address switch)

import { seededRandom } from './seeded-random.js'
export { seededRandom }

export interface SlaveRequest {
  unit: number
  fc: number
  addr: number
  /** performance.now() when the whole request had arrived. */
  at: number
}

export class LampBoxSlave implements RtuFrameSink {
  readonly model: LampBoxControllerModel
  readonly framer = new RtuFramer('request')
  mode: SlaveMode = 'normal'
  /** Delay before each reply, ms (a slow controller or a long poll). */
  replyDelayMs = 0
  /** The delay of mode 'late'. */
  lateMs = 400
  /** Until this performance.now(), the controller is rebooting: it answers nothing (reset()). */
  private bootingUntil = 0
  private babbleTimer: NodeJS.Timeout | null = null
  readonly requests: SlaveRequest[] = []
  /** Called when a pattern write (FC16/FC06 at HR_PATTERN) has arrived: value, performance.now(). */
  onPatternWrite: ((pattern: number, at: number) => void) | null = null
  private port: SerialPort | null = null
  private lastByteAt = 0
  private readonly rnd: () => number

  constructor(readonly path: string, model?: LampBoxControllerModel, seed = 1) {
    this.model = model ?? new LampBoxControllerModel()
    this.rnd = seededRandom(seed)
  }

  async open(): Promise<this> {
    const port = new SerialPort({ path: this.path, baudRate: 19200, autoOpen: false })
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())))
    port.on('data', (chunk: Buffer) => this.onData(chunk))
    port.on('error', () => { /* the PTY vanished under us (unplug): close() tidies up */ })
    this.port = port
    this.framer.reset()
    return this
  }

  async close(): Promise<void> {
    this.babble(0)
    const p = this.port
    this.port = null
    if (!p || !p.isOpen) return
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000)
      p.close(() => { clearTimeout(t); resolve() })
    })
  }

  /** After PtyPair.replug(): the old fd is dead, open the new PTY. */
  async reopen(): Promise<this> {
    await this.close()
    return this.open()
  }

  /**
   * The controller resets (brown-out, watchdog, a technician's power cycle; issue 11): its
   * volatile registers go back to power-on values (pattern normal) and it answers nothing
   * for `bootMs` while it boots.
   */
  reset(bootMs = 300): void {
    this.model.reboot()
    this.bootingUntil = performance.now() + bootMs
    this.framer.reset()
  }

  /**
   * A device babbling on the line by itself (a faulty transceiver stuck transmitting, another
   * master): `bytes` random bytes every `everyMs` until babble(0). Not in reply to anything.
   */
  babble(bytes: number, everyMs = 30): void {
    if (this.babbleTimer) clearInterval(this.babbleTimer)
    this.babbleTimer = null
    if (bytes <= 0) return
    this.babbleTimer = setInterval(() => this.inject(this.randomBytes(bytes)), everyMs)
  }

  /** Write raw bytes onto the line (noise injection from a test). */
  inject(bytes: Uint8Array): void {
    this.port?.write(Buffer.from(bytes))
  }

  private onData(chunk: Buffer): void {
    const now = performance.now()
    // RTU frames end at 3.5 character times of silence (Modbus serial §2.5.1.1);
    // a long gap means whatever is pending is a dead partial frame.
    if (now - this.lastByteAt > 50) this.framer.reset()
    this.lastByteAt = now
    this.framer.push(chunk, this)
  }

  frame(buf: Uint8Array, off: number, len: number): void {
    const unit = buf[off]
    const fc = buf[off + 1]
    const addr = (buf[off + 2] << 8) | buf[off + 3]
    const at = performance.now()
    this.requests.push({ unit, fc, addr, at })
    if ((fc === 16 || fc === 6) && addr === HR_PATTERN && unit === this.model.unitId) {
      this.onPatternWrite?.(fc === 16 ? (buf[off + 7] << 8) | buf[off + 8] : (buf[off + 4] << 8) | buf[off + 5], at)
    }
    if (unit !== this.model.unitId) return // not ours (0 = broadcast: never answered, §2.1)
    if (at < this.bootingUntil) return // still booting after a reset
    const resp = this.answer(buf, off, len)
    const delay = this.mode === 'late' ? this.lateMs : this.replyDelayMs
    if (delay > 0) setTimeout(() => this.send(resp), delay)
    else this.send(resp)
  }

  private answer(req: Uint8Array, off: number, len: number): Buffer {
    const m = this.model
    const fc = req[off + 1]
    const addr = (req[off + 2] << 8) | req[off + 3]
    const qty = (req[off + 4] << 8) | req[off + 5]
    const out = Buffer.alloc(260)
    out[0] = req[off]
    out[1] = fc
    let ex = 0
    let n = 2
    switch (fc) {
      case 1: case 2: {
        const bytes = (qty + 7) >> 3
        ex = qty > 2000 ? 3 : m.readBits(fc, addr, qty, out, 3)
        out[2] = bytes
        n = 3 + bytes
        break
      }
      case 3: case 4:
        ex = qty > 125 ? 3 : fc === 3 ? m.readHoldingRegisters(addr, qty, out, 3) : m.readInputRegisters(addr, qty, out, 3)
        out[2] = 2 * qty
        n = 3 + 2 * qty
        break
      case 5:
        ex = m.writeCoils(addr, [qty === 0xff00 ? 1 : 0])
        req.slice(off + 2, off + 6).forEach((b, i) => { out[2 + i] = b })
        n = 6
        break
      case 6:
        ex = m.writeRegisters(addr, [qty])
        req.slice(off + 2, off + 6).forEach((b, i) => { out[2 + i] = b })
        n = 6
        break
      case 15: case 16: {
        const values: number[] = []
        for (let i = 0; i < qty; i++) {
          values.push(fc === 15 ? (req[off + 7 + (i >> 3)] >> (i & 7)) & 1 : (req[off + 7 + 2 * i] << 8) | req[off + 8 + 2 * i])
        }
        ex = 7 + req[off + 6] + 2 === len ? (fc === 15 ? m.writeCoils(addr, values) : m.writeRegisters(addr, values)) : 3
        req.slice(off + 2, off + 6).forEach((b, i) => { out[2 + i] = b })
        n = 6
        break
      }
      default:
        ex = 1
    }
    if (ex) {
      out[1] = fc | 0x80
      out[2] = ex
      n = 3
    }
    return out.subarray(0, sealFrame(out, n))
  }

  private send(resp: Buffer): void {
    const p = this.port
    if (!p || !p.isOpen) return
    switch (this.mode) {
      case 'normal': case 'late': p.write(resp); break
      case 'other-unit': resp[0] = (resp[0] % 247) + 1; sealFrame(resp, resp.length - 2); p.write(resp); break
      case 'silent': break
      case 'bad-crc': resp[resp.length - 1] ^= 0x5a; p.write(resp); break
      case 'partial': p.write(resp.subarray(0, resp.length >> 1)); break
      case 'noise': p.write(Buffer.concat([this.randomBytes(1 + Math.floor(this.rnd() * 8)), resp])); break
      case 'garbage': p.write(this.randomBytes(1 + Math.floor(this.rnd() * 40))); break
    }
  }

  private randomBytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.rnd() * 256)
    return b
  }
}
