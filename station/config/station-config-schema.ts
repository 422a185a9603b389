/** The station service's config file (YAML), one schema with defaults and descriptions (DESIGN §7). */
export const stationConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['broker'],
  properties: {
    store: { type: 'string', default: 'sqlite:/var/lib/safehouse-station/station.db', pattern: '^(sqlite:.+|postgres(ql)?://.+)$', description: 'sqlite:<path> (one instance, the default) or postgres://user@host:5432/db (several instances; the password goes in the secrets file as store_password).' },
    secrets_file: { type: ['string', 'null'], default: null, description: 'YAML file, mode 0600, with broker_password and (for PostgreSQL) store_password.' },
    broker: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^(mqtt|mqtts|ws|wss)://.+', description: 'The station broker, e.g. mqtts://broker.station.example:8883.' },
        failover_urls: { type: 'array', items: { type: 'string', pattern: '^(mqtt|mqtts|ws|wss)://.+' }, default: [], description: 'The other nodes of a clustered station broker (issue 16): after a lost connection the service tries url, then these, in turn.' },
        username: { type: ['string', 'null'], default: null, description: 'The station service\'s broker user (an operator client; its password is broker_password in the secrets file).' },
        ca_file: { type: ['string', 'null'], default: null, description: 'CA certificate (PEM) the broker\'s TLS certificate is checked against, for mqtts://.' },
        protocol: { enum: ['auto', '5', '3.1.1'], default: 'auto', description: 'auto = MQTT 5, falling back to 3.1.1 if the broker refuses it; 3.1.1 for a broker that closes an MQTT 5 CONNECT without answering (RabbitMQ 3.10, docs/city.md).' },
        client_id: { type: 'string', default: 'safehouse-station', pattern: '^[A-Za-z0-9_-]{1,23}$', description: 'MQTT client id; every instance needs its own (letters, digits, - and _, at most 23).' },
        sites: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }, default: [], description: 'Sites to read; empty reads every site on the broker.' },
      },
    },
    web: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '127.0.0.1', description: 'Address the console listens on (put a TLS reverse proxy in front for other machines).' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080, description: 'Console port (0 picks a free one).' },
        secure_cookie: { type: 'boolean', default: false, description: 'Set the session cookie\'s Secure flag (true behind TLS).' },
        allowed_origins: { type: 'array', items: { type: 'string' }, default: [], description: 'Extra origins allowed to POST, e.g. the reverse proxy\'s https://console.example.' },
        trust_proxy: { type: 'boolean', default: false, description: 'Behind a reverse proxy: take the desk\'s address from the last X-Forwarded-For hop (audit log, login limit). Leave false when the console is reached directly, or anyone can forge their address.' },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Prometheus GET /metrics with the fleet gauges (docs/operations.md, Station metrics).',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Serve /metrics (false turns the listener off).' },
        host: { type: 'string', default: '127.0.0.1', description: 'Address /metrics listens on (loopback by default; a LAN address only behind a firewall admitting the Prometheus server).' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9465, description: 'Port of /metrics (the gateway uses 9464; 0 picks a free one).' },
      },
    },
    time_zone: { type: 'string', default: 'Asia/Shanghai', description: 'IANA time zone the console shows times in.' },
    test_report_grace_s: { type: 'integer', minimum: 0, default: 30, description: 'Slack after a post\'s test-report interval before it shows overdue.' },
    unknown_post_grace_ms: { type: 'integer', minimum: 0, default: 3000, description: 'How long an alert from a post without a status yet is held before it is rejected.' },
    max_held_rows: { type: 'integer', minimum: 100, default: 100000, description: 'Rows kept in memory while the database is unreachable.' },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'Log level.' } },
    },
  },
} as const

export interface StationConfig {
  store: string
  secrets_file: string | null
  broker: { url: string; failover_urls: string[]; username: string | null; ca_file: string | null; protocol: 'auto' | '5' | '3.1.1'; client_id: string; sites: string[] }
  web: { host: string; port: number; secure_cookie: boolean; allowed_origins: string[]; trust_proxy: boolean }
  metrics: { enabled: boolean; host: string; port: number }
  time_zone: string
  test_report_grace_s: number
  unknown_post_grace_ms: number
  max_held_rows: number
  log: { level: string }
}
