/**
 * ANSI/SIA DC-09 frames (§5.4): build and parse, pure, Buffer in/out, never
 * throws on bad input.
 *
 *   <LF><crc><0LLL>"<id>"<seq>[R<rcvr>]L<pref>#<acct>[<data>][<ext>]..._<timestamp><CR>
 *
 * crc: CRC-16/ARC of everything from the first `"` to before <CR>, as 4
 * upper-case hex digits (the 2-byte binary form of DC-09:2007 is accepted on
 * parse). 0LLL: that same length as `0` + 3 hex digits, so a message is at
 * most 0xFFF = 4095 bytes and a whole frame at most 4106. With a `*` token
 * (`"*SIA-DCS"`) everything after the opening `[` is encrypted (aes.ts).
 * A NAK carries `A0` where other messages carry `#acct` (§5.5.2.2).
 */
import { crc16Arc } from './crc16.js'
import { decryptBody, encryptBody, type Dc09Key } from './aes.js'
import { formatDc09Time } from './timestamp.js'

export const LF = 0x0a
export const CR = 0x0d
/** Largest message the 0LLL length field can describe. */
export const MAX_MESSAGE_BYTES = 0xfff
/** <LF> + 4 crc + 4 length + message + <CR>. */
export const MAX_FRAME_BYTES = 1 + 4 + 4 + MAX_MESSAGE_BYTES + 1

export interface Dc09Message {
  /** Token without the `*`: ADM-CID, SIA-DCS, NULL, ACK, NAK, DUH. */
  token: string
  encrypted: boolean
  /** 0000-9999, as 4 digits. */
  seq: string
  /** Receiver number (R), 1-6 hex digits, or null when absent. */
  receiver: string | null
  /** Account prefix (L), 1-6 hex digits. */
  prefix: string
  /** Account (#), 3-16 hex digits; '' for a NAK (A0). */
  account: string
  /** The data between `[` and `]` (e.g. `#1234|Nri1/PA001`); '' for ACK/NULL. */
  data: string
  /** `HH:MM:SS,MM-DD-YYYY` or null when absent. */
  timestamp: string | null
}

export type Dc09Result<T> = { ok: true; value: T } | { ok: false; error: string }

export interface BuildOptions {
  token: string
  encrypted: boolean
  seq: number
  receiver: string | null
  prefix: string
  account: string
  data: string
  /** Wall ms for the timestamp. */
  time: number
  key: Dc09Key | null
  /** Bytes for the pad (>= 16); the caller supplies crypto.randomBytes(16) in production. */
  random?: Buffer
}

const ZERO_PAD = Buffer.alloc(16)

/** One frame as bytes, or an error for an impossible field (never throws). */
export function buildFrame(o: BuildOptions): Dc09Result<Buffer> {
  if (!(o.seq >= 0 && o.seq <= 9999) || !Number.isInteger(o.seq)) return { ok: false, error: `sequence ${o.seq} is not 0000-9999` }
  const seq = String(o.seq).padStart(4, '0')
  const head = `"${o.encrypted ? '*' : ''}${o.token}"${seq}${o.receiver !== null ? `R${o.receiver}` : ''}L${o.prefix}#${o.account}[`
  const tail = `${o.data}]_${formatDc09Time(o.time)}`
  let msg: string
  if (o.encrypted) {
    if (!o.key) return { ok: false, error: 'encrypted token without a key' }
    const hex = encryptBody(o.key, Buffer.from(`|${tail}`, 'latin1'), o.random ?? ZERO_PAD)
    if (hex === null) return { ok: false, error: 'key length is not 16, 24 or 32 bytes' }
    msg = head + hex
  } else {
    msg = head + tail
  }
  if (msg.length > MAX_MESSAGE_BYTES) return { ok: false, error: `message of ${msg.length} bytes exceeds the 0LLL limit ${MAX_MESSAGE_BYTES}` }
  const frame = Buffer.allocUnsafe(msg.length + 10)
  frame[0] = LF
  frame.write(msg, 9, 'latin1')
  const crc = crc16Arc(frame, 9, 9 + msg.length)
  frame.write(crc.toString(16).toUpperCase().padStart(4, '0'), 1, 'latin1')
  frame.write(msg.length.toString(16).toUpperCase().padStart(4, '0'), 5, 'latin1')
  frame[frame.length - 1] = CR
  return { ok: true, value: frame }
}

const HEX4 = /^[0-9A-Fa-f]{4}$/
const HEAD = /^"(\*?)([A-Z][A-Z0-9-]{1,15})"(\d{4})(?:R([0-9A-Fa-f]{1,6}))?L([0-9A-Fa-f]{1,6})(?:#([0-9A-Fa-f]{3,16})|A0)\[/

/**
 * Parse one frame (LF..CR included). `keyFor(account)` gives the key for `*`
 * tokens (null: not configured). CRC and length are checked before anything else.
 */
export function parseFrame(frame: Buffer, keyFor: (account: string) => Dc09Key | null): Dc09Result<Dc09Message> {
  if (frame.length < 12 || frame[0] !== LF || frame[frame.length - 1] !== CR) return { ok: false, error: 'not a frame (<LF> ... <CR>)' }
  if (frame.length > MAX_FRAME_BYTES) return { ok: false, error: `frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}` }
  // Hex CRC (DC-09:2012+) has the quote at 9; the binary CRC of DC-09:2007 at 7.
  let crcGiven: number
  let start: number
  const hexCrc = frame.toString('latin1', 1, 5)
  if (frame[9] === 0x22 && HEX4.test(hexCrc)) {
    crcGiven = parseInt(hexCrc, 16)
    start = 5
  } else if (frame[7] === 0x22) {
    crcGiven = frame[1] * 256 + frame[2]
    start = 3
  } else {
    return { ok: false, error: 'no "id" token after crc and length' }
  }
  const lenText = frame.toString('latin1', start, start + 4)
  if (!HEX4.test(lenText) || lenText[0] !== '0') return { ok: false, error: `length field "${lenText}" is not 0LLL` }
  const msgStart = start + 4
  const msgEnd = frame.length - 1
  if (parseInt(lenText, 16) !== msgEnd - msgStart) return { ok: false, error: `length field says ${parseInt(lenText, 16)}, message has ${msgEnd - msgStart}` }
  if (crc16Arc(frame, msgStart, msgEnd) !== crcGiven) return { ok: false, error: 'crc mismatch' }
  const msg = frame.toString('latin1', msgStart, msgEnd)
  const h = HEAD.exec(msg)
  if (!h) return { ok: false, error: 'malformed header (id, sequence, R, L, # account)' }
  const encrypted = h[1] === '*'
  const account = h[6] ?? ''
  let rest = msg.slice(h[0].length)
  if (encrypted) {
    const key = keyFor(account)
    if (!key) return { ok: false, error: `encrypted message for account "${account}" without a configured key` }
    const d = decryptBody(key, rest)
    if (!d.ok) return d
    rest = d.value
  }
  const close = rest.indexOf(']')
  if (close < 0) return { ok: false, error: 'no "]" closing the data' }
  const data = rest.slice(0, close)
  let after = rest.slice(close + 1)
  // Extended data blocks [x...] are allowed and skipped.
  while (after.startsWith('[')) {
    const e = after.indexOf(']')
    if (e < 0) return { ok: false, error: 'unclosed extended data block' }
    after = after.slice(e + 1)
  }
  let timestamp: string | null = null
  if (after.startsWith('_')) timestamp = after.slice(1, 20)
  else if (after.length && !/^\0*$/.test(after)) return { ok: false, error: 'unexpected bytes after the data' }
  return { ok: true, value: { token: h[2], encrypted, seq: h[3], receiver: h[4] ?? null, prefix: h[5], account, data, timestamp } }
}
