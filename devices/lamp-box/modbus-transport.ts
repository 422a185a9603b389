/**
 * The seam between the lamp-box driver logic (lamp-box-driver.ts) and a
 * Modbus master. hw-modbus.ts implements it with modbus-serial on
 * serialport (the only lamp-box file importing them); sim-lamp-box.ts with an
 * in-memory controller. One transaction at a time: the driver never calls a
 * method while another is pending (RTU is half-duplex, Modbus serial §2.1).
 */

/** What went wrong with one transaction; the driver counts each kind. */
export type TxErrorKind = 'timeout' | 'crc' | 'exception' | 'bad_frame' | 'port_closed' | 'io'

export class LampBoxTxError extends Error {
  override readonly name = 'LampBoxTxError'
  constructor(
    readonly kind: TxErrorKind,
    message: string,
    /** Modbus exception code (APP §7) when kind is 'exception', else 0. */
    readonly exceptionCode = 0,
  ) {
    super(message)
  }
}

export interface ModbusTransport {
  /** Human name of the line for messages, e.g. "/dev/ttyUSB0 at 19200 8E1". */
  readonly describe: string
  /** Open the port. Rejects with the underlying error (see describeOpenError). */
  open(): Promise<void>
  /** Close if open; never rejects. */
  close(): Promise<void>
  /** Called when the port closes under us (adapter unplugged); set by the driver. */
  onLost: ((reason: string) => void) | null
  /**
   * Called with a number of bytes that arrived on the line but were not part of a reply handed
   * to the master (noise, a babbling device, a late or foreign reply): issue 11 §5. Optional: an
   * in-memory transport has no line. Set by the driver.
   */
  onGarbage?: ((bytes: number) => void) | null
  /**
   * Whether the port's device node still exists. On Linux a PTY (and some
   * USB adapters) vanish without a close/error event, so the driver checks
   * this on every poll tick and after each timeout.
   */
  pathExists(): boolean
  /** A user-facing explanation of an open() failure: what, where, which ports exist, what to do. */
  describeOpenError(err: unknown): Promise<string>

  // Each resolves with the response data bytes (byte-count field stripped) or rejects with LampBoxTxError.
  readInputRegisters(unit: number, addr: number, count: number): Promise<Uint8Array>
  readDiscreteInputs(unit: number, addr: number, count: number): Promise<Uint8Array>
  readCoils(unit: number, addr: number, count: number): Promise<Uint8Array>
  writeRegisters(unit: number, addr: number, values: number[]): Promise<void>
  writeCoils(unit: number, addr: number, values: boolean[]): Promise<void>
}

/** The sink counter for a transaction error kind. */
export function txErrorCounter(kind: TxErrorKind): 'modbus_timeout' | 'modbus_crc' | 'modbus_exception' | 'modbus_bad_frame' {
  switch (kind) {
    case 'timeout': return 'modbus_timeout'
    case 'crc': return 'modbus_crc'
    case 'exception': return 'modbus_exception'
    default: return 'modbus_bad_frame'
  }
}
