/**
 * Config schema fragment for `kind: lamp-box` (merged into gateway/config/schema.ts).
 * Every property carries a description and a default (`safehouse config check`
 * prints them as hints). Register map and wiring: docs/devices/lamp-box.md.
 */
import { DEVICE_ID_PROPERTY } from '../../protocols/mqtt/topics.js'
import { schemaDefaults } from '../schema-defaults.js'
import type { GenericDidoMap, GenericProgram } from '../../protocols/lamp-box/register-map.js'

const program = { enum: ['off', 'red', 'blue', 'both', 'alternate', 'flash'] } as const
const input = (what: string, dflt: number) => ({
  type: 'integer', minimum: -1, maximum: 255, default: dflt,
  description: `Discrete input (0-based) wired to ${what}; -1 = not wired.`,
}) as const

export const lampBoxConfigSchema = {
  type: 'object',
  required: ['id', 'kind'],
  additionalProperties: false,
  properties: {
    id: DEVICE_ID_PROPERTY,
    kind: { const: 'lamp-box' },
    driver: { enum: ['sim', 'modbus'], default: 'sim', description: 'sim = simulated twin; modbus = Modbus RTU over RS-485 (serialport).' },
    label: { type: 'string', default: 'Lamp box', description: 'Human label.' },
    location: { type: 'string', default: 'roof', description: 'Where it is.' },
    alarm_hold_s: { type: 'integer', minimum: 1, default: 300, description: 'Seconds the alarm (and neighbour-alarm) pattern stays before returning to normal (unless a station command ends it sooner).' },
    ack_hold_s: { type: 'integer', minimum: 1, default: 120, description: 'Seconds the acknowledged pattern stays before returning to normal.' },
    test_s: { type: 'integer', minimum: 1, default: 15, description: 'Seconds the test pattern runs before returning to normal.' },
    supervision_s: { type: 'integer', minimum: 0, default: 5, description: 'Seconds without a good poll before lamp-box-missing is raised; 0 = not supervised.' },
    port: { type: 'string', default: '/dev/ttyUSB0', description: 'Serial device of the USB RS-485 adapter. Prefer a stable /dev/serial/by-id/... path.' },
    baud: { enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], default: 19200, description: 'Line speed; must match the controller (Modbus serial line default: 19200).' },
    parity: { enum: ['even', 'odd', 'none'], default: 'even', description: 'Parity; Modbus default is even. With none, most devices expect 2 stop bits.' },
    stop_bits: { enum: [1, 2], default: 1, description: 'Stop bits (use 2 with parity none, Modbus serial line §2.5.1).' },
    unit_id: { type: 'integer', minimum: 1, maximum: 247, default: 1, description: 'Modbus unit (slave) id of the controller or module.' },
    poll_ms: { type: 'integer', minimum: 100, maximum: 10000, default: 1000, description: 'Status poll interval, ms.' },
    timeout_ms: { type: 'integer', minimum: 20, maximum: 5000, default: 300, description: 'Response timeout per transaction, ms (a timeout is counted as modbus_timeout).' },
    watchdog_s: { type: 'integer', minimum: 0, maximum: 3600, default: 30, description: 'Written to the controller: seconds without a request before it falls back to normal on its own; 0 = never (safehouse profile).' },
    confirm_polls: { type: 'integer', minimum: 1, maximum: 20, default: 2, description: 'Consecutive polls a lamp, mains or battery condition must hold before its alert or restore (the door alerts at once).' },
    min_ma: { type: 'integer', minimum: 0, default: 20, description: 'A lit channel drawing less than this (mA) is faulty (safehouse profile, steady patterns).' },
    max_ma: { type: 'integer', minimum: 1, default: 1500, description: 'A channel drawing more than this (mA) is faulty (short circuit).' },
    battery_low_pct: { type: 'integer', minimum: 0, maximum: 100, default: 30, description: 'Backup battery at or below this % raises low_battery; restores 5 % above.' },
    probe_unit_ids: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 247 }, maxItems: 32, default: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], description: 'When unit_id does not answer, these ids are probed once to report what is on the line.' },
    profile: { enum: ['safehouse', 'generic-dido'], default: 'safehouse', description: 'safehouse = the lamp-box controller register map; generic-dido = an off-the-shelf Modbus relay/input module (see generic).' },
    generic: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Wiring of a generic Modbus DI/DO module (profile generic-dido): coils drive the channels, inputs read current-sense relays and the door.',
      properties: {
        red_coil: { type: 'integer', minimum: 0, maximum: 255, default: 0, description: 'Coil (0-based) switching the red channel.' },
        blue_coil: { type: 'integer', minimum: 0, maximum: 255, default: 1, description: 'Coil (0-based) switching the blue channel.' },
        red_sense_input: input('a current-sense relay on the red channel (on = current flows)', 0),
        blue_sense_input: input('a current-sense relay on the blue channel (on = current flows)', 1),
        door_input: input('the door contact', 2),
        door_open_when: { enum: ['on', 'off'], default: 'off', description: 'Input level that means the door is open (off for a normally-closed contact).' },
        mains_input: input('a mains-present relay (on = mains present)', -1),
        blink_ms: { type: 'integer', minimum: 250, maximum: 5000, default: 500, description: 'Half-period of blinking programs; the gateway toggles the coils (relays wear: keep >= 500 ms).' },
        patterns: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Coil program per pattern: off, red, blue, both (steady) or alternate, flash (blinking).',
          properties: {
            normal: { ...program, default: 'both', description: 'All-night glow.' },
            alarm: { ...program, default: 'alternate', description: 'Alert at this post.' },
            'neighbour-alarm': { ...program, default: 'flash', description: 'Alert at a neighbouring post of the group.' },
            acknowledged: { ...program, default: 'blue', description: 'Station acknowledged: help is coming.' },
            test: { ...program, default: 'alternate', description: 'Lamp test.' },
            off: { ...program, default: 'off', description: 'Lamp off (maintenance).' },
          },
        },
      },
    },
  },
} as const

/** The module's wiring (protocols/lamp-box/register-map.ts) plus how patterns are shown on it. */
export interface GenericDidoConfig extends GenericDidoMap {
  blink_ms: number
  patterns: Record<'normal' | 'alarm' | 'neighbour-alarm' | 'acknowledged' | 'test' | 'off', GenericProgram>
}

export interface LampBoxConfig {
  id: string
  kind: 'lamp-box'
  driver: 'sim' | 'modbus'
  label: string
  location: string
  alarm_hold_s: number
  ack_hold_s: number
  test_s: number
  supervision_s: number
  port: string
  baud: number
  parity: 'even' | 'odd' | 'none'
  stop_bits: 1 | 2
  unit_id: number
  poll_ms: number
  timeout_ms: number
  watchdog_s: number
  confirm_polls: number
  min_ma: number
  max_ma: number
  battery_low_pct: number
  probe_unit_ids: number[]
  profile: 'safehouse' | 'generic-dido'
  generic: GenericDidoConfig
}

/** Defaults as one object: for tests, the sim and the demo (the composition root applies them through the schema). */
export type LampBoxConfigOverrides = Partial<Omit<LampBoxConfig, 'generic'>> & {
  id: string
  generic?: Partial<Omit<GenericDidoConfig, 'patterns'>> & { patterns?: Partial<GenericDidoConfig['patterns']> }
}

export function lampBoxDefaults(over: LampBoxConfigOverrides): LampBoxConfig {
  const { generic, ...top } = schemaDefaults(lampBoxConfigSchema.properties) as unknown as Omit<LampBoxConfig, 'id' | 'kind'>
  return {
    kind: 'lamp-box',
    ...top,
    ...over,
    generic: { ...generic, ...over.generic, patterns: { ...generic.patterns, ...over.generic?.patterns } },
  }
}
