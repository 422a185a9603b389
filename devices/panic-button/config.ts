/**
 * Config schema fragment for `kind: panic-button` (merged into
 * gateway/config/schema.ts). Every property carries a description and, where
 * sensible, a default: `safehouse config check` prints them as hints.
 *
 * Wiring (docs/devices/panic-button.md):
 * - normally_open: contact closes on press; with `pullup` the pin reads LOW when pressed.
 * - normally_closed: contact opens on press; with `pullup` the pin reads HIGH when pressed.
 * - eol_supervised: end-of-line supervised loop on an analog pin. A reference
 *   resistor (`loop_ref_ohms`) pulls the pin up to the ADC reference; the field
 *   loop pulls it down. At rest the loop measures `loop_normal_ohms`, pressed
 *   `loop_alarm_ohms`; a cut wire reads near full scale, a shorted wire near 0.
 *   Thresholds default to the midpoints between the expected readings.
 */
import { DEVICE_ID_PROPERTY } from '../../protocols/mqtt/topics.js'
import { schemaDefaults } from '../schema-defaults.js'
export const panicButtonConfigSchema = {
  type: 'object',
  required: ['id', 'kind'],
  additionalProperties: false,
  properties: {
    id: DEVICE_ID_PROPERTY,
    kind: { const: 'panic-button' },
    driver: { enum: ['sim', 'firmata', 'gpio'], default: 'sim', description: 'sim = simulated twin; firmata = johnny-five board on USB serial; gpio = the Pi\'s own GPIO.' },
    label: { type: 'string', default: '', description: 'Human label shown at the station, e.g. "Counter button".' },
    location: { type: 'string', default: '', description: 'Where the device is, e.g. "under the counter".' },
    alert_kind: { enum: ['panic', 'silent_holdup', 'duress', 'test'], default: 'panic', description: 'Alert kind a confirmed press raises.' },
    role: { enum: ['alarm', 'check_in'], default: 'alarm', description: 'alarm = a press raises alert_kind; check_in = the post\'s roll-call button (docs/protocol.md §Roll call): a press answers a roll call with one check_in alert and never raises an alarm (do not set alert_kind).' },
    debounce_ms: { type: 'integer', minimum: 0, maximum: 1000, default: 30, description: 'Contact (or supervised loop zone) must be stable this long to count; shorter glitches are ignored.' },
    hold_ms: { type: 'integer', minimum: 0, maximum: 10000, default: 0, description: 'Hold-to-confirm time, counted from the contact closing; 0 = alert on press. E.g. 1500 for a public button outside.' },
    supervision_s: { type: 'integer', minimum: 0, default: 0, description: 'Expected heartbeat interval; 0 = not supervised by heartbeat. The driver reports a heartbeat at half this interval while the board answers.' },
    board: { type: 'string', default: 'main', description: 'firmata: id of the entry in the top-level `boards:` section this button is wired to.' },
    pin: { type: 'integer', minimum: 0, maximum: 127, default: 2, description: 'firmata: digital pin number (Arduino numbering, e.g. 2 = D2). gpio: the BCM GPIO line (documentation only; the key code identifies the button).' },
    wiring: { enum: ['normally_open', 'normally_closed', 'eol_supervised'], default: 'normally_open', description: 'normally_open / normally_closed contact on a digital pin, or an end-of-line supervised loop on an analog pin (firmata only).' },
    pullup: { type: 'boolean', default: true, description: 'Enable the board\'s internal pull-up (contact wired between the pin and GND). false = external pull-down, pin reads HIGH when the contact is closed.' },
    analog_pin: { type: 'integer', minimum: 0, maximum: 15, default: 0, description: 'eol_supervised: analog channel (0 = A0).' },
    loop_ref_ohms: { type: 'integer', minimum: 100, default: 4700, description: 'eol_supervised: reference resistor from the analog pin to the ADC reference (5 V on a Nano/Uno, 3.3 V on an RP2040).' },
    loop_normal_ohms: { type: 'integer', minimum: 1, default: 2200, description: 'eol_supervised: loop resistance at rest (the 2k2 end-of-line resistor).' },
    loop_alarm_ohms: { type: 'integer', minimum: 1, default: 4400, description: 'eol_supervised: loop resistance when pressed (EOL 2k2 + 2k2 alarm resistor across the NC contact).' },
    adc_max: { type: 'integer', minimum: 255, default: 1023, description: 'eol_supervised: full-scale ADC reading (1023 for 10-bit Nano/Uno, 4095 for 12-bit).' },
    loop_short_below: { type: 'integer', minimum: 0, default: 0, description: 'eol_supervised: readings below this are a short (tamper); 0 = computed (half the normal reading).' },
    loop_alarm_above: { type: 'integer', minimum: 0, default: 0, description: 'eol_supervised: readings at/above this are alarm; 0 = computed (midpoint between normal and alarm readings).' },
    loop_open_above: { type: 'integer', minimum: 0, default: 0, description: 'eol_supervised: readings at/above this are an open circuit (cut wire); 0 = computed (midpoint between alarm reading and full scale).' },
    loop_hysteresis: { type: 'integer', minimum: 0, default: 20, description: 'eol_supervised: ADC counts a reading must pass a threshold by before the zone changes, so a noisy loop does not flap.' },
    press_count: { type: 'integer', minimum: 0, maximum: 20, default: 0, description: 'Escalate after this many confirmed presses within press_window_ms (raises an escalation alert); 0 or 1 = off.' },
    press_window_ms: { type: 'integer', minimum: 100, maximum: 600000, default: 10000, description: 'Window for press_count, from the first press.' },
    stuck_s: { type: 'integer', minimum: 1, maximum: 86400, default: 60, description: 'A contact closed longer than this is reported once as trouble (stuck), and restored when released.' },
    key_code: { type: 'integer', minimum: 0, maximum: 767, default: 256, description: 'gpio: Linux key code the gpio-keys overlay reports for this button (dtoverlay ... keycode=); 256 = BTN_0.' },
    input_device: { type: 'string', default: '/dev/input/by-path/platform-gpio-keys-event', description: 'gpio: Linux input device the gpio-keys overlay creates (see docs/devices/panic-button.md to find it).' },
  },
} as const

export type PanicWiring = 'normally_open' | 'normally_closed' | 'eol_supervised'

export interface PanicButtonConfig {
  id: string
  kind: 'panic-button'
  driver: 'sim' | 'firmata' | 'gpio'
  label: string
  location: string
  alert_kind: 'panic' | 'silent_holdup' | 'duress' | 'test'
  /** Absent = alarm (configs built in code before issue 15). */
  role?: 'alarm' | 'check_in'
  debounce_ms: number
  hold_ms: number
  supervision_s: number
  board: string
  pin: number
  wiring: PanicWiring
  pullup: boolean
  analog_pin: number
  loop_ref_ohms: number
  loop_normal_ohms: number
  loop_alarm_ohms: number
  adc_max: number
  loop_short_below: number
  loop_alarm_above: number
  loop_open_above: number
  loop_hysteresis: number
  press_count: number
  press_window_ms: number
  stuck_s: number
  key_code: number
  input_device: string
}

/** Every default of the schema, for tests and the sim (the composition root gets them from ajv `useDefaults`). */
export function panicButtonDefaults(id: string, over: Partial<PanicButtonConfig> = {}): PanicButtonConfig {
  const d = { id, kind: 'panic-button', ...schemaDefaults(panicButtonConfigSchema.properties) }
  return { ...(d as unknown as PanicButtonConfig), ...over }
}
