/**
 * CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320), the same checksum as
 * zlib/gzip/PNG. node:zlib exports `crc32` from Node 20.15 / 22.2 on; the
 * package allows any Node >= 20, so older runtimes fall back to a table.
 * Both produce identical values (test/gateway/outbox/outbox-crc32.test.ts).
 */
import zlib from 'node:zlib'

type NativeCrc = (data: ArrayBufferView, value?: number) => number
const native: NativeCrc | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (zlib as unknown as { crc32: NativeCrc }).crc32 : undefined

let table: Uint32Array | null = null

function makeTable(): Uint32Array {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
}

/** Table-driven CRC-32 over buf[start, end), continuing from `prev` (0 to start). */
export function crc32Table(buf: Uint8Array, start: number, end: number, prev = 0): number {
  const t = table ?? (table = makeTable())
  let c = ~prev >>> 0
  for (let i = start; i < end; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}

/** CRC-32 over buf[start, end), continuing from `prev`; native when available. */
export function crc32(buf: Uint8Array, start: number, end: number, prev = 0): number {
  if (native !== undefined) return native(buf.subarray(start, end), prev) >>> 0
  return crc32Table(buf, start, end, prev)
}
