/**
 * The one config schema (issue 2 §4): types, defaults and descriptions in one
 * place, zigbee2mqtt-style. Device kinds contribute their own fragments
 * (devices/<kind>/config.ts). Secrets are NOT here: see gateway/config/secrets.ts.
 */
import { panicButtonConfigSchema } from '../../devices/panic-button/config.js'
import { bleWhistleConfigSchema } from '../../devices/ble-whistle/config.js'
import { lampBoxConfigSchema } from '../../devices/lamp-box/config.js'
import { firmataBoardConfigSchema } from '../../devices/panic-button/board-config.js'
import { bleTransportConfigSchema } from '../../devices/ble-whistle/transport-config.js'
import { TOPIC_LEVEL_PATTERN } from '../../protocols/mqtt/topics.js'
import { dc09ConfigSchema } from './dc09-schema.js'

/** A station endpoint URL: MQTT over TCP or WebSocket, plain or TLS. */
const STATION_URL = '^(mqtts?|wss?)://'

const level = (description: string) => ({ type: 'string', pattern: TOPIC_LEVEL_PATTERN, description })

export const configSchema = {
  type: 'object',
  required: ['site', 'post'],
  additionalProperties: false,
  properties: {
    site: level('Site id (city district), lower-case letters, digits and dashes, e.g. "sh-huangpu".'),
    post: level('This post\'s id, e.g. "kiosk-017".'),
    post_type: { enum: ['safety_house', 'lookout'], default: 'safety_house', description: 'Kind of post.' },
    group: { type: ['string', 'null'], pattern: TOPIC_LEVEL_PATTERN, default: null, description: 'Joint-defence group this post answers alarms with (issue 6), or null.' },
    group_fanout: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Group fan-out (issue 6 §5): alerts go to the other posts of the group through the station broker, and directly to the peers listed here when the station is unreachable.',
      properties: {
        peers: {
          type: 'array',
          default: [],
          description: 'The other posts of the group, reached directly on the local network (their embedded brokers).',
          items: {
            type: 'object',
            required: ['post', 'url'],
            additionalProperties: false,
            properties: {
              post: level('The peer post\'s id.'),
              url: { type: 'string', pattern: '^mqtts?://', description: 'The peer\'s embedded broker, e.g. mqtt://10.20.0.12:1883.' },
            },
          },
        },
        username: { type: ['string', 'null'], default: null, description: 'Our login at the peers\' embedded brokers (role neighbour there). Password: group_password in the secrets file or SAFEHOUSE_GROUP_PASSWORD.' },
        ca_file: { type: ['string', 'null'], default: null, description: 'PEM CA bundle to verify peers reached over mqtts.' },
        max_age_s: { type: 'integer', minimum: 1, maximum: 3600, default: 60, description: 'A neighbour\'s alert sent longer ago than this is not relayed (a stale alarm must not light the lamp). Keep the posts\' clocks in sync (NTP).' },
      },
    },
    data_dir: { type: 'string', minLength: 1, default: '/var/lib/safehouse', description: 'Where the outbox, sequence and counters live (writable by the service user).' },
    secrets_file: { type: ['string', 'null'], default: null, description: 'YAML file (mode 0600) with passwords and keys; null = environment variables only.' },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'pino log level.' },
        format: { enum: ['json', 'pretty', 'auto'], default: 'auto', description: 'json for journald/log shippers; pretty for a terminal; auto = pretty on a TTY.' },
      },
    },
    broker: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The embedded MQTT broker (aedes) for local screens, lamp-box panels, neighbours and technicians.',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Listen on host:port. The gateway always publishes in process.' },
        host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on. 0.0.0.0 to serve the post\'s LAN.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 1883, description: 'TCP port; 0 = any free port (tests).' },
        max_clients: { type: 'integer', minimum: 1, maximum: 10000, default: 64, description: 'Connections beyond this are refused.' },
        max_packet_bytes: { type: 'integer', minimum: 256, maximum: 1048576, default: 16384, description: 'Larger MQTT packets are refused and the client disconnected.' },
        connect_timeout_ms: { type: 'integer', minimum: 100, default: 5000, description: 'A client must send CONNECT within this time.' },
        queue_limit: { type: 'integer', minimum: 1, default: 100, description: 'Per-client queue of messages while the client is still connecting.' },
        login: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description: 'Password checks and login backoff (issue 12; docs/operations.md "Broker logins").',
          properties: {
            concurrency: { type: 'integer', minimum: 1, maximum: 4, default: 1, description: 'Password checks (scrypt) running at a time; keep it below the libuv threadpool size (4) so the outbox and the uplink keep threads.' },
            queue: { type: 'integer', minimum: 1, maximum: 1000, default: 16, description: 'Logins waiting for a check, per lane (trusted / others); more are answered "server unavailable" at once.' },
            address_failures: { type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'Failed logins from one address before it must wait (1 s, doubling).' },
            user_failures: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Failed logins for one username before new addresses must wait for it; addresses it logged in from before, and exempt ones, never wait.' },
            backoff_max_s: { type: 'integer', minimum: 1, maximum: 3600, default: 60, description: 'Longest wait.' },
            forget_after_s: { type: 'integer', minimum: 1, maximum: 86400, default: 900, description: 'Failures are forgotten this long after the last one.' },
            exempt: { type: 'array', items: { type: 'string' }, default: ['127.0.0.1', '::1'], description: 'Addresses never slowed (the Pi itself).' },
          },
        },
        users: {
          type: 'array',
          default: [],
          description: 'Local broker accounts (passwords: `safehouse user add`, stored hashed in the secrets file).',
          items: {
            type: 'object',
            required: ['username', 'role'],
            additionalProperties: false,
            properties: {
              username: { type: 'string', pattern: '^[a-zA-Z0-9_.-]{1,64}$', description: 'Login name.' },
              role: { enum: ['panel', 'technician', 'neighbour', 'station', 'simulator'], description: 'panel: reads this post; technician: reads all, sends commands; neighbour: group fan-out; station: acks and commands; simulator: drives twins (demo).' },
            },
          },
        },
      },
    },
    station: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The uplink to the station (police command room) broker.',
      properties: {
        url: { type: ['string', 'null'], pattern: STATION_URL, default: null, description: 'mqtt://host:1883 or mqtts://host:8883; null = no uplink (local only). For several brokers use endpoints: or paths: instead.' },
        endpoints: {
          type: 'array',
          items: { type: 'string', pattern: STATION_URL },
          description: 'Ordered station brokers of one path (a cluster\'s nodes, issue 16 §1): the uplink connects to the first, fails over to the next with jittered backoff and stays on a healthy one. Instead of url.',
        },
        paths: {
          type: 'array',
          minItems: 2,
          maxItems: 4,
          description: 'Dual path (EN 50136-1 DP1-DP4, issue 16 §1): two (or more) paths to the station, e.g. wired and cellular, in order of preference, each its own connection and test report. Alerts go over the first path that is up; a failed path is reported as path_failure over another. Instead of url/endpoints.',
          items: {
            type: 'object',
            required: ['name', 'endpoints'],
            additionalProperties: false,
            properties: {
              name: level('Path name, e.g. "wired" or "cellular" (shown to the station in path_failure and in metrics).'),
              endpoints: { type: 'array', items: { type: 'string', pattern: STATION_URL }, description: 'Ordered station brokers reached over this path.' },
              test_report_s: { type: 'integer', minimum: 0, description: 'This path\'s periodic test report; default station.test_report_s; 0 = off.' },
            },
          },
        },
        require_tls: { type: 'boolean', default: true, description: 'Refuse unencrypted endpoints (mqtt://, ws://) unless they are on this machine (127.0.0.1, ::1, localhost). Set false only for a path that runs inside a VPN or a private network.' },
        protocol: { enum: ['auto', '5', '3.1.1'], default: 'auto', description: 'auto = MQTT 5, falling back to 3.1.1 if the broker refuses it.' },
        client_id: { type: ['string', 'null'], default: null, description: 'Default: safehouse-<site>-<post>.' },
        username: { type: ['string', 'null'], default: null, description: 'Station login (password in the secrets file / SAFEHOUSE_STATION_PASSWORD).' },
        ca_file: { type: ['string', 'null'], default: null, description: 'PEM CA bundle to verify the station (mqtts).' },
        cert_file: { type: ['string', 'null'], default: null, description: 'PEM client certificate (mqtts with client auth).' },
        key_file: { type: ['string', 'null'], default: null, description: 'PEM client key (keep it 0600).' },
        keepalive_s: { type: 'integer', minimum: 5, maximum: 600, default: 8, description: 'MQTT keepalive; the station broker declares a hung gateway offline after 1.5x this (mosquitto 2.0 adds up to 7 s): 8 s gives 19 s, inside EN 50136-1\'s 20 s.' },
        backoff_initial_ms: { type: 'integer', minimum: 10, default: 500, description: 'First reconnect delay; doubles with jitter.' },
        backoff_max_ms: { type: 'integer', minimum: 100, default: 30000, description: 'Longest reconnect delay.' },
        queue_limit: { type: 'integer', minimum: 0, default: 1000, description: 'Non-alert messages held while disconnected (oldest dropped and counted). Alerts are never in this queue.' },
        max_inbound_bytes: { type: 'integer', minimum: 1024, maximum: 1048576, default: 16384, description: 'Acks, commands and group alerts from the station larger than this are dropped unread and counted (issue 12 §11): parsing a 1 MB nested command blocked the gateway for 165 ms. On MQTT 5 the station broker is asked not to send them at all (Maximum Packet Size).' },
        max_inflight: { type: 'integer', minimum: 1, maximum: 100000, default: 500, description: 'Alerts out to the station unacknowledged at a time; more wait (in order per device) for acks, or 1 s. Keeps a replayed backlog within the station broker\'s per-client queue (mosquitto: 1000).' },
        ack_timeout_s: { type: 'integer', minimum: 1, default: 30, description: 'An alert not acknowledged by the station within this is re-sent and escalated.' },
        test_report_s: { type: 'integer', minimum: 0, default: 60, description: 'Periodic test report to the station; 0 = off.' },
      },
    },
    dc09: dc09ConfigSchema,
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Prometheus metrics (issue 14): GET /metrics in the text exposition format, for the Prometheus/Grafana maintainers already run.',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Serve /metrics on host:port. A port that cannot be bound is logged; the gateway runs on.' },
        host: { type: 'string', default: '127.0.0.1', description: 'Address to listen on: loopback only by default. Set the LAN address (or 0.0.0.0) only behind a firewall that admits the Prometheus server alone.' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9464, description: 'TCP port; 0 = any free port (tests, demo).' },
      },
    },
    outbox: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        kind: { enum: ['file', 'memory'], default: 'file', description: 'file = crash-safe log in data_dir; memory = volatile (demo/tests only).' },
        max_alerts: { type: 'integer', minimum: 100, default: 100000, description: 'Unacknowledged alerts kept on disk; beyond it new alerts are still sent but not stored (counted). Alerts are never dropped for telemetry: telemetry never enters the outbox.' },
        max_bytes: { type: 'integer', minimum: 65536, default: 67108864, description: 'Most bytes of unacknowledged alert records on disk (64 MiB).' },
        segment_bytes: { type: 'integer', minimum: 65536, default: 4194304, description: 'Start a new log segment past this size (4 MiB).' },
      },
    },
    core: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        dedupe_ms: { type: 'integer', minimum: 0, maximum: 60000, default: 250, description: 'Same alert kind from the same device within this (without a packet id) counts once.' },
        keyed_dedupe_ms: { type: 'integer', minimum: 0, maximum: 600000, default: 10000, description: 'Same packet id/counter from the same device within this counts once.' },
        tick_ms: { type: 'integer', minimum: 10, maximum: 5000, default: 250, description: 'Supervision timer-wheel resolution.' },
        state_interval_s: { type: 'integer', minimum: 1, default: 60, description: 'Retained state is republished at least this often.' },
      },
    },
    boards: {
      type: 'array',
      default: [],
      description: 'Firmata I/O boards (Arduino/RP2040 on USB serial) that wired panic buttons use (driver: firmata).',
      items: firmataBoardConfigSchema,
    },
    ble: { ...bleTransportConfigSchema, default: {}, description: 'BlueZ transport for BLE whistles and SOS buttons (driver: bluez).' },
    devices: {
      type: 'array',
      default: [],
      description: 'The devices of this post.',
      items: {
        type: 'object',
        discriminator: { propertyName: 'kind' },
        required: ['kind'],
        oneOf: [panicButtonConfigSchema, bleWhistleConfigSchema, lampBoxConfigSchema],
      },
    },
  },
} as const
