/**
 * Config schema fragment for one entry of the top-level `boards:` section: a
 * Firmata I/O board (Arduino Nano/Uno, RP2040) on USB serial that wired panic
 * buttons refer to by `board:` id. Merged into gateway/config/schema.ts.
 */
import { DEVICE_ID_PROPERTY } from '../../protocols/mqtt/topics.js'
import { schemaDefaults } from '../schema-defaults.js'
export const firmataBoardConfigSchema = {
  type: 'object',
  required: ['id', 'port'],
  additionalProperties: false,
  properties: {
    id: { ...DEVICE_ID_PROPERTY, description: 'Board id that buttons name in `board:`.' },
    port: { type: 'string', minLength: 1, description: 'Serial port path. Prefer the stable /dev/serial/by-id/usb-... name over /dev/ttyUSB0, which can change after a replug.' },
    baud: { type: 'integer', enum: [9600, 19200, 38400, 57600, 115200], default: 57600, description: 'Baud rate the firmware was built with (StandardFirmata: 57600).' },
    handshake_timeout_ms: { type: 'integer', minimum: 500, maximum: 60000, default: 10000, description: 'A board that has not completed the Firmata handshake in this time is reported as a fault (wrong firmware or baud) and retried.' },
    version_query_ms: { type: 'integer', minimum: 50, maximum: 10000, default: 2500, description: 'Ask the board for its version if it has not announced itself this long after the port opened (Nano/Uno reset on open and announce after their bootloader, ~2 s; RP2040 boards do not reset).' },
    sampling_interval_ms: { type: 'integer', minimum: 1, maximum: 1000, default: 19, description: 'Firmata analog sampling interval: how often supervised loops are reported.' },
    liveness_interval_ms: { type: 'integer', minimum: 100, maximum: 10000, default: 500, description: 'How often the driver checks the link; a quiet board is asked for its version (a Firmata ping).' },
    dead_after_ms: { type: 'integer', minimum: 200, maximum: 30000, default: 1500, description: 'No byte from the board for this long = unplugged or hung: device fault (USB adapters on Linux PTY-like links do not always report a close).' },
    reconnect_min_ms: { type: 'integer', minimum: 50, default: 500, description: 'First reconnect delay; doubles per failed attempt, with jitter.' },
    reconnect_max_ms: { type: 'integer', minimum: 100, default: 30000, description: 'Largest reconnect delay.' },
  },
} as const

export interface FirmataBoardConfig {
  id: string
  port: string
  baud: number
  handshake_timeout_ms: number
  version_query_ms: number
  sampling_interval_ms: number
  liveness_interval_ms: number
  dead_after_ms: number
  reconnect_min_ms: number
  reconnect_max_ms: number
}

export function firmataBoardDefaults(id: string, port: string, over: Partial<FirmataBoardConfig> = {}): FirmataBoardConfig {
  const d = { id, port, ...schemaDefaults(firmataBoardConfigSchema.properties) }
  return { ...(d as unknown as FirmataBoardConfig), ...over }
}
