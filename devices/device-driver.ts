/**
 * The one interface every device kind implements (DESIGN §4): a real driver
 * (`hw-*.ts`, the only files that import a hardware library) and a simulated
 * twin (`sim-*.ts`) that keeps the real invariants (async open, fragmented
 * reads, disconnects). The composition root picks one by config `driver`.
 *
 * Drivers never publish MQTT and never log alerts themselves: they report
 * inputs to the DeviceInputSink and the core does the rest (DESIGN §2).
 */
import type { Logger } from 'pino'
import type { Clock } from './time/clock.js'
import type { LampPattern } from '../protocols/lamp-box/lamp-pattern.js'

export type DeviceKindName = 'panic-button' | 'ble-whistle' | 'lamp-box'

/** Link/health state of one device as the driver sees it. Part of retained device state. */
export type DeviceLinkStatus = 'starting' | 'online' | 'fault' | 'offline'

export interface DeviceInputSink {
  /**
   * Hot path: one input from a device. Must not allocate in the caller's
   * loop, so everything is a number.
   * @param device  device index from the interned device table
   * @param kind    a `Kind` value (protocols/event-kinds.ts)
   * @param value   kind-specific number (press count, battery %, loop ohms, ...); NaN if none
   * @param hwTime  wall ms when the hardware saw it (or when the driver received it)
   * @param rssi    dBm for radio devices, NaN otherwise
   * @param dedupeKey packet id / counter for radio bursts; -1 when the source has none
   * @param flags   InputFlag bits (protocols/event-kinds.ts), e.g. UNVERIFIED; default 0
   */
  input(device: number, kind: number, value: number, hwTime: number, rssi: number, dedupeKey: number, flags?: number): void
  /** The driver's view of a device's link changed (open, unplugged, handshake timeout, ...). */
  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void
  /** A counted, non-fatal problem (garbage on the line, CRC error, rejected advertisement...). */
  count(device: number, counter: string, by?: number): void
}

export interface DeviceDriver {
  readonly kind: DeviceKindName
  /** Open ports/buses. Resolves once started (not necessarily connected: a missing board is a fault, not an error). */
  start(signal: AbortSignal): Promise<void>
  /** Close everything this driver opened, in reverse order. Idempotent. */
  stop(): Promise<void>
}

/** What a driver constructor receives from the composition root. */
export interface DriverContext {
  clock: Clock
  log: Logger
  sink: DeviceInputSink
}

/** Lamp-box patterns are part of the contract (protocols/lamp-box/lamp-pattern.ts, issue 18). */
export type { LampPattern }

/** Local actuators the core drives (DESIGN §2 "actuators"). */
export interface LampActuator {
  setPattern(pattern: LampPattern, reason: string): void
  /** The pattern the lamp is set to now, including the driver's own return to normal after a hold time. */
  readonly pattern: LampPattern
}
