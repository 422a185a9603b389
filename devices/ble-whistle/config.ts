/**
 * Config schema fragment for `kind: ble-whistle` (merged into
 * gateway/config/schema.ts). Every property carries a description and a
 * default. Keys are secrets: the main config only names them (`key_ref`);
 * the composition root resolves the name in the secrets file and hands the
 * 16 key bytes to the WhistleReceiver (docs/devices/ble.md "Keys and replay
 * protection").
 */
import { DEVICE_ID_PROPERTY } from '../../protocols/mqtt/topics.js'
import { PRESS_ALERT_KINDS as PRESS_KIND } from '../../protocols/event-kinds.js'

export const bleWhistleConfigSchema = {
  type: 'object',
  required: ['id', 'kind'],
  additionalProperties: false,
  properties: {
    id: DEVICE_ID_PROPERTY,
    kind: { const: 'ble-whistle' },
    driver: { enum: ['sim', 'bluez'], default: 'sim', description: 'Kept for symmetry with other kinds: the radio is chosen once per post by ble.driver; bluez here requires ble.driver: bluez.' },
    label: { type: 'string', default: '', description: 'Human label shown at the station.' },
    location: { type: 'string', default: '', description: 'Who carries it or where it is.' },
    address: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$', default: '00:00:00:00:00:00', description: 'BLE MAC address, AA:BB:CC:DD:EE:FF (printed on the device or shown by `safehouse pair`).' },
    alert_kind: { enum: ['whistle', 'sos', 'panic', 'test'], default: 'whistle', description: 'Alert kind a press or blow raises (BTHome press, double and triple press; iBeacon press minor).' },
    role: { enum: ['alarm', 'check_in'], default: 'alarm', description: 'alarm = a press raises alert_kind; check_in = the post\'s roll-call button (docs/protocol.md §Roll call): every press (long ones too, unless long_press_kind: none) answers a roll call with one check_in alert and never raises an alarm (do not set alert_kind).' },
    supervision_s: { type: 'integer', minimum: 0, default: 0, description: 'Expected beacon interval; 0 = not supervised.' },
    format: { enum: ['bthome', 'ibeacon', 'eddystone'], default: 'bthome', description: 'Advertisement format: bthome = BTHome v2 (Shelly BLU Button1 and other buttons); ibeacon = Apple iBeacon tag; eddystone = Eddystone UID/TLM tag (presence only).' },
    key_ref: { type: 'string', pattern: '^$|^[A-Za-z0-9_.-]{1,64}$', default: '', description: 'Name of this device\'s 16-byte BTHome AES key in the secrets file; empty = device sends plaintext. When set, plaintext packets from the device are rejected as a downgrade.' },
    long_press_kind: { enum: ['same', 'none', ...PRESS_KIND], default: 'same', description: 'What a BTHome long press or hold (events 0x04-0x06, 0x80, 0xFE) raises: same = the alert_kind (safest: a person in danger may hold the button), none = nothing, or another kind such as cancel or test.' },
    dedupe_window_ms: { type: 'integer', minimum: 500, maximum: 120000, default: 10000, description: 'Repeats of the same packet id (or counter) within this window, measured from the last repeat, are one press. A new packet id always counts at once.' },
    counter_reset: { enum: ['small_after_silence', 'never'], default: 'small_after_silence', description: 'Encrypted devices: when a lower encryption counter is accepted (the counter restarts after a battery change). small_after_silence = only a counter below counter_reset_max after counter_reset_silence_s without a valid packet; never = only a technician can reset it (`safehouse pair`).' },
    counter_reset_max: { type: 'integer', minimum: 0, maximum: 100000, default: 100, description: 'A restarted counter must be below this to be accepted (the threshold Home Assistant\'s BTHome receiver uses).' },
    counter_reset_silence_s: { type: 'integer', minimum: 0, maximum: 86400, default: 60, description: 'Seconds without any valid packet from the device before a counter restart is accepted.' },
    ibeacon_uuid: { type: 'string', pattern: '^$|^[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}$', default: '', description: 'iBeacon proximity UUID the tag must send; empty = any.' },
    ibeacon_major: { type: 'integer', minimum: -1, maximum: 65535, default: -1, description: 'iBeacon major the tag must send; -1 = any.' },
    ibeacon_press_minor: { type: 'integer', minimum: -1, maximum: 65535, default: -1, description: 'iBeacon button tags: the minor the tag advertises while its button is pressed (one alert per press, deduplicated like packet ids). -1 = presence only (every advert is a heartbeat).' },
  },
} as const

export type BlePressKind = (typeof PRESS_KIND)[number]

export interface BleWhistleConfig {
  id: string
  kind: 'ble-whistle'
  driver: 'sim' | 'bluez'
  label: string
  location: string
  address: string
  alert_kind: 'whistle' | 'sos' | 'panic' | 'test'
  /** Absent = alarm (configs built in code before issue 15). */
  role?: 'alarm' | 'check_in'
  supervision_s: number
  format: 'bthome' | 'ibeacon' | 'eddystone'
  key_ref: string
  long_press_kind: 'same' | 'none' | BlePressKind
  dedupe_window_ms: number
  counter_reset: 'small_after_silence' | 'never'
  counter_reset_max: number
  counter_reset_silence_s: number
  ibeacon_uuid: string
  ibeacon_major: number
  ibeacon_press_minor: number
}

/** Defaults for the fields added by issue 4, so code and tests can build a full config from a partial one. */
export const BLE_WHISTLE_DEFAULTS = {
  driver: 'sim',
  label: '',
  location: '',
  address: '00:00:00:00:00:00',
  alert_kind: 'whistle',
  role: 'alarm',
  supervision_s: 0,
  format: 'bthome',
  key_ref: '',
  long_press_kind: 'same',
  dedupe_window_ms: 10000,
  counter_reset: 'small_after_silence',
  counter_reset_max: 100,
  counter_reset_silence_s: 60,
  ibeacon_uuid: '',
  ibeacon_major: -1,
  ibeacon_press_minor: -1,
} as const satisfies Omit<BleWhistleConfig, 'id' | 'kind'>
