/**
 * pino logs (issue 2 §9): JSON by default (journald, log shippers), readable
 * on a terminal; one child logger per component; secrets redacted by field
 * name wherever they appear.
 */
import { createRequire } from 'node:module'
// Imported, not required at first use: so the bundle inlines pino (provisioning/build/bundle-cli.ts), whose
// ~30 CommonJS files were resolved and read from node_modules before the broker listened (issue 13 §5).
// The tools that print a URL take urlForLog from log-url.ts and load no pino.
import { pino, type Logger, type DestinationStream } from 'pino'
import type PinoPretty from 'pino-pretty'

/**
 * pino-pretty (and its colour, date and YAML-ish dependencies) loads only when a pretty stream is
 * made: a production `run` logs JSON and never needs it (issue 13 §5-6: ~250 ms of a cold start on
 * a loaded 2-core machine and its share of the idle RSS). createLogger stays synchronous, so the
 * CommonJS package is required, not imported.
 */
const requirePretty = (): typeof PinoPretty => createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty

export const REDACT_PATHS = [
  'password', '*.password', 'station_password', '*.station_password', 'broker_passwords', '*.broker_passwords', 'group_password', '*.group_password',
  'ble_keys', '*.ble_keys', 'dc09_keys', '*.dc09_keys', 'key', '*.key', 'secret', '*.secret', 'secrets', '*.secrets',
]

export interface LogOptions {
  level: string
  format: 'json' | 'pretty' | 'auto'
  /** Where to write; default stdout. */
  destination?: DestinationStream
}

export function createLogger(o: LogOptions): Logger {
  const usePretty = o.format === 'pretty' || (o.format === 'auto' && process.stdout.isTTY === true && !o.destination)
  const opts = { level: o.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } }
  if (usePretty) {
    // Synchronous pretty stream (no worker thread) so the demo's lines stay in order with its console output.
    return pino(opts, requirePretty()({ colorize: process.stdout.isTTY === true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }))
  }
  return o.destination ? pino(opts, o.destination) : pino(opts)
}

export type { Logger }
