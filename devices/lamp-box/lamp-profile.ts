/**
 * What differs between the two kinds of lamp box the driver runs (config
 * `profile`, issue 5 §2): how a pattern is written, how the status is read,
 * and who does the blinking. One strategy per profile:
 * safehouse-profile.ts (the safehouse controller's register map) and
 * generic-dido-profile.ts (an off-the-shelf Modbus DI/DO module). The
 * scheduling, supervision and reopening around them (lamp-box-driver.ts) is
 * the same for both. The config picks one in pick-lamp-profile.ts, so this
 * interface does not import its own implementations (issue 18: no circles).
 */
import type { DecodeResult, StatusDecoder } from '../../protocols/lamp-box/register-map.js'
import type { ModbusTransport } from './modbus-transport.js'

export interface LampProfile {
  /**
   * Write pattern `code` (blink phase `phase` 0/1 where the gateway blinks);
   * resolves with the channels (CH_* mask) now driven by our write, 0 when
   * the controller drives them itself.
   */
  write(t: ModbusTransport, code: number, phase: number): Promise<number>
  /** One status poll: the raw response data. */
  read(t: ModbusTransport): Promise<Uint8Array>
  /** Decode a poll; `driven` = the channels our last write drove. */
  decode(decoder: StatusDecoder, data: Uint8Array, driven: number): DecodeResult
  /** Channels steadily lit in pattern `code`, or -1 while it blinks (current checks need a steady lamp). */
  steadyMask(code: number): number
  /** Half-period of a blink the gateway must write itself for `code`; 0 = none (steady, or the controller blinks). */
  blinkMs(code: number): number
  /** The controller reports the pattern it runs, so the driver can rewrite ours when it differs. */
  readonly reportsPattern: boolean
}
