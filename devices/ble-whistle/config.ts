/** Config schema fragment for `kind: ble-whistle` (merged into gateway/config/schema.ts). */
export const bleWhistleConfigSchema = {
  type: 'object',
  required: ['id', 'kind'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Device id, unique on this post: lower-case letters, digits and dashes, 1-32 chars.' },
    kind: { const: 'ble-whistle' },
    driver: { enum: ['sim', 'bluez'], default: 'sim', description: 'sim = simulated twin; bluez = BlueZ over D-Bus.' },
    label: { type: 'string', default: '', description: 'Human label shown at the station.' },
    location: { type: 'string', default: '', description: 'Who carries it or where it is.' },
    address: { type: 'string', pattern: '^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$', default: '00:00:00:00:00:00', description: 'BLE MAC address, AA:BB:CC:DD:EE:FF.' },
    alert_kind: { enum: ['whistle', 'sos', 'panic', 'test'], default: 'whistle', description: 'Alert kind a press or blow raises.' },
    supervision_s: { type: 'integer', minimum: 0, default: 0, description: 'Expected beacon interval; 0 = not supervised.' },
  },
} as const

export interface BleWhistleConfig {
  id: string
  kind: 'ble-whistle'
  driver: 'sim' | 'bluez'
  label: string
  location: string
  address: string
  alert_kind: 'whistle' | 'sos' | 'panic' | 'test'
  supervision_s: number
}
