/**
 * Broker passwords are stored as scrypt hashes (issue 2 §6), never in clear:
 *   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
 * N=16384, r=8, p=1 costs ~50 ms on a Pi 4: fine per CONNECT, hard to brute-force.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const KEYLEN = 32
/** 256 MiB: 16x what the default N=16384, r=8 needs. */
const MAX_SCRYPT_MEM = 256 * 1024 * 1024

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEYLEN, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

export async function hashPassword(password: string, N = 16384, r = 8, p = 1): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, N, r, p)
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`
}

/** Constant-time check; false for a malformed stored hash (never throws). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  if (typeof stored !== 'string') return false
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  if (![N, r, p].every((x) => Number.isInteger(x) && x > 0)) return false
  // Bound the cost a (hand-edited, corrupt) stored hash can demand: scrypt needs 128*N*r bytes and
  // p times the work; an unbounded r or p would pin the threadpool for minutes on every CONNECT.
  if (N > 1 << 20 || r > 32 || p > 16 || 128 * N * r > MAX_SCRYPT_MEM) return false
  const salt = Buffer.from(parts[4], 'base64')
  const expected = Buffer.from(parts[5], 'base64')
  if (expected.length !== KEYLEN) return false
  try {
    const key = await scryptAsync(password, salt, N, r, p)
    return timingSafeEqual(key, expected)
  } catch {
    return false
  }
}
