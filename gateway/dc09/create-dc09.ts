/**
 * Builds the DC-09 path from config (issue 17): its own queue (a second
 * outbox in <data_dir>/dc09/, or in memory when outbox.kind is memory), the
 * sink that fills it, the transport and the sender. The gateway adds the
 * sink, opens the queue before start() and closes it after stop().
 */
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Config } from '../config/config-types.js'
import type { Secrets } from '../config/secrets.js'
import type { Clock } from '../../devices/time/clock.js'
import type { DeviceTable } from '../core/device-table.js'
import type { Outbox, OutboxEntry } from '../outbox/outbox.js'
import { MemoryOutbox } from '../outbox/memory-outbox.js'
import { Dc09Sink } from './dc09-sink.js'
import { Dc09EventMapper } from './dc09-events.js'
import { Dc09Sender } from './dc09-sender.js'
import { TcpTransport, UdpTransport, type Dc09Transport, type Dc09TransportEvents } from './dc09-transport.js'

export interface Dc09Parts {
  outbox: Outbox
  sink: Dc09Sink
  sender: Dc09Sender
  mapper: Dc09EventMapper
  start(): Promise<void>
  stop(): Promise<void>
}

export interface Dc09Deps {
  clock: Clock
  log: Logger
  devices: DeviceTable
  idOf: (seq: number) => string
  fileOutbox?: (dir: string, config: Readonly<Config>, log: Logger) => Outbox
  /** Tests: hear each ACK with its latency. */
  onAcked?: (entry: OutboxEntry, ms: number) => void
  onStateChange?: () => void
  transport?: (ev: Dc09TransportEvents) => Dc09Transport
}

export class Dc09SetupError extends Error {
  readonly code = 'DC09_SETUP'
}

/** null when dc09 is not enabled. Throws Dc09SetupError for a key_ref the secrets file lacks. */
export function createDc09(c: Readonly<Config>, secrets: Secrets, d: Dc09Deps): Dc09Parts | null {
  const cfg = c.dc09
  if (!cfg?.enabled) return null
  let key: Buffer | null = null
  if (cfg.key_ref) {
    const hex = secrets.dc09_keys?.[cfg.key_ref]
    if (!hex) throw new Dc09SetupError(`dc09.key_ref "${cfg.key_ref}" is not in the secrets file's dc09_keys; add dc09_keys: { ${cfg.key_ref}: <32, 48 or 64 hex digits> } to ${c.secrets_file ?? 'the secrets file'} (mode 0600), or set key_ref: null for an unencrypted path`)
    key = Buffer.from(hex, 'hex')
  }
  const log = d.log
  const outbox = c.outbox.kind === 'file' && d.fileOutbox ? d.fileOutbox(join(c.data_dir, 'dc09'), c, log.child({ component: 'dc09-outbox' })) : new MemoryOutbox()
  const mapper = new Dc09EventMapper(cfg)
  const sender = new Dc09Sender({
    config: cfg,
    key,
    outbox,
    clock: d.clock,
    log,
    data: (e) => mapper.data(e.payload),
    onAcked: d.onAcked,
    onStateChange: d.onStateChange,
    transport: d.transport ?? ((ev) => (cfg.protocol === 'udp' ? new UdpTransport(ev) : new TcpTransport(ev, cfg.ack_timeout_ms))),
  })
  return {
    outbox,
    sink: new Dc09Sink(outbox, d.devices, d.idOf),
    sender,
    mapper,
    async start() {
      const r = await outbox.open()
      if (r.recovered || r.damaged) log.warn(r, 'dc09 queue recovered alerts from the last run')
      sender.start()
    },
    async stop() {
      await sender.stop()
      await outbox.close()
    },
  }
}
