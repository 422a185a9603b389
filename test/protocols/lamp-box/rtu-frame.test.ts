import t from 'tap'
import { crc16Modbus, sealFrame, RtuFramer, type RtuDirection } from '../../../protocols/lamp-box/rtu-frame.js'
import { seededRandom } from '../../harness/lamp-box-slave.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex')

function collect(dir: RtuDirection, chunks: Uint8Array[]): { frames: string[]; framer: RtuFramer } {
  const framer = new RtuFramer(dir)
  const frames: string[] = []
  const sink = { frame: (b: Uint8Array, o: number, l: number) => { frames.push(Buffer.from(b.subarray(o, o + l)).toString('hex')) } }
  for (const c of chunks) framer.push(c, sink)
  return { frames, framer }
}

// Vectors: the modbus-serial master's own requests as seen on the wire, and the
// classic "read holding registers" example (Modbus serial line v1.02 §6.2.2 CRC).
const REQ_FC4 = '01 04 0000 0004 f1c9'
const REQ_FC16 = '01 10 0000 0003 06 0002 0003 001e'
const RSP_FC4 = '01 04 04 0102 1092'
const RSP_EX = '01 84 02'

t.test('CRC-16/MODBUS', async (t) => {
  t.equal(crc16Modbus(hex('010400000004'), 0, 6), 0xc9f1, 'sent low byte first: f1 c9')
  t.equal(crc16Modbus(hex('123456789'.split('').map((c) => c.charCodeAt(0).toString(16)).join('')), 0, 9), 0x4b37, 'check value of CRC-16/MODBUS')
  const b = Buffer.alloc(10)
  hex('0110000000030600020003001e'.slice(0, 12)).copy(b)
  t.equal(sealFrame(b, 6), 8)
})

function sealed(h: string): Buffer {
  const b = Buffer.alloc(300)
  const body = hex(h)
  body.copy(b)
  return b.subarray(0, sealFrame(b, body.length))
}

t.test('frames requests split at every byte', async (t) => {
  const stream = Buffer.concat([hex(REQ_FC4), sealed(REQ_FC16), hex(REQ_FC4)])
  const want = [hex(REQ_FC4).toString('hex'), sealed(REQ_FC16).toString('hex'), hex(REQ_FC4).toString('hex')]
  for (let i = 0; i <= stream.length; i++) {
    for (let j = i; j <= stream.length; j += 3) {
      const { frames, framer } = collect('request', [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])
      if (frames.join() !== want.join()) { t.fail(`split ${i}/${j}: ${frames}`); return }
      if (framer.garbageBytes !== 0) { t.fail(`split ${i}/${j}: garbage counted`); return }
    }
  }
  t.pass('every split frames the same three requests')
})

t.test('frames responses, including exceptions', async (t) => {
  const { frames } = collect('response', [sealed(RSP_FC4), sealed(RSP_EX), sealed('01 10 0000 0003')])
  t.same(frames, [sealed(RSP_FC4).toString('hex'), sealed(RSP_EX).toString('hex'), sealed('01 10 0000 0003').toString('hex')])
})

t.test('resyncs after garbage, bad CRC and a partial frame', async (t) => {
  const bad = Buffer.from(hex(REQ_FC4)); bad[7] ^= 0xff
  const partial = hex(REQ_FC4).subarray(0, 5)
  const { frames, framer } = collect('request', [hex('ff fe 00'), bad, partial, hex(REQ_FC4)])
  t.same(frames, [hex(REQ_FC4).toString('hex')])
  t.ok(framer.crcErrors >= 1, 'bad CRC counted')
  t.ok(framer.garbageBytes >= 3 + 8 + 5, 'skipped bytes counted')
  t.equal(framer.pending, 0)
})

t.test('seeded fuzz: random bytes never throw, every frame has a good CRC, all bytes accounted', async (t) => {
  for (const dir of ['request', 'response'] as const) {
    const rnd = seededRandom(dir === 'request' ? 5 : 6)
    const framer = new RtuFramer(dir)
    let framed = 0
    let fed = 0
    const sink = {
      frame: (b: Uint8Array, o: number, l: number) => {
        framed += l
        const crc = b[o + l - 2] | (b[o + l - 1] << 8)
        if (crc !== crc16Modbus(b, o, o + l - 2)) throw new Error('bad frame emitted')
      },
    }
    for (let round = 0; round < 3000; round++) {
      const n = Math.floor(rnd() * 64)
      const chunk = new Uint8Array(n)
      for (let i = 0; i < n; i++) chunk[i] = Math.floor(rnd() * 256)
      // Now and then a valid frame in the noise: it must still come out (or be counted if noise precedes it).
      const c = round % 50 === 0 ? Buffer.concat([chunk, hex(REQ_FC4)]) : chunk
      fed += c.length
      framer.push(c, sink)
    }
    t.equal(framed + framer.garbageBytes + framer.pending, fed, `${dir}: every byte framed, skipped or pending`)
    t.ok(framer.frames > 0 || dir === 'response', `${dir}: valid frames found in the noise (${framer.frames})`)
  }
})
