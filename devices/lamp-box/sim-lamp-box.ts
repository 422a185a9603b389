/**
 * The simulated lamp box (config `driver: sim`): the real driver logic
 * (lamp-box-driver.ts) over an in-memory transport that answers like the
 * controller (controller-model.ts) and keeps the real invariants, modelled on
 * serialport's MockBinding: open is async, replies arrive later on the
 * Clock, a silent unit times out after timeout_ms, an unplugged adapter
 * closes the port under the driver. Used by the demo and the unit tests.
 */
import type { DriverContext, LampPattern } from '../device-driver.js'
import type { Clock } from '../time/clock.js'
import { PATTERN_NAMES } from '../../protocols/lamp-box/register-map.js'
import type { LampBoxConfig } from './config.js'
import { LampBoxControllerModel } from './controller-model.js'
import { LampBoxDriver } from './lamp-box-driver.js'
import { LampBoxTxError, type ModbusTransport } from './modbus-transport.js'

export interface SimPatternWrite {
  /** Pattern now running on the simulated controller. */
  pattern: LampPattern
  /** Wall ms (Clock.now) when it was written. */
  at: number
  /** Generic profile: the coil states written (bit 0 red, bit 1 blue); -1 for the safehouse profile. */
  coils: number
}

const RECENT_WRITES = 256

class SimTransport implements ModbusTransport {
  readonly describe = 'simulated RS-485 line'
  onLost: ((reason: string) => void) | null = null
  plugged = true
  silent = false
  garbled = false
  latencyMs = 2
  /** The last RECENT_WRITES writes: a demo runs for days (the one-hour soak found this list growing by one per write). */
  readonly writes: SimPatternWrite[] = []
  writeCount = 0
  private open_ = false

  constructor(readonly model: LampBoxControllerModel, private readonly clock: Clock, private readonly cfg: LampBoxConfig) {}

  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.clock.setTimeout(() => {
        if (!this.plugged) { reject(new Error('No such file or directory, cannot open simulated port')); return }
        this.open_ = true
        resolve()
      }, 1)
    })
  }

  close(): Promise<void> { this.open_ = false; return Promise.resolve() }
  pathExists(): boolean { return this.plugged }

  async describeOpenError(err: unknown): Promise<string> {
    return `lamp box "${this.cfg.id}": cannot open ${this.describe} (${err instanceof Error ? err.message : String(err)}). Serial ports present: none (simulated). Call replug() on the sim.`
  }

  private record(w: SimPatternWrite): void {
    this.writeCount++
    if (this.writes.push(w) > RECENT_WRITES) this.writes.shift()
  }

  unplug(): void {
    this.plugged = false
    if (this.open_) { this.open_ = false; this.onLost?.('port closed') }
  }

  readInputRegisters(unit: number, addr: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array(2 * count)
    return this.reply(unit, () => this.model.readInputRegisters(addr, count, out, 0), out)
  }

  readDiscreteInputs(unit: number, addr: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array((count + 7) >> 3)
    return this.reply(unit, () => this.model.readBits(2, addr, count, out, 0), out)
  }

  readCoils(unit: number, addr: number, count: number): Promise<Uint8Array> {
    const out = new Uint8Array((count + 7) >> 3)
    return this.reply(unit, () => this.model.readBits(1, addr, count, out, 0), out)
  }

  writeRegisters(unit: number, addr: number, values: number[]): Promise<void> {
    return this.reply(unit, () => {
      const ex = this.model.writeRegisters(addr, values)
      if (!ex) this.record({ pattern: PATTERN_NAMES[this.model.pattern], at: this.clock.now(), coils: -1 })
      return ex
    }, undefined)
  }

  writeCoils(unit: number, addr: number, values: boolean[]): Promise<void> {
    return this.reply(unit, () => {
      const ex = this.model.writeCoils(addr, values.map(Number))
      const g = this.model.generic
      if (!ex) this.record({ pattern: 'normal', at: this.clock.now(), coils: this.model.coils[g.red_coil] | (this.model.coils[g.blue_coil] << 1) })
      return ex
    }, undefined)
  }

  private reply<T>(unit: number, work: () => number, value: T): Promise<T> {
    if (!this.open_) return Promise.reject(new LampBoxTxError('port_closed', 'simulated port is not open'))
    return new Promise<T>((resolve, reject) => {
      const answers = this.plugged && !this.silent && unit === this.model.unitId
      this.clock.setTimeout(() => {
        if (!answers || !this.plugged) { reject(new LampBoxTxError('timeout', 'Timed out')); return }
        if (this.garbled) { reject(new LampBoxTxError('crc', 'CRC error')); return }
        const ex = work()
        if (ex) reject(new LampBoxTxError('exception', `Modbus exception ${ex}`, ex))
        else resolve(value)
      }, answers ? this.latencyMs : this.cfg.timeout_ms)
    })
  }
}

/** The simulated twin: same interface as HwModbusLampBox, plus fault injection. */
export class SimLampBox extends LampBoxDriver {
  /** The simulated controller: set its fields to inject faults (doorOpen, mainsOk, redBroken, dark, batteryPct...). */
  readonly model: LampBoxControllerModel
  private readonly sim: SimTransport

  constructor(config: LampBoxConfig, device: number, ctx: DriverContext, model?: LampBoxControllerModel) {
    const m = model ?? new LampBoxControllerModel({ profile: config.profile, unitId: config.unit_id, generic: config.generic, now: () => ctx.clock.now() })
    const sim = new SimTransport(m, ctx.clock, config)
    super({ config, device, ctx, transport: sim, backoff: { random: () => 0.5 } })
    this.model = m
    this.sim = sim
  }

  /** Pattern running on the simulated controller now. */
  get lampPattern(): LampPattern { return PATTERN_NAMES[this.model.pattern] }
  /** The last 256 pattern (or coil) writes that reached the controller, in order. */
  get writes(): readonly SimPatternWrite[] { return this.sim.writes }
  /** How many writes reached the controller since it was made. */
  get writeCount(): number { return this.sim.writeCount }

  /** Pull the USB adapter: the port closes under the driver and cannot be reopened until replug(). */
  unplug(): void { this.sim.unplug() }
  /**
   * The device node vanishes but no close event comes (what a Linux PTY does
   * when its peer dies): only the driver's own checks can notice.
   */
  vanish(): void { this.sim.plugged = false }
  replug(): void { this.sim.plugged = true }
  /** The controller stops answering (power cut at the box, broken A/B pair). */
  setSilent(silent: boolean): void { this.sim.silent = silent }
  /** Every reply arrives with a bad CRC (noise, wrong termination). */
  setGarbled(garbled: boolean): void { this.sim.garbled = garbled }
  /** Reply latency, ms (default 2). */
  setLatency(ms: number): void { this.sim.latencyMs = ms }
}
