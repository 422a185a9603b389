/**
 * The `dc09:` config section (issue 17): an ANSI/SIA DC-09 path to an alarm
 * receiving centre, beside the MQTT uplink or instead of it. Docs: docs/dc09.md.
 */
const HEX = (min: number, max: number) => `^[0-9A-Fa-f]{${min},${max}}$`
const endpoint = (description: string) => ({ type: ['string', 'null'], pattern: '^[^\\s:/]+:\\d{1,5}$', default: null, description })
const code = {
  type: 'object',
  additionalProperties: false,
  properties: {
    cid: { type: 'string', pattern: '^[0-9]{3}$', description: 'Contact ID event code (SIA DC-05), 3 digits, e.g. "120".' },
    sia: { type: 'string', pattern: '^[A-Z]{2}$', description: 'SIA event code (SIA DC-03), 2 capitals, e.g. "PA".' },
    sia_restore: { type: ['string', 'null'], pattern: '^[A-Z]{2}$', description: 'SIA code for the restore, e.g. "PR"; null: the kind has none.' },
  },
}

export const dc09ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'SIA DC-09 path to an alarm receiving centre (Contact ID or SIA-DCS, optionally AES encrypted). See docs/dc09.md.',
  properties: {
    enabled: { type: 'boolean', default: false, description: 'Send alerts to the receiving centre over DC-09.' },
    account: { type: ['string', 'null'], pattern: HEX(3, 16), default: null, description: 'Account number the receiving centre gave this post: 3 to 16 hex digits (0-9, A-F), e.g. "1234" or "5A01F".' },
    receiver: { type: ['string', 'null'], pattern: HEX(1, 6), default: null, description: 'Receiver number (R field), 1-6 hex digits, or null to leave it out.' },
    prefix: { type: 'string', pattern: HEX(1, 6), default: '0', description: 'Account prefix (L field), 1-6 hex digits; "0" unless the centre says otherwise.' },
    partition: { type: 'integer', minimum: 1, maximum: 99, default: 1, description: 'Area / partition number in each event.' },
    token: { enum: ['ADM-CID', 'SIA-DCS'], default: 'SIA-DCS', description: 'ADM-CID = Contact ID (DC-05) events; SIA-DCS = SIA (DC-03) events.' },
    protocol: { enum: ['tcp', 'udp'], default: 'tcp', description: 'Transport to the receivers.' },
    tcp_keep_open: { type: 'boolean', default: false, description: 'false: one TCP connection per message, closed after its ACK (what most diallers do; a receiver that closes after each ACK cannot race us). true: keep the connection open between messages.' },
    primary: endpoint('Primary receiver, host:port, e.g. "arc1.example.org:12000".'),
    backup: endpoint('Backup receiver, host:port, used when the primary does not answer; null = none.'),
    key_ref: { type: ['string', 'null'], default: null, description: 'Name of the AES key in the secrets file\'s dc09_keys (32, 48 or 64 hex digits = AES-128/192/256); null = unencrypted.' },
    ack_timeout_ms: { type: 'integer', minimum: 100, maximum: 120000, default: 5000, description: 'A message without ACK within this is repeated (same sequence number, fresh timestamp).' },
    attempts: { type: 'integer', minimum: 1, maximum: 20, default: 3, description: 'Tries on one receiver before switching to the other.' },
    retry_pause_ms: { type: 'integer', minimum: 0, maximum: 600000, default: 5000, description: 'Pause after both receivers failed (or after a NAK) before trying again.' },
    revert_s: { type: 'integer', minimum: 1, maximum: 86400, default: 300, description: 'After this long on the backup, the next message tries the primary again.' },
    null_poll_s: { type: 'integer', minimum: 0, maximum: 90000, default: 60, description: 'Supervision: a NULL message when nothing else was sent for this long, so the centre detects a failed path; 0 = off. See reporting_class.' },
    reporting_class: { enum: [null, 'SP2', 'SP3', 'SP4', 'SP5', 'SP6', 'DP2', 'DP3', 'DP4'], default: null, description: 'EN 50136-1 reporting class to check null_poll_s against (SP6 20 s, SP5/DP4 90 s, SP4/DP3 3 min, SP3/DP2 30 min, SP2 25 h); null = no check.' },
    mapping: {
      type: 'object',
      default: {},
      additionalProperties: code,
      description: 'Per-kind overrides of the event codes (docs/dc09.md), e.g. { whistle: { cid: "120", sia: "PA", sia_restore: "PR" } }.',
    },
  },
} as const

/** EN 50136-1 reporting time for path failure, per class (seconds). */
export const REPORTING_CLASS_S: Readonly<Record<string, number>> = { SP2: 90000, SP3: 1800, SP4: 180, SP5: 90, SP6: 20, DP2: 1800, DP3: 180, DP4: 90 }

export interface Dc09CodeOverride { cid?: string; sia?: string; sia_restore?: string | null }

export interface Dc09Config {
  enabled: boolean
  account: string | null
  receiver: string | null
  prefix: string
  partition: number
  token: 'ADM-CID' | 'SIA-DCS'
  protocol: 'tcp' | 'udp'
  tcp_keep_open: boolean
  primary: string | null
  backup: string | null
  key_ref: string | null
  ack_timeout_ms: number
  attempts: number
  retry_pause_ms: number
  revert_s: number
  null_poll_s: number
  reporting_class: string | null
  mapping: Record<string, Dc09CodeOverride>
}
