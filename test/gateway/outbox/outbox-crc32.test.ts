import t from 'tap'
import zlib from 'node:zlib'
import { crc32, crc32Table } from '../../../gateway/outbox/outbox-crc32.js'

t.test('the standard check value: CRC-32("123456789") = 0xCBF43926', async (t) => {
  const b = Buffer.from('123456789')
  t.equal(crc32(b, 0, b.length), 0xcbf43926)
  t.equal(crc32Table(b, 0, b.length), 0xcbf43926)
})

t.test('table fallback equals zlib on random data, ranges and continuation', async (t) => {
  let seed = 7
  const buf = Buffer.alloc(4096)
  for (let i = 0; i < buf.length; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; buf[i] = seed >>> 24 }
  for (const [a, b] of [[0, 0], [0, 1], [3, 77], [100, 4096], [0, 4096]]) {
    t.equal(crc32Table(buf, a, b), crc32(buf, a, b), `[${a}, ${b})`)
    const z = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32
    if (z) t.equal(crc32Table(buf, a, b), z(buf.subarray(a, b)) >>> 0)
  }
  t.equal(crc32Table(buf, 50, 4096, crc32Table(buf, 0, 50)), crc32Table(buf, 0, 4096), 'continuation')
  t.equal(crc32(buf, 50, 4096, crc32(buf, 0, 50)), crc32(buf, 0, 4096))
})
