/**
 * DC-09 encryption (§5.4.5, "*" tokens): AES-128/192/256 in CBC mode with an
 * all-zero IV and no cipher padding. The plaintext is
 * `<pad>|<data>][<ext>]_<timestamp>` where <pad> brings the length to a
 * multiple of 16 (1 to 16 characters, none of them `|`, `[` or `]`, so the
 * receiver can strip it at the first `|`). Sent as upper-case hex.
 * node:crypto only; pure (no I/O); never throws on bad input.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto'

export type Dc09Key = Buffer

export function aesAlgorithm(key: Dc09Key): string | null {
  return key.length === 16 ? 'aes-128-cbc' : key.length === 24 ? 'aes-192-cbc' : key.length === 32 ? 'aes-256-cbc' : null
}

const IV = Buffer.alloc(16)
/** Printable ASCII except | [ ] : the pad is never mistaken for the data's start. */
const PAD_CHARS = Buffer.from('!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ\\^_`abcdefghijklmnopqrstuvwxyz{}~')

/** Pad length for a body of `n` bytes (the `|` included in n): 1..16. */
export function padLength(n: number): number {
  return 16 - (n % 16)
}

/**
 * Encrypt `body` (the text after the pad, starting with `|`) and return the hex.
 * `random` fills the pad (injectable for test vectors; default crypto-grade
 * bytes from the caller). Returns null for a key of the wrong length.
 */
export function encryptBody(key: Dc09Key, body: Buffer, random: Buffer): string | null {
  const alg = aesAlgorithm(key)
  if (!alg) return null
  const pad = padLength(body.length)
  const plain = Buffer.allocUnsafe(pad + body.length)
  for (let i = 0; i < pad; i++) plain[i] = PAD_CHARS[(random[i % random.length] ?? i) % PAD_CHARS.length]
  body.copy(plain, pad)
  const c = createCipheriv(alg, key, IV)
  c.setAutoPadding(false)
  return Buffer.concat([c.update(plain), c.final()]).toString('hex').toUpperCase()
}

/** Decrypt hex and strip the pad up to and including the first `|`. */
export function decryptBody(key: Dc09Key, hex: string): { ok: true; value: string } | { ok: false; error: string } {
  const alg = aesAlgorithm(key)
  if (!alg) return { ok: false, error: 'key length is not 16, 24 or 32 bytes' }
  if (hex.length === 0 || hex.length % 32 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return { ok: false, error: 'encrypted block is not a whole number of AES blocks in hex' }
  let plain: Buffer
  try {
    const d = createDecipheriv(alg, key, IV)
    d.setAutoPadding(false)
    plain = Buffer.concat([d.update(Buffer.from(hex, 'hex')), d.final()])
  } catch (e) {
    return { ok: false, error: `decryption failed: ${(e as Error).message}` }
  }
  const bar = plain.indexOf(0x7c)
  if (bar < 0 || bar > 16) return { ok: false, error: 'no pad separator "|" after decryption (wrong key?)' }
  return { ok: true, value: plain.subarray(bar + 1).toString('latin1') }
}
