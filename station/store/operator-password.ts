/**
 * Operator passwords: scrypt (node:crypto), stored as
 *   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
 * the same format as the gateway's broker users (the station never imports
 * gateway/, so this is its own copy of the ~20 lines).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const KEYLEN = 32

function derive(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

export async function hashOperatorPassword(password: string, N = 16384): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, 8, 1)
  return `scrypt$${N}$8$1$${salt.toString('base64')}$${key.toString('base64')}`
}

/** Constant-time; false (never a throw) for a malformed or over-costly stored hash. */
export async function verifyOperatorPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0) || N > 1 << 20 || r > 32 || p > 16 || 128 * N * r > 256 * 1024 * 1024) return false
  const expected = Buffer.from(parts[5], 'base64')
  if (expected.length !== KEYLEN) return false
  try {
    return timingSafeEqual(await derive(password, Buffer.from(parts[4], 'base64'), N, r, p), expected)
  } catch {
    return false
  }
}
