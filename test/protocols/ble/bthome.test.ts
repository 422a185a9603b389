import t from 'tap'
import { createSecretKey } from 'node:crypto'
import { BTHomeReading, decodeBTHome, MAX_BUTTONS, readBTHomeHeader } from '../../../protocols/ble/bthome.js'
import { OBJECT_DEFS, OBJECT_LENGTH, objectValue, VARIABLE } from '../../../protocols/ble/bthome-objects.js'
import { ERR, OK } from '../../../protocols/ble/decode-result.js'
import { parseBleAddress } from '../../../protocols/ble/ble-address.js'

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')

// bthome.io/encryption worked example.
const KEY = hex('231d39c1d7cc1ab1aee224cd096db932')
const MAC = new Uint8Array(6)
parseBleAddress('54:48:E6:8F:80:A5', MAC)
// Service data "d2fc41e445f3c9962b332211006c7c4519" minus the UUID bytes (BlueZ strips them).
const ENCRYPTED = hex('41 e445f3c9962b 33221100 6c7c4519')

t.test('bthome.io/format example: 40 02C409 03BF13 (temperature 25.00, humidity 50.55)', async (t) => {
  const r = new BTHomeReading()
  t.equal(decodeBTHome(hex('40 02C409 03BF13'), r, null, null), OK)
  t.equal(r.version, 2)
  t.equal(r.encrypted, false)
  t.equal(r.triggerBased, false)
  t.equal(r.objectCount, 2)
  t.equal(objectValue(hex('02C409'), 1, 0x02), 25)
  t.equal(objectValue(hex('03BF13'), 1, 0x03), 50.55)
})

// Every example of the bthome.io/format tables: [object bytes as printed, expected scaled value].
const SPEC_EXAMPLES: [string, number][] = [
  ['518756', 22.151], ['0161', 97], ['12E204', 1250], ['56E803', 1000], ['0960', 96], ['3D0960', 24585],
  ['3E2A2C0960', 1611213866], ['59EA', -22], ['5AEAEA', -5398], ['5BEA0234EA', -365690134], ['434E34', 13.39],
  ['5D02EA', -5.63], ['08CA06', 17.38], ['400C00', 12], ['414E00', 7.8], ['424E3400', 13.39],
  ['4d12138a14', 344593.17], ['0A138A14', 1346.067], ['4B138A14', 1346.067], ['4C41018A01', 25821.505],
  ['528756', 22.151], ['03BF13', 50.55], ['2E23', 35], ['05138A14', 13460.67], ['065E1F', 80.3], ['073E1D', 74.86],
  ['14020C', 30.74], ['2F23', 35], ['0D120C', 3090], ['0E021C', 7170], ['0B021B00', 69.14], ['5C02FBFFFF', -12.78],
  ['04138A01', 1008.83], ['3F020C', 307.4], ['444E34', 133.9], ['57EA', -22], ['58EA', -7.7], ['451101', 27.3],
  ['02CA09', 25.06], ['505d396164', 1684093277], ['133301', 307], ['0C020C', 3.074], ['4A020C', 307.4],
  ['4E87562A01', 19551.879], ['478756', 2215.1], ['48DC87', 34780], ['5587562A01', 19551.879], ['49DC87', 34.78],
  ['4632', 5], ['4F87562A01', 19551.879], ['5E9F8C', 359.99], ['5FA00F', 4000],
  // binary sensors
  ['1501', 1], ['1601', 1], ['1700', 0], ['1801', 1], ['1900', 0], ['1A00', 0], ['1B01', 1], ['1C01', 1], ['0F01', 1],
  ['1D00', 0], ['1E01', 1], ['1F01', 1], ['2001', 1], ['2100', 0], ['2201', 1], ['2301', 1], ['1100', 0], ['2400', 0],
  ['1001', 1], ['2500', 0], ['2601', 1], ['2701', 1], ['2800', 0], ['2901', 1], ['2A00', 0], ['2B00', 0], ['2C01', 1],
  ['2D01', 1],
  // events, device information, misc
  ['3A00', 0], ['3A01', 1], ['3A02', 2], ['3A03', 3], ['3A04', 4], ['3A05', 5], ['3A06', 6], ['3A80', 0x80],
  ['3C0000', 0], ['3C0103', 0x0301], ['3C020A', 0x0a02], ['F00100', 1], ['F100010204', 0x04020100], ['F2000106', 0x060100],
  ['0009', 9],
]

t.test('every bthome.io/format table example parses with the implied length and value', async (t) => {
  const r = new BTHomeReading()
  for (const [obj, want] of SPEC_EXAMPLES) {
    const b = hex('40' + obj)
    t.equal(decodeBTHome(b, r, null, null), OK, obj)
    t.equal(r.objectCount, 1, `${obj}: one object`)
    t.equal(OBJECT_LENGTH[b[1]], b.length - 2, `${obj}: table length`)
    t.equal(objectValue(b, 2, b[1]), want, `${obj}: value`)
  }
})

t.test('text and raw objects carry their own length byte', async (t) => {
  const r = new BTHomeReading()
  t.equal(OBJECT_LENGTH[0x53], VARIABLE)
  t.equal(decodeBTHome(hex('40 530C48656C6C6F20576F726C6421 540C48656C6C6F20576F726C6421 3A01'), r, null, null), OK)
  t.equal(r.objectCount, 3)
  t.same([...r.buttons.subarray(0, r.buttonCount)], [1], 'objects after variable-length ones are found')
  t.equal(decodeBTHome(hex('40 530C48656C6C'), r, null, null), ERR.truncated, 'lying text length')
  t.equal(decodeBTHome(hex('40 53'), r, null, null), ERR.truncated, 'missing length byte')
  t.equal(decodeBTHome(hex('40 5300 3A01'), r, null, null), OK, 'empty text')
})

t.test('Shelly BLU Button1 packets: packet id, battery, button events incl. hold', async (t) => {
  const r = new BTHomeReading()
  t.equal(decodeBTHome(hex('44 004E 0164 3A01'), r, null, null), OK)
  t.equal(r.triggerBased, true, 'device info 0x44: trigger based')
  t.equal(r.packetId, 0x4e)
  t.equal(r.battery, 100)
  t.same([...r.buttons.subarray(0, r.buttonCount)], [1])
  t.ok(r.hasButtonEvent())
  t.equal(decodeBTHome(hex('44 0050 0164 3A80'), r, null, null), OK)
  t.same([...r.buttons.subarray(0, r.buttonCount)], [0x80], 'hold_press 0x80 (bthome.io)')
  t.equal(decodeBTHome(hex('44 0051 0164 3AFE'), r, null, null), OK)
  t.same([...r.buttons.subarray(0, r.buttonCount)], [0xfe], 'button hold 0xFE (Shelly docs)')
  t.equal(decodeBTHome(hex('44 0052 0164 3A00'), r, null, null), OK)
  t.notOk(r.hasButtonEvent(), '0x00 is "no event"')
})

t.test('several buttons in one packet (bthome.io "3A003A01": nothing on button 1, press on button 2)', async (t) => {
  const r = new BTHomeReading()
  t.equal(decodeBTHome(hex('40 0001 3A00 3A01'), r, null, null), OK)
  t.same([...r.buttons.subarray(0, r.buttonCount)], [0, 1])
  t.equal(decodeBTHome(hex('40 0001 3A01 3A02 3A03 3A04'), r, null, null), OK, 'Shelly Wall Switch 4 style')
  t.equal(r.buttonCount, 4)
  t.equal(decodeBTHome(hex('40' + '3A01'.repeat(MAX_BUTTONS + 1)), r, null, null), ERR.too_many_buttons)
})

t.test('bad input is an error value, never a throw', async (t) => {
  const r = new BTHomeReading()
  t.equal(decodeBTHome(hex(''), r, null, null), ERR.empty)
  t.equal(decodeBTHome(hex('40'), r, null, null), OK, 'device info only: valid, no objects')
  t.equal(decodeBTHome(hex('20 02C409'), r, null, null), ERR.bad_version, 'version 1 on the v2 UUID')
  t.equal(decodeBTHome(hex('60 02C409'), r, null, null), ERR.bad_version, 'version 3')
  t.equal(decodeBTHome(hex('40 02C4'), r, null, null), ERR.truncated, 'object cut short')
  t.equal(decodeBTHome(hex('40 3E2A2C09'), r, null, null), ERR.truncated)
  t.equal(decodeBTHome(hex('40 0001 3001 3A01'), r, null, null), ERR.unknown_object, 'unknown id stops the parse')
  t.equal(r.unknownObjectId, 0x30)
  t.equal(r.buttonCount, 0, 'the button after the unknown object is not reported')
  t.equal(decodeBTHome(Buffer.alloc(256, 0x40), r, null, null), ERR.oversized)
  t.equal(OBJECT_DEFS[0x65], undefined)
})

t.test('bthome.io/encryption worked example decrypts with the documented key, MAC and counter', async (t) => {
  const r = new BTHomeReading()
  t.equal(decodeBTHome(ENCRYPTED, r, KEY, MAC), OK)
  t.equal(r.encrypted, true)
  t.equal(r.counter, 1122867, 'counter 0x00112233 sent as 33221100')
  t.equal(r.objectCount, 2, 'plaintext 02ca09 03bf13')
  t.equal(decodeBTHome(ENCRYPTED, r, createSecretKey(KEY), MAC), OK, 'KeyObject works too')
})

t.test('readBTHomeHeader gives the counter without decrypting', async (t) => {
  const r = new BTHomeReading()
  t.equal(readBTHomeHeader(ENCRYPTED, r), OK)
  t.equal(r.encrypted, true)
  t.equal(r.counter, 1122867)
  t.equal(r.objectCount, 0)
  t.equal(readBTHomeHeader(hex('41 0102 03040506 0708090a'), r), OK, 'shortest encrypted: 2 bytes of ciphertext')
  t.equal(readBTHomeHeader(hex('41 01 03040506 0708090a'), r), ERR.truncated)
})

t.test('encryption failures: wrong key, wrong MAC, tampering, v1 header, no key', async (t) => {
  const r = new BTHomeReading()
  const wrongKey = Buffer.from(KEY)
  wrongKey[0] ^= 1
  t.equal(decodeBTHome(ENCRYPTED, r, wrongKey, MAC), ERR.bad_mic, 'wrong key')
  const otherMac = Uint8Array.from(MAC)
  otherMac[5] ^= 1
  t.equal(decodeBTHome(ENCRYPTED, r, KEY, otherMac), ERR.bad_mic, 'MAC is part of the nonce')
  for (let i = 0; i < ENCRYPTED.length; i++) {
    const bad = Buffer.from(ENCRYPTED)
    bad[i] ^= 0x80
    t.not(decodeBTHome(bad, r, KEY, MAC), OK, `flipped byte ${i}`)
  }
  // bthome-ble's older test vector: same ciphertext, MIC computed with the v1 AAD header 0x11.
  t.equal(decodeBTHome(hex('41 a47266c95f73 00112233 b7ced8e5'), r, KEY, MAC), ERR.bad_mic, 'v1-style AAD is not v2')
  t.equal(decodeBTHome(ENCRYPTED, r, null, MAC), ERR.no_key)
  t.equal(r.counter, 1122867, 'counter still reported for pairing')
  t.equal(decodeBTHome(ENCRYPTED, r, KEY.subarray(0, 15), MAC), ERR.bad_key)
  t.equal(decodeBTHome(ENCRYPTED, r, KEY, null), ERR.bad_key)
})
