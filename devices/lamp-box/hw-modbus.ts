/**
 * The real lamp-box driver: Modbus RTU master from modbus-serial over
 * serialport on a USB RS-485 adapter (issue 5 §2). The only lamp-box file
 * that imports modbus-serial or serialport (DESIGN §4); all scheduling and
 * supervision live in lamp-box-driver.ts, shared with the simulated twin.
 *
 * modbus-serial notes (read from its source, v8.0.25):
 * - it keeps one transaction slot per serial port and does not queue: the
 *   driver must never overlap requests (lamp-box-driver.ts guarantees it);
 * - its RTUBufferedPort finds a reply by unit id + function code + expected
 *   length in a buffer it never clears between requests, so bytes left over
 *   from a partial or late reply could be matched to the next request. We
 *   clear that buffer when a request is written (the line is half-duplex: a
 *   byte that arrives before our request cannot belong to its reply);
 * - errors come as "Timed out" (errno ETIMEDOUT), "CRC error", "Modbus
 *   exception N: ..." (modbusCode), "Data length error..." and
 *   "Unexpected data error..." (bad frames), and PortNotOpenError.
 */
import { existsSync } from 'node:fs'
import type { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import type ModbusModule from 'modbus-serial'
import type { DriverContext } from '../device-driver.js'
import type { LampBoxConfig } from './config.js'
import { LampBoxDriver } from './lamp-box-driver.js'
import { LampBoxTxError, type ModbusTransport, type TxErrorKind } from './modbus-transport.js'
import { portsForMessage } from '../host/serial-ports.js'

type ModbusClient = InstanceType<typeof ModbusModule.default>
type Callback<T> = (err: unknown, res: T) => void

/** The parts of modbus-serial's RTUBufferedPort we touch (it has no typings). */
interface RtuBufferedPort extends EventEmitter {
  _buffer: Buffer
  _client: EventEmitter
  _emitData(start: number, length: number): void
  write(data: Buffer): void
}
type RtuBufferedPortCtor = new (path: string, options: object) => RtuBufferedPort
interface HwLibs { RTUBufferedPort: RtuBufferedPortCtor; ModbusRTU: typeof ModbusModule.default }
let libs: HwLibs | null = null
/**
 * modbus-serial (and through it serialport) loads at the first open, not when the driver registry
 * is imported (issue 13 §5-6: the embedded broker listens before they are read), nor to list the
 * ports for a lamp box whose port is absent (the binding alone does that).
 */
function hw(): HwLibs {
  if (libs) return libs
  const require = createRequire(import.meta.url)
  const modbus = require('modbus-serial') as typeof ModbusModule
  return (libs = {
    RTUBufferedPort: (modbus as unknown as { RTUBufferedPort: RtuBufferedPortCtor }).RTUBufferedPort,
    ModbusRTU: modbus.default,
  })
}
const EMPTY = Buffer.alloc(0)

/** Map a modbus-serial error to what the driver counts. */
export function classifyModbusError(e: unknown): LampBoxTxError {
  const err = e as { name?: string; message?: string; errno?: string; modbusCode?: number }
  const msg = err?.message ?? String(e)
  let kind: TxErrorKind = 'io'
  if (err?.errno === 'ETIMEDOUT' || err?.name === 'TransactionTimedOutError') kind = 'timeout'
  else if (msg === 'CRC error') kind = 'crc'
  else if (typeof err?.modbusCode === 'number') kind = 'exception'
  else if (err?.name === 'PortNotOpenError') kind = 'port_closed'
  else if (msg.startsWith('Data length error') || msg.startsWith('Unexpected data error')) kind = 'bad_frame'
  return new LampBoxTxError(kind, msg, typeof err?.modbusCode === 'number' ? err.modbusCode : 0)
}

/** Serial ports the OS lists, for error messages ("ports present: ..."). Never rejects. */
export async function listSerialPorts(): Promise<string[]> {
  try {
    const ports = await portsForMessage()
    return ports.map((p) => (p.manufacturer ? `${p.path} (${p.manufacturer})` : p.path))
  } catch {
    return []
  }
}

export class ModbusSerialTransport implements ModbusTransport {
  readonly describe: string
  onLost: ((reason: string) => void) | null = null
  onGarbage: ((bytes: number) => void) | null = null
  private client: ModbusClient | null = null
  private settleGarbage: (() => void) | null = null
  private closing: Promise<void> | null = null

  constructor(private readonly cfg: Pick<LampBoxConfig, 'port' | 'baud' | 'parity' | 'stop_bits' | 'timeout_ms' | 'id'>) {
    this.describe = `${cfg.port} at ${cfg.baud} 8${cfg.parity[0].toUpperCase()}${cfg.stop_bits}`
  }

  async open(): Promise<void> {
    if (this.closing) await this.closing
    // An unplugged adapter is the common outage: fail as serialport's binding would (same words),
    // without loading modbus-serial and serialport for a port that is not there (issue 13 §6).
    if (!existsSync(this.cfg.port)) throw new Error(`No such file or directory, cannot open ${this.cfg.port}`)
    const { RTUBufferedPort, ModbusRTU } = hw()
    const port = new RTUBufferedPort(this.cfg.port, {
      baudRate: this.cfg.baud, dataBits: 8, parity: this.cfg.parity, stopBits: this.cfg.stop_bits,
    })
    // Noise accounting (issue 11 §5): every byte received is either part of a reply the port hands
    // to the master (_emitData) or garbage it skips (before a reply) or leaves in its buffer, which
    // we clear when the next request goes out. So at each request: garbage = received - handed.
    let received = 0
    let handed = 0
    const settle = (): void => {
      const garbage = received - handed
      received = handed = 0
      if (garbage > 0) this.onGarbage?.(garbage)
    }
    port._client.on('data', (d: Buffer) => { received += d.length })
    const emitData = port._emitData.bind(port)
    port._emitData = (start: number, length: number): void => { handed += Math.min(length, port._buffer.length - start); emitData(start, length) }
    const write = port.write.bind(port)
    port.write = (data: Buffer): void => { port._buffer = EMPTY; settle(); write(data) }
    this.settleGarbage = settle
    const client = new ModbusRTU(port as never)
    client.setTimeout(this.cfg.timeout_ms)
    // Without listeners these would be thrown as uncaught 'error' events.
    port.on('error', (e: Error) => { if (this.client === client) this.onLost?.(`serial error: ${e.message}`) })
    client.on('error', () => { /* relayed port error; handled above */ })
    client.on('close', () => { if (this.client === client) { this.client = null; this.onLost?.('port closed') } })
    await new Promise<void>((resolve, reject) => client.open((err: unknown) => (err ? reject(err) : resolve())))
    this.client = client
  }

  close(): Promise<void> {
    const c = this.client
    this.client = null
    this.settleGarbage?.()
    this.settleGarbage = null
    if (!c) return this.closing ?? Promise.resolve()
    this.closing = new Promise<void>((resolve) => {
      // A port whose device vanished may never call back: do not hang stop().
      const t = setTimeout(resolve, 1000)
      try {
        c.close(() => { clearTimeout(t); resolve() })
      } catch {
        clearTimeout(t)
        resolve()
      }
    }).then(() => { this.closing = null })
    return this.closing
  }

  pathExists(): boolean {
    return existsSync(this.cfg.port)
  }

  async describeOpenError(err: unknown): Promise<string> {
    const why = err instanceof Error ? err.message : String(err)
    const ports = await listSerialPorts()
    const present = ports.length > 0 ? ports.join(', ') : 'none found'
    let hint = 'Set `port` of this lamp box in the config (prefer a /dev/serial/by-id/... path).'
    if (/EACCES|permission/i.test(why)) hint = 'Add the gateway user to the dialout group (sudo usermod -aG dialout <user>) and log in again.'
    else if (/EBUSY|lock/i.test(why)) hint = 'Another program holds the port (a terminal, ModemManager?): stop it.'
    return `lamp box "${this.cfg.id}": cannot open serial port ${this.cfg.port} (${why}). Serial ports present: ${present}. ${hint}`
  }

  readInputRegisters(unit: number, addr: number, count: number): Promise<Uint8Array> {
    return this.call<{ buffer: Buffer }>((c, cb) => c.writeFC4(unit, addr, count, cb)).then((r) => r.buffer)
  }

  readDiscreteInputs(unit: number, addr: number, count: number): Promise<Uint8Array> {
    return this.call<{ buffer: Buffer }>((c, cb) => c.writeFC2(unit, addr, count, cb)).then((r) => r.buffer)
  }

  readCoils(unit: number, addr: number, count: number): Promise<Uint8Array> {
    return this.call<{ buffer: Buffer }>((c, cb) => c.writeFC1(unit, addr, count, cb)).then((r) => r.buffer)
  }

  writeRegisters(unit: number, addr: number, values: number[]): Promise<void> {
    return this.call<unknown>((c, cb) => c.writeFC16(unit, addr, values, cb)).then(() => undefined)
  }

  writeCoils(unit: number, addr: number, values: boolean[]): Promise<void> {
    return this.call<unknown>((c, cb) => c.writeFC15(unit, addr, values, cb)).then(() => undefined)
  }

  private call<T>(fn: (c: ModbusClient, cb: Callback<T>) => void): Promise<T> {
    const c = this.client
    if (!c) return Promise.reject(new LampBoxTxError('port_closed', `${this.cfg.port} is not open`))
    return new Promise<T>((resolve, reject) => {
      try {
        fn(c, (err, res) => (err ? reject(classifyModbusError(err)) : resolve(res)))
      } catch (e) {
        reject(classifyModbusError(e))
      }
    })
  }
}

/** The production lamp-box driver (config `driver: modbus`). */
export class HwModbusLampBox extends LampBoxDriver {
  constructor(config: LampBoxConfig, device: number, ctx: DriverContext) {
    super({ config, device, ctx, transport: new ModbusSerialTransport(config) })
  }
}
