/** The validated, defaulted, frozen config (shape of gateway/config/schema.ts). */
import type { PanicButtonConfig } from '../../devices/panic-button/config.js'
import type { BleWhistleConfig } from '../../devices/ble-whistle/config.js'
import type { LampBoxConfig } from '../../devices/lamp-box/config.js'

import type { FirmataBoardConfig } from '../../devices/panic-button/board-config.js'
import type { BleTransportConfig } from '../../devices/ble-whistle/transport-config.js'
import type { Dc09Config } from './dc09-schema.js'

export type BrokerRole = 'panel' | 'technician' | 'neighbour' | 'station' | 'simulator'
export type DeviceConfig = PanicButtonConfig | BleWhistleConfig | LampBoxConfig

export interface Config {
  site: string
  post: string
  post_type: 'safety_house' | 'lookout'
  group: string | null
  group_fanout: { peers: { post: string; url: string }[]; username: string | null; ca_file: string | null; max_age_s: number }
  data_dir: string
  secrets_file: string | null
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; format: 'json' | 'pretty' | 'auto' }
  broker: {
    enabled: boolean
    host: string
    port: number
    max_clients: number
    max_packet_bytes: number
    connect_timeout_ms: number
    queue_limit: number
    login: { concurrency: number; queue: number; address_failures: number; user_failures: number; backoff_max_s: number; forget_after_s: number; exempt: string[] }
    users: { username: string; role: BrokerRole }[]
  }
  station: {
    url: string | null
    /** Optional forms (issue 16 §1): read them through gateway/config/station-paths.ts. */
    endpoints?: string[]
    paths?: { name: string; endpoints: string[]; test_report_s?: number }[]
    require_tls: boolean
    protocol: 'auto' | '5' | '3.1.1'
    client_id: string | null
    username: string | null
    ca_file: string | null
    cert_file: string | null
    key_file: string | null
    keepalive_s: number
    backoff_initial_ms: number
    backoff_max_ms: number
    queue_limit: number
    max_inflight: number
    max_inbound_bytes: number
    ack_timeout_s: number
    test_report_s: number
  }
  dc09: Dc09Config
  metrics: { enabled: boolean; host: string; port: number }
  outbox: { kind: 'file' | 'memory'; max_alerts: number; max_bytes: number; segment_bytes: number }
  core: { dedupe_ms: number; keyed_dedupe_ms: number; tick_ms: number; state_interval_s: number }
  boards: FirmataBoardConfig[]
  ble: BleTransportConfig
  devices: DeviceConfig[]
}
