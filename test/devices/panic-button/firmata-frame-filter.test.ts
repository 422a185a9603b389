import t from 'tap'
import { FirmataFrameFilter } from '../../../devices/panic-button/firmata-frame-filter.js'
import { Backoff } from '../../../devices/time/backoff.js'

const valid = [0xf9, 2, 5, 0x90, 0x7b, 0x00, 0xe0, 0x46, 0x02, 0xf0, 0x79, 2, 5, 0x53, 0, 0xf7, 0x91, 0x01, 0x00]

function run(chunks: number[][]): { out: number[]; f: FirmataFrameFilter } {
  const f = new FirmataFrameFilter()
  const out: number[] = []
  for (const c of chunks) { const n = f.push(Uint8Array.from(c)); out.push(...f.out.subarray(0, n)) }
  return { out, f }
}

t.test('valid stream passes unchanged when split at every byte', async (t) => {
  for (let i = 0; i <= valid.length; i++) {
    const { out, f } = run([valid.slice(0, i), valid.slice(i)])
    t.same(out, valid, `split at ${i}`)
    t.equal(f.messages, 5)
    t.equal(f.garbageBytes + f.halfMessages, 0)
  }
})

t.test('garbage and half messages are dropped and counted', async (t) => {
  const rows: Array<{ name: string; input: number[]; out: number[]; garbage: number; half: number }> = [
    { name: 'noise bytes', input: [0x00, 0x13, 0xa5, 0xff], out: [], garbage: 4, half: 0 },
    { name: 'half digital message cut by a command is not passed on', input: [0x90, 0x00, 0xf9, 2, 5], out: [0xf9, 2, 5], garbage: 0, half: 1 },
    { name: 'sysex cut by a command', input: [0xf0, 0x79, 1, 0x90, 1, 0], out: [0x90, 1, 0], garbage: 0, half: 1 },
    { name: 'stray data bytes between messages', input: [0x90, 1, 0, 5, 6, 0xe0, 1, 1], out: [0x90, 1, 0, 0xe0, 1, 1], garbage: 2, half: 0 },
  ]
  for (const r of rows) {
    const { out, f } = run([r.input])
    t.same(out, r.out, r.name)
    t.equal(f.garbageBytes, r.garbage, `${r.name}: garbage`)
    t.equal(f.halfMessages, r.half, `${r.name}: half`)
  }
})

t.test('seeded random bytes never throw and never pass a malformed message', async (t) => {
  let seed = 42
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
  const f = new FirmataFrameFilter()
  for (let k = 0; k < 2000; k++) {
    const chunk = Uint8Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))
    const n = f.push(chunk)
    const out = f.out.subarray(0, n)
    for (let i = 0; i < n;) {
      const b = out[i]
      if (b === 0xf0) { const e = out.indexOf(0xf7, i); if (e < 0) { t.fail('unterminated sysex'); return } i = e + 1; continue }
      if (!(((b & 0xf0) === 0x90 || (b & 0xf0) === 0xe0 || b === 0xf9) && out[i + 1] < 0x80 && out[i + 2] < 0x80)) { t.fail(`bad message at ${i}`); return }
      i += 3
    }
  }
  t.pass('2000 random chunks')
})

t.test('after the handshake a tap takes pin messages in stream order; impossible reports are counted', async (t) => {
  const f = new FirmataFrameFilter()
  const seen: string[] = []
  f.tap = {
    digitalReport: (port, value) => { seen.push(`d${port}:${value}`) },
    analogReport: (ch, value) => { seen.push(`a${ch}:${value}`) },
    pinState: (pin, mode) => { seen.push(`s${pin}:${mode}`); return pin === 2 },
    announced: () => { seen.push('boot') },
  }
  const before = [0x90, 0x04, 0x00]
  t.equal(f.push(Uint8Array.from(before)), 3, 'before the handshake: all to firmata-io')
  f.afterHandshake = true
  const n = f.push(Uint8Array.from([0xf0, 0x6e, 2, 0x0b, 1, 0xf7, 0x90, 0x04, 0x01, 0xe0, 0x46, 0x02, 0x91, 0x00, 0x02,
    0xf0, 0x6e, 9, 0x0b, 1, 0xf7, 0xf9, 2, 5, 0xf0, 0x79, 2, 5, 0x53, 0, 0xf7]))
  t.same(seen, ['s2:11', 'd0:132', 'a0:326', 's9:11', 'boot'])
  t.same([...f.out.subarray(0, n)], [0xf9, 2, 5, 0xf0, 0x79, 2, 5, 0x53, 0, 0xf7], 'version and firmware still reach firmata-io')
  t.equal(f.rejectedReports, 1, 'a port report with bits above its 8 pins')
  t.equal(f.rejectedSysex, 1, 'a pin state nobody asked for')
  t.equal(f.noise, f.rejectedReports + f.rejectedSysex, 'noise adds them up')
})

t.test('backoff: exponential, capped, jittered within [half, full]', async (t) => {
  const lo = new Backoff(100, 1000, () => 0)
  t.same([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()], [50, 100, 200, 400, 500])
  const hi = new Backoff(100, 1000, () => 1)
  t.same([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()], [100, 200, 400, 800, 1000])
  hi.reset()
  t.equal(hi.next(), 100)
})
