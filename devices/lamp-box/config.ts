/** Config schema fragment for `kind: lamp-box` (merged into gateway/config/schema.ts). */
export const lampBoxConfigSchema = {
  type: 'object',
  required: ['id', 'kind'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$', description: 'Device id, unique on this post: lower-case letters, digits and dashes, 1-32 chars.' },
    kind: { const: 'lamp-box' },
    driver: { enum: ['sim', 'modbus'], default: 'sim', description: 'sim = simulated twin; modbus = Modbus RTU over RS-485 (serialport).' },
    label: { type: 'string', default: 'Lamp box', description: 'Human label.' },
    location: { type: 'string', default: 'roof', description: 'Where it is.' },
    alarm_hold_s: { type: 'integer', minimum: 1, default: 300, description: 'Seconds the alarm pattern stays before returning to normal (unless a station command ends it sooner).' },
    supervision_s: { type: 'integer', minimum: 0, default: 5, description: 'Seconds without a good poll before lamp-box-missing is raised.' },
  },
} as const

export interface LampBoxConfig {
  id: string
  kind: 'lamp-box'
  driver: 'sim' | 'modbus'
  label: string
  location: string
  alarm_hold_s: number
  supervision_s: number
}
