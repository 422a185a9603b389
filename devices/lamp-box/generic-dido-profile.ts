/**
 * A generic Modbus DI/DO module wired per config `generic:` (issue 5 §2):
 * two coils drive the red and blue channels, discrete inputs read the
 * current-sense relays, the door and the mains. The module knows no
 * patterns, so the gateway shows each one as a program of coil states and
 * blinks it by rewriting the coils every blink_ms.
 */
import {
  CH_BLUE, CH_RED, PATTERN_NAMES, genericInputSpan, programChannels, programSteadyMask, type DecodeResult,
  type GenericProgram, type StatusDecoder,
} from '../../protocols/lamp-box/register-map.js'
import type { LampBoxConfig } from './config.js'
import type { LampProfile } from './lamp-profile.js'
import type { ModbusTransport } from './modbus-transport.js'

export class GenericDidoProfile implements LampProfile {
  readonly reportsPattern = false

  constructor(private readonly cfg: LampBoxConfig) {}

  async write(t: ModbusTransport, code: number, phase: number): Promise<number> {
    const g = this.cfg.generic
    const u = this.cfg.unit_id
    const mask = programChannels(this.program(code), phase)
    const red = (mask & CH_RED) !== 0
    const blue = (mask & CH_BLUE) !== 0
    // Adjacent coils go in one FC15 write, so both channels switch together.
    if (g.blue_coil === g.red_coil + 1) await t.writeCoils(u, g.red_coil, [red, blue])
    else if (g.red_coil === g.blue_coil + 1) await t.writeCoils(u, g.blue_coil, [blue, red])
    else { await t.writeCoils(u, g.red_coil, [red]); await t.writeCoils(u, g.blue_coil, [blue]) }
    return mask
  }

  read(t: ModbusTransport): Promise<Uint8Array> {
    const g = this.cfg.generic
    const span = genericInputSpan(g)
    // Nothing wired to inputs: read a coil back, just to supervise the module.
    return span > 0 ? t.readDiscreteInputs(this.cfg.unit_id, 0, span) : t.readCoils(this.cfg.unit_id, g.red_coil, 1)
  }

  decode(decoder: StatusDecoder, data: Uint8Array, driven: number): DecodeResult {
    return decoder.decodeGeneric(data, 0, data.length, this.cfg.generic, driven)
  }

  steadyMask(code: number): number { return programSteadyMask(this.program(code)) }

  blinkMs(code: number): number { return this.steadyMask(code) < 0 ? this.cfg.generic.blink_ms : 0 }

  private program(code: number): GenericProgram { return this.cfg.generic.patterns[PATTERN_NAMES[code]] }
}
