/**
 * The safehouse lamp-box controller (protocols/lamp-box/register-map.ts): one
 * FC16 write of pattern, channel enable and watchdog; one FC04 read of the
 * whole status block. The controller blinks by itself and reports the
 * pattern it runs.
 */
import {
  CH_BLUE, CH_RED, HR_PATTERN, IR_BLOCK_LEN, PATTERN_STEADY_MASK, type DecodeResult, type StatusDecoder,
} from '../../protocols/lamp-box/register-map.js'
import type { LampBoxConfig } from './config.js'
import type { LampProfile } from './lamp-profile.js'
import type { ModbusTransport } from './modbus-transport.js'

export class SafehouseProfile implements LampProfile {
  readonly reportsPattern = true

  constructor(private readonly cfg: LampBoxConfig) {}

  async write(t: ModbusTransport, code: number): Promise<number> {
    // The whole pattern block in one FC16 (HR_BLOCK_LEN): pattern, both channels enabled, watchdog.
    await t.writeRegisters(this.cfg.unit_id, HR_PATTERN, [code, CH_RED | CH_BLUE, this.cfg.watchdog_s])
    return 0
  }

  read(t: ModbusTransport): Promise<Uint8Array> {
    return t.readInputRegisters(this.cfg.unit_id, 0, IR_BLOCK_LEN)
  }

  decode(decoder: StatusDecoder, data: Uint8Array): DecodeResult {
    return decoder.decodeSafehouse(data, 0, data.length)
  }

  steadyMask(code: number): number { return PATTERN_STEADY_MASK[code] }

  blinkMs(): number { return 0 }
}
