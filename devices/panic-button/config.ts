/**
 * Config schema fragment for `kind: panic-button` (merged into
 * gateway/config/schema.ts). Every property carries a description and, where
 * sensible, a default: `safehouse config check` prints them as hints.
 */
export const panicButtonConfigSchema = {
  type: 'object',
  required: ['id', 'kind'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Device id, unique on this post: lower-case letters, digits and dashes, 1-32 chars.' },
    kind: { const: 'panic-button' },
    driver: { enum: ['sim', 'firmata', 'gpio'], default: 'sim', description: 'sim = simulated twin; firmata = johnny-five board on USB serial; gpio = the Pi\'s own GPIO.' },
    label: { type: 'string', default: '', description: 'Human label shown at the station, e.g. "Counter button".' },
    location: { type: 'string', default: '', description: 'Where the device is, e.g. "under the counter".' },
    alert_kind: { enum: ['panic', 'silent_holdup', 'duress', 'test'], default: 'panic', description: 'Alert kind a confirmed press raises.' },
    debounce_ms: { type: 'integer', minimum: 0, maximum: 1000, default: 30, description: 'Contact must be stable this long to count.' },
    hold_ms: { type: 'integer', minimum: 0, maximum: 10000, default: 0, description: 'Hold-to-confirm time; 0 = alert on press.' },
    supervision_s: { type: 'integer', minimum: 0, default: 0, description: 'Expected heartbeat interval; 0 = not supervised by heartbeat.' },
  },
} as const

export interface PanicButtonConfig {
  id: string
  kind: 'panic-button'
  driver: 'sim' | 'firmata' | 'gpio'
  label: string
  location: string
  alert_kind: 'panic' | 'silent_holdup' | 'duress' | 'test'
  debounce_ms: number
  hold_ms: number
  supervision_s: number
}
