import t from 'tap'
import { randomBytes } from 'node:crypto'
import { crc16Arc } from '../../../protocols/dc09/crc16.js'
import { buildFrame, parseFrame, MAX_FRAME_BYTES, type BuildOptions } from '../../../protocols/dc09/frame.js'
import { formatDc09Time, parseDc09Time } from '../../../protocols/dc09/timestamp.js'
import { Dc09Framer } from '../../../protocols/dc09/framer.js'
import { contactIdData, siaDcsData, DEFAULT_DC09_CODES } from '../../../protocols/dc09/events.js'
import { offlineReceiver } from '../../harness/iobroker-sia.js'
import { seededRandom } from '../../harness/seeded-random.js'

const T = Date.UTC(2026, 11, 7, 8, 5, 9)
const KEY16 = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex')
const base = (o: Partial<BuildOptions> = {}): BuildOptions => ({ token: 'SIA-DCS', encrypted: false, seq: 1, receiver: 'R1', prefix: '0', account: '1234', data: '#1234|Nri1/PA001', time: T, key: null, ...o, ...(o.receiver === undefined ? { receiver: '1' } : {}) })
const noKey = (): null => null

t.test('CRC-16/ARC check value and the timestamp form', async (t) => {
  t.equal(crc16Arc(Buffer.from('123456789')), 0xbb3d, 'CRC-16/ARC check value')
  t.equal(formatDc09Time(T), '08:05:09,12-07-2026')
  t.equal(parseDc09Time('08:05:09,12-07-2026'), T)
  t.ok(Number.isNaN(parseDc09Time('25:00:00,12-07-2026')))
  t.ok(Number.isNaN(parseDc09Time('garbage')))
})

t.test('a plain SIA-DCS frame: layout, CRC and 0LLL length as DC-09 §5.4', async (t) => {
  const r = buildFrame(base())
  t.ok(r.ok)
  if (!r.ok) return
  const f = r.value
  const msg = '"SIA-DCS"0001R1L0#1234[#1234|Nri1/PA001]_08:05:09,12-07-2026'
  t.equal(f.toString('latin1'), `\n${crc16Arc(Buffer.from(msg)).toString(16).toUpperCase().padStart(4, '0')}0${msg.length.toString(16).toUpperCase().padStart(3, '0')}${msg}\r`)
  const p = parseFrame(f, noKey)
  t.same(p, { ok: true, value: { token: 'SIA-DCS', encrypted: false, seq: '0001', receiver: '1', prefix: '0', account: '1234', data: '#1234|Nri1/PA001', timestamp: '08:05:09,12-07-2026' } })
})

t.test('every key size round-trips, and ioBroker.sia reads what we build (plain and encrypted, both tokens)', async (t) => {
  for (const len of [16, 24, 32]) {
    const key = randomBytes(len)
    const rx = offlineReceiver([{ accountnumber: 'ABC123', aes: true, hex: true, password: key.toString('hex') }], 0)
    for (const token of ['ADM-CID', 'SIA-DCS']) {
      const data = token === 'ADM-CID' ? '#ABC123|1120 01 007' : '#ABC123|Nri1/PA007'
      const r = buildFrame(base({ token, encrypted: true, key, account: 'ABC123', data, seq: 42, random: randomBytes(16) }))
      t.ok(r.ok, `AES-${len * 8} ${token} builds`)
      if (!r.ok) continue
      t.match(r.value.toString('latin1'), new RegExp(`^\\n[0-9A-F]{4}0[0-9A-F]{3}"\\*${token}"0042R1L0#ABC123\\[[0-9A-F]+\\r$`))
      const p = parseFrame(r.value, (a) => (a === 'ABC123' ? key : null))
      t.ok(p.ok && p.value.data === data && p.value.encrypted && p.value.timestamp === '08:05:09,12-07-2026', `AES-${len * 8} ${token} parses back`)
      const theirs = rx.parseSIA(r.value)
      t.equal(theirs.id, `*${token}`)
      t.equal(theirs.data_message, data, `ioBroker.sia decrypts AES-${len * 8} ${token}`)
      t.equal(theirs.seq, '0042')
      t.equal(theirs.calc_crc, theirs.crc)
    }
    // And we read ioBroker.sia's encrypted ACK (pad of zero bytes, `|]_ts`).
    const ack = rx.createACK(rx.parseSIA((buildFrame(base({ encrypted: true, key, account: 'ABC123', seq: 7 })) as { value: Buffer }).value))
    const pa = parseFrame(ack, () => key)
    t.ok(pa.ok && pa.value.token === 'ACK' && pa.value.encrypted && pa.value.seq === '0007' && pa.value.account === 'ABC123' && pa.value.data === '', `reads ioBroker.sia's AES-${len * 8} ACK`)
  }
})

t.test('plain ACK and NAK from ioBroker.sia parse', async (t) => {
  const rx = offlineReceiver([{ accountnumber: '1234' }], 0)
  const f = (buildFrame(base({ seq: 9999 })) as { value: Buffer }).value
  const ack = parseFrame(rx.createACK(rx.parseSIA(f)), noKey)
  t.same(ack.ok && { token: ack.value.token, seq: ack.value.seq, account: ack.value.account, receiver: ack.value.receiver }, { token: 'ACK', seq: '9999', account: '1234', receiver: '1' })
  const nak = parseFrame(rx.createNACK(f), noKey)
  t.ok(nak.ok && nak.value.token === 'NAK' && nak.value.seq === '0000' && nak.value.account === '' && nak.value.timestamp !== null, 'NAK with A0 and a timestamp')
})

t.test('bad input is an error value, never a throw', async (t) => {
  const good = (buildFrame(base()) as { value: Buffer }).value
  const flipCrc = Buffer.from(good); flipCrc[20] ^= 1
  t.match(parseFrame(flipCrc, noKey), { ok: false, error: /crc/ })
  const badLen = Buffer.from(good); badLen.write('0FFF', 5, 'latin1')
  t.match(parseFrame(badLen, noKey), { ok: false, error: /length/ })
  t.match(parseFrame(Buffer.from('hello'), noKey), { ok: false })
  const enc = (buildFrame(base({ encrypted: true, key: KEY16 })) as { value: Buffer }).value
  t.match(parseFrame(enc, noKey), { ok: false, error: /without a configured key/ })
  t.match(parseFrame(enc, () => Buffer.alloc(16, 7)), { ok: false }, 'wrong key')
  t.match(buildFrame(base({ seq: 10000 })), { ok: false })
  t.match(buildFrame(base({ encrypted: true, key: Buffer.alloc(10) })), { ok: false, error: /key length/ })
  t.match(buildFrame(base({ data: 'x'.repeat(5000) })), { ok: false, error: /0LLL/ })
  const rnd = seededRandom(17)
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(good)
    const n = 1 + Math.floor(rnd() * 4)
    for (let k = 0; k < n; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256)
    const junk = Buffer.alloc(Math.floor(rnd() * 80)).map(() => Math.floor(rnd() * 256))
    t.doesNotThrow(() => { parseFrame(b, () => KEY16); parseFrame(Buffer.concat([Buffer.from([10]), junk, Buffer.from([13])]), () => KEY16) })
  }
})

t.test('framer: every split, garbage between frames, oversize dropped and counted', async (t) => {
  const a = (buildFrame(base({ seq: 1 })) as { value: Buffer }).value
  const b = (buildFrame(base({ seq: 2, encrypted: true, key: KEY16 })) as { value: Buffer }).value
  const stream = Buffer.concat([Buffer.from('xx'), a, Buffer.from('\0\0junk'), b])
  for (let cut = 0; cut <= stream.length; cut++) {
    const f = new Dc09Framer()
    const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))]
    if (out.length !== 2 || !out[0].equals(a) || !out[1].equals(b)) { t.fail(`split at ${cut}`); return }
  }
  const f = new Dc09Framer()
  const huge = Buffer.concat([Buffer.from([10]), Buffer.alloc(MAX_FRAME_BYTES + 10, 0x41), Buffer.from([13])])
  const out = [...f.push(huge.subarray(0, 3000)), ...f.push(huge.subarray(3000)), ...f.push(a)]
  t.equal(out.length, 1)
  t.ok(out[0].equals(a), 'resyncs after an oversize frame')
  t.equal(f.oversize, 1)
})

t.test('event data: Contact ID and SIA-DCS with restore qualifiers', async (t) => {
  t.equal(contactIdData('1234', { code: DEFAULT_DC09_CODES.panic, restore: false, partition: 1, zone: 7 }), '#1234|1120 01 007')
  t.equal(contactIdData('1234', { code: DEFAULT_DC09_CODES.mains_lost, restore: true, partition: 2, zone: 0 }), '#1234|3301 02 000')
  t.equal(siaDcsData('1234', { code: DEFAULT_DC09_CODES.tamper, restore: false, partition: 1, zone: 12 }), '#1234|Nri1/TA012')
  t.equal(siaDcsData('1234', { code: DEFAULT_DC09_CODES.tamper, restore: true, partition: 1, zone: 12 }), '#1234|Nri1/TR012')
})
