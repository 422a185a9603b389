import t, { type Test } from 'tap'
import { AlertEncoder, type AlertFields } from '../../../protocols/mqtt/alert-encoder.js'
import { JsonBytes } from '../../../protocols/mqtt/json-bytes.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'
import { Kind, KIND_NAMES } from '../../../protocols/event-kinds.js'
import alertSchema from '../../../protocols/mqtt/schemas/alert.schema.json' with { type: 'json' }

const HW = Date.UTC(2026, 10, 24, 8, 0, 0)

function fields(over: Partial<AlertFields> = {}): AlertFields {
  return { device: 0, kind: Kind.PANIC, seq: 1, value: NaN, rssi: NaN, hwTime: HW, sentTime: HW + 3, test: false, ...over }
}

function setup(): { enc: AlertEncoder; dev: number; out: Buffer } {
  const enc = new AlertEncoder({ site: 'sh-huangpu', post: 'kiosk-017', postType: 'safety_house' })
  const dev = enc.internDevice({ id: 'counter-btn', kind: 'panic-button', label: 'Counter button', location: 'under the counter' })
  return { enc, dev, out: Buffer.alloc(Math.max(1024, enc.maxLength)) }
}

/** Encode, check against the JSON Schema, return the parsed value. */
function encodeValid(t: Test, enc: AlertEncoder, f: AlertFields, out: Buffer = Buffer.alloc(Math.max(1024, enc.maxLength))): Record<string, unknown> {
  const n = enc.encode(f, out)
  t.ok(n <= enc.maxLength, `length ${n} within maxLength ${enc.maxLength}`)
  const r = checkPayload<Record<string, unknown>>('alert', out.subarray(0, n))
  if (!r.ok) {
    t.fail(`schema: ${r.error}: ${out.toString('utf8', 0, n)}`)
    return {}
  }
  t.pass('valid against alert.schema.json')
  return r.value
}

t.test('an alert parses as JSON, validates, and carries every field', async (t) => {
  const { enc, dev, out } = setup()
  const v = encodeValid(t, enc, fields({ device: dev, seq: 42, value: 1, rssi: NaN }), out)
  t.same(v, {
    v: 1, id: 'sh-huangpu:kiosk-017:42', site: 'sh-huangpu', post: 'kiosk-017', post_type: 'safety_house',
    device: 'counter-btn', device_kind: 'panic-button', label: 'Counter button', location: 'under the counter',
    kind: 'panic', seq: 42, value: 1, rssi: null, hw_time: HW, sent_time: HW + 3, test: false,
  })
  t.equal(enc.id(42), 'sh-huangpu:kiosk-017:42')
})

t.test('every alert kind name is in the schema enum', async (t) => {
  const { enc, dev } = setup()
  const allowed = new Set(alertSchema.properties.kind.enum)
  for (const [name, k] of Object.entries(Kind)) {
    if (k >= 32) continue // state kinds never become alert payloads
    t.ok(allowed.has(KIND_NAMES[k]), `${name} -> "${KIND_NAMES[k]}"`)
    t.equal(encodeValid(t, enc, fields({ device: dev, kind: k })).kind, KIND_NAMES[k])
  }
})

t.test('labels and locations with quotes, backslashes, control characters and unicode escape right', async (t) => {
  const enc = new AlertEncoder({ site: 's1', post: 'p1', postType: 'lookout' })
  const tricky = [
    'say "help"',
    'C:\\path\\to\\box',
    'line1\nline2\ttab\r\u0000\u001f',
    '安全屋 17号 岗亭',
    'emoji 🚨 and 𝄞',
    '</script>\u2028\u2029',
    '',
  ]
  for (const label of tricky) {
    const dev = enc.internDevice({ id: 'd', kind: 'ble-whistle', label, location: label + '!' })
    const v = encodeValid(t, enc, fields({ device: dev }))
    // (TAP output cannot carry U+2028/2029 in a test name: name the case by its escaped form.)
    t.equal(v.label, label, JSON.stringify(label).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`))
    t.equal(v.location, label + '!')
    t.equal(v.post_type, 'lookout')
    t.equal(v.device_kind, 'ble-whistle')
  }
})

t.test('numbers', async (t) => {
  const { enc, dev } = setup()
  const table: Array<[string, number, number | null]> = [
    ['zero', 0, 0],
    ['negative zero', -0, 0],
    ['small integer', 7, 7],
    ['negative integer', -42, -42],
    ['large integer', 4294967296, 4294967296],
    ['ms timestamp', HW, HW],
    ['max safe integer', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['one decimal', 3.5, 3.5],
    ['three decimals', 12.345, 12.345],
    ['trailing zeros trimmed', 1.25, 1.25],
    ['rounded to 3 decimals', 3.14159, 3.142],
    ['rounds up into the integer', 2.9996, 3],
    ['below a thousandth', 0.0004, 0],
    ['one thousandth', 0.001, 0.001],
    ['negative fraction', -0.25, -0.25],
    ['negative with integer part', -12.5, -12.5],
    ['fraction with a zero digit', 4.05, 4.05],
    ['large with fraction', 123456789.125, 123456789.125],
    ['NaN', NaN, null],
    ['Infinity', Infinity, null],
    ['-Infinity', -Infinity, null],
    ['beyond 2^53', 1e20, null],
    ['absurdly large', -1e300, null],
  ]
  for (const [name, value, want] of table) {
    const v = encodeValid(t, enc, fields({ device: dev, value }))
    t.equal(v.value, want, `${name}: ${value} -> ${want}`)
  }
  // Integers (seq, hw_time, sent_time) are written exactly.
  const v = encodeValid(t, enc, fields({ device: dev, seq: 2 ** 40 + 1, hwTime: 1, sentTime: HW }))
  t.equal(v.seq, 2 ** 40 + 1)
  t.equal(v.id, `sh-huangpu:kiosk-017:${2 ** 40 + 1}`)
  t.equal(v.hw_time, 1)
  t.equal(v.sent_time, HW)
})

t.test('the worst case still fits maxLength (a bad value cannot overrun the pooled buffer)', async (t) => {
  const enc = new AlertEncoder({ site: 'a'.repeat(32), post: 'b'.repeat(32), postType: 'safety_house' })
  const dev = enc.internDevice({ id: 'c'.repeat(32), kind: 'lamp-box', label: '"\\'.repeat(200), location: '安'.repeat(100) })
  const out = Buffer.alloc(enc.maxLength)
  for (const x of [-Number.MAX_SAFE_INTEGER, -9007199254740.999, 1e300, -Infinity]) {
    const n = enc.encode({ device: dev, kind: Kind.GATEWAY_TROUBLE, seq: Number.MAX_SAFE_INTEGER, value: x, rssi: x, hwTime: -Number.MAX_SAFE_INTEGER, sentTime: -Number.MAX_SAFE_INTEGER, test: true }, out)
    t.ok(n <= out.length, `${x}: ${n} <= ${out.length}`)
    t.doesNotThrow(() => JSON.parse(out.toString('utf8', 0, n)))
  }
})

t.test('rssi: null without a reading, an integer with one', async (t) => {
  const { enc, dev } = setup()
  t.equal(encodeValid(t, enc, fields({ device: dev, rssi: NaN })).rssi, null)
  t.equal(encodeValid(t, enc, fields({ device: dev, rssi: -67 })).rssi, -67)
  t.equal(encodeValid(t, enc, fields({ device: dev, rssi: 0 })).rssi, 0)
  t.equal(encodeValid(t, enc, fields({ device: dev, rssi: -67.8 })).rssi, -67, 'fractions truncated: the schema wants an integer')
})

t.test('test flag', async (t) => {
  const { enc, dev } = setup()
  t.equal(encodeValid(t, enc, fields({ device: dev, test: true })).test, true)
  t.equal(encodeValid(t, enc, fields({ device: dev, test: false })).test, false)
})

t.test('one buffer is reused: a shorter alert after a longer one is still exact', async (t) => {
  const { enc, dev, out } = setup()
  const long = enc.encode(fields({ device: dev, seq: 123456789, value: -1234.567, rssi: -100, test: true }), out)
  const short = enc.encode(fields({ device: dev, seq: 1, value: 0 }), out)
  t.ok(short < long)
  const v = JSON.parse(out.toString('utf8', 0, short))
  t.equal(v.seq, 1)
  t.equal(v.rssi, null)
})

t.test('JsonBytes primitives', async (t) => {
  const buf = Buffer.alloc(64)
  const w = new JsonBytes(buf)
  const s = (f: (w: JsonBytes) => void): string => { w.reset(buf); f(w); return buf.toString('utf8', 0, w.pos) }
  t.equal(s((w) => w.int(0)), '0')
  t.equal(s((w) => w.int(-7)), '-7')
  t.equal(s((w) => w.int(1000)), '1000')
  t.equal(s((w) => w.int(9.99)), '9', 'int truncates')
  t.equal(s((w) => w.int(NaN)), 'null')
  t.equal(s((w) => w.num(0.1)), '0.1')
  t.equal(s((w) => w.num(-0.001)), '-0.001')
  t.equal(s((w) => w.num(10.01)), '10.01')
  t.equal(s((w) => w.intOrNull(Infinity)), 'null')
  t.equal(s((w) => w.bool(true).bool(false)), 'truefalse')
  t.equal(s((w) => w.raw(Buffer.from('{"a":')).int(1).raw(Buffer.from('}'))), '{"a":1}')
  w.reset(Buffer.alloc(4))
  t.ok(w.fits(4))
  t.notOk(w.fits(5))
})
