/** Builds the durable outbox from config (`outbox.kind: file`), in `<data_dir>/outbox`. */
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../config/config-types.js'
import { FileOutbox } from './file-outbox.js'
import type { Outbox } from './outbox.js'
import { ResilientOutbox } from './resilient-outbox.js'

export function createFileOutbox(dataDir: string, config: Readonly<Config>, log: Logger): Outbox {
  const o = config.outbox
  return new ResilientOutbox(new FileOutbox({ dir: join(dataDir, 'outbox'), log, maxAlerts: o.max_alerts, maxBytes: o.max_bytes, segmentBytes: o.segment_bytes }), log)
}
