/**
 * Seeded fuzz: random and mutated buffers through every BLE decoder. Nothing
 * may throw, every result must be one of the shared frozen singletons, and
 * readings must stay within their bounds. Deterministic (mulberry32), so a
 * failure names the seed and iteration that reproduces it.
 */
import t from 'tap'
import { BTHomeReading, decodeBTHome, MAX_BUTTONS } from '../../../protocols/ble/bthome.js'
import { ERR, OK, type BleDecodeResult } from '../../../protocols/ble/decode-result.js'
import { decodeEddystone, EddystoneReading } from '../../../protocols/ble/eddystone.js'
import { decodeIBeacon, IBeaconReading } from '../../../protocols/ble/ibeacon.js'

import { seededRandom } from '../../harness/seeded-random.js'

const SEED = 0x5afe4005
const ITERATIONS = 200_000

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')
const SEEDS = [
  hex('40 02C409 03BF13'),
  hex('44 004E 0164 3A01'),
  hex('40 0001 3A00 3A01 3A80 3AFE'),
  hex('40 530C48656C6C6F20576F726C6421 540C48656C6C6F20576F726C6421 3A01'),
  hex('41 e445f3c9962b 33221100 6c7c4519'),
  hex('0215 83256B7478D043A4826905F9DC8A44BA 0010 0020 C6'),
  hex('00 EE 8b0ca750095477cb3e77 aabbccddeeff 0000'),
  hex('20 00 0BB8 1980 00000064 00000A00'),
  hex('10 EE 03 676f6f676c65 07'),
]
const KEY = hex('231d39c1d7cc1ab1aee224cd096db932')
const MAC = hex('5448E68F80A5')
const SINGLETONS = new Set<BleDecodeResult>([OK, ...Object.values(ERR)])

t.test(`${ITERATIONS} random and mutated buffers: no throw, only singleton results`, async (t) => {
  const rnd = seededRandom(SEED)
  const int = (n: number) => Math.floor(rnd() * n)
  const bt = new BTHomeReading()
  const ib = new IBeaconReading()
  const ed = new EddystoneReading()
  const failures: string[] = []
  const tally = new Map<string, number>()
  for (let i = 0; i < ITERATIONS && failures.length < 10; i++) {
    let buf: Buffer
    const mode = int(4)
    if (mode === 0) {
      buf = Buffer.alloc(int(64))
      for (let j = 0; j < buf.length; j++) buf[j] = int(256)
    } else {
      const base = SEEDS[int(SEEDS.length)]
      if (mode === 1) {
        buf = Buffer.from(base)
        for (let k = 1 + int(3); k > 0 && buf.length > 0; k--) buf[int(buf.length)] = int(256)
      } else if (mode === 2) {
        buf = Buffer.from(base.subarray(0, int(base.length + 1)))
      } else {
        buf = Buffer.concat([base, Buffer.alloc(int(300), int(256))])
      }
    }
    // Bias BTHome inputs toward a valid v2 device-info byte so the object walker is exercised.
    if (int(2) === 0 && buf.length > 0) buf[0] = 0x40 | int(2) | (int(2) << 2)
    try {
      const results = [
        decodeBTHome(buf, bt, int(2) === 0 ? KEY : null, MAC),
        decodeIBeacon(buf, ib),
        decodeEddystone(buf, ed),
      ]
      for (const r of results) {
        if (!SINGLETONS.has(r)) failures.push(`iteration ${i}: result is not a shared singleton`)
        const k = r.ok ? 'ok' : r.error
        tally.set(k, (tally.get(k) ?? 0) + 1)
      }
      if (bt.buttonCount > MAX_BUTTONS) failures.push(`iteration ${i}: buttonCount ${bt.buttonCount}`)
      if (bt.counter > 0xffffffff) failures.push(`iteration ${i}: counter ${bt.counter}`)
    } catch (e) {
      failures.push(`seed ${SEED} iteration ${i} input ${buf.toString('hex')}: threw ${(e as Error).message}`)
    }
  }
  t.same(failures, [], 'no failures')
  t.ok((tally.get('ok') ?? 0) > 1000, 'a good share of inputs decoded successfully')
  t.ok((tally.get('unknown_object') ?? 0) > 0 && (tally.get('truncated') ?? 0) > 0 && (tally.get('bad_mic') ?? 0) > 0, 'the error paths were reached')
  t.comment(JSON.stringify(Object.fromEntries(tally)))
})

t.test('results are frozen', async (t) => {
  t.ok(Object.isFrozen(OK))
  for (const e of Object.values(ERR)) t.ok(Object.isFrozen(e), e.error)
})
