import t from 'tap'
import { decodeIBeacon, IBeaconReading, parseUuid } from '../../../protocols/ble/ibeacon.js'
import { ERR, OK } from '../../../protocols/ble/decode-result.js'

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')

// Widely cited iBeacon advertisement: 02011A 1AFF 4C00 0215 <uuid> 0010 0020 C6
// (UUID 83256B74-78D0-43A4-8269-05F9DC8A44BA, major 16, minor 32, measured power -58).
// BlueZ strips the AD header and company id 0x004C: the decoder sees "0215...".
const FRAME = hex('0215 83256B7478D043A4826905F9DC8A44BA 0010 0020 C6')

t.test('decodes UUID, major, minor (big-endian) and measured power', async (t) => {
  const r = new IBeaconReading()
  t.equal(decodeIBeacon(FRAME, r), OK)
  t.equal(Buffer.from(r.uuid).toString('hex'), '83256b7478d043a4826905f9dc8a44ba')
  t.equal(r.major, 16)
  t.equal(r.minor, 32)
  t.equal(r.measuredPower, -58)
  t.equal(r.trailing, 0)
  t.same(parseUuid('83256B74-78D0-43A4-8269-05F9DC8A44BA'), r.uuid)
  t.equal(parseUuid('not-a-uuid'), null)
})

t.test('a trailing byte (tags that append battery) is tolerated and ignored', async (t) => {
  const r = new IBeaconReading()
  t.equal(decodeIBeacon(Buffer.concat([FRAME, hex('64')]), r), OK)
  t.equal(r.trailing, 1)
})

t.test('bad input', async (t) => {
  const r = new IBeaconReading()
  t.equal(decodeIBeacon(hex(''), r), ERR.empty)
  t.equal(decodeIBeacon(hex('02'), r), ERR.truncated)
  t.equal(decodeIBeacon(hex('1005 031C0F3A7E'), r), ERR.not_ibeacon, 'Apple Nearby frame')
  t.equal(decodeIBeacon(hex('0214') , r), ERR.bad_length, 'lying length')
  t.equal(decodeIBeacon(FRAME.subarray(0, 22), r), ERR.truncated)
  t.equal(decodeIBeacon(Buffer.alloc(300, 2), r), ERR.oversized)
})
