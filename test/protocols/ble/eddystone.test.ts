import t from 'tap'
import { decodeEddystone, EddystoneFrame, EddystoneReading } from '../../../protocols/ble/eddystone.js'
import { ERR, OK } from '../../../protocols/ble/decode-result.js'

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')

// eddystone-uid/README.md: namespace from its elided-UUID example (8b0ca750095477cb3e77).
const UID = hex('00 EE 8b0ca750095477cb3e77 aabbccddeeff 0000')

t.test('UID frame: tx power, namespace, instance; with or without the RFU bytes', async (t) => {
  const r = new EddystoneReading()
  t.equal(decodeEddystone(UID, r), OK)
  t.equal(r.frame, EddystoneFrame.UID)
  t.equal(r.txPower, -18)
  t.equal(Buffer.from(r.namespace).toString('hex'), '8b0ca750095477cb3e77')
  t.equal(Buffer.from(r.instance).toString('hex'), 'aabbccddeeff')
  t.equal(decodeEddystone(UID.subarray(0, 18), r), OK, '"implementations that truncate the frame to omit the RFU bytes"')
  t.equal(decodeEddystone(UID.subarray(0, 19), r), ERR.bad_length)
  t.equal(decodeEddystone(UID.subarray(0, 17), r), ERR.truncated)
})

t.test('TLM frame (tlm-plain.md): battery mV, 8.8 temperature, counts; big-endian', async (t) => {
  const r = new EddystoneReading()
  t.equal(decodeEddystone(hex('20 00 0BB8 1980 00000064 00000A00'), r), OK)
  t.equal(r.frame, EddystoneFrame.TLM)
  t.equal(r.batteryMv, 3000)
  t.equal(r.temperature, 25.5)
  t.equal(r.advCount, 100)
  t.equal(r.secCount, 2560)
  t.equal(decodeEddystone(hex('20 00 0000 FF80 FFFFFFFF 00000000'), r), OK)
  t.equal(r.temperature, -0.5, 'signed 8.8')
  t.equal(r.advCount, 0xffffffff)
  t.equal(decodeEddystone(hex('20 00 0000 8000 00000000 00000000'), r), OK)
  t.ok(Number.isNaN(r.temperature), '0x8000 = not supported')
  t.equal(decodeEddystone(hex('20 01 00112233445566778899aabb 0102 0304'), r), OK, 'eTLM recognised')
  t.equal(r.tlmEncrypted, true)
  t.equal(decodeEddystone(hex('20 02 0000'), r), ERR.unknown_frame, 'unknown TLM version')
  t.equal(decodeEddystone(hex('20 00 0BB8 1980 00000064 00000A'), r), ERR.truncated)
  t.equal(decodeEddystone(hex('20 00 0BB8 1980 00000064 00000A00 00'), r), ERR.bad_length)
})

t.test('URL and EID frames are recognised and ignored; others rejected', async (t) => {
  const r = new EddystoneReading()
  t.equal(decodeEddystone(hex('10 EE 03 676f6f676c65 07'), r), OK)
  t.equal(r.frame, EddystoneFrame.URL)
  t.equal(decodeEddystone(hex('30 EE 0102030405060708'), r), OK)
  t.equal(r.frame, EddystoneFrame.EID)
  t.equal(decodeEddystone(hex('40 00'), r), ERR.unknown_frame)
  t.equal(r.frame, -1)
  t.equal(decodeEddystone(hex(''), r), ERR.empty)
  t.equal(decodeEddystone(hex('10'), r), ERR.truncated)
})
