/**
 * The reused service/manufacturer data slots of the BlueZ transport (issue 13
 * §2: refilled in place instead of Map.clear() + set() per advert).
 */
import t from 'tap'
import { FieldSlots, fillManufacturerData, fillServiceData, MAX_FIELDS } from '../../../devices/ble-whistle/bluez-variants.js'

const v = (value: unknown) => ({ signature: 'ay', value })

t.test('refill replaces the previous advert\'s entries; absent keys are gone', async (t) => {
  const slots = new FieldSlots<string>()
  const a = Buffer.from([1]); const b = Buffer.from([2]); const c = Buffer.from([3])
  t.equal(fillServiceData(slots, { u1: v(a), u2: v(b) }), 2)
  t.equal(slots.get('u1'), a)
  t.equal(slots.get('u2'), b)
  t.equal(fillServiceData(slots, { u3: v(c) }), 1)
  t.equal(slots.get('u3'), c)
  t.equal(slots.get('u1'), undefined, 'an entry of the previous advert is not visible')
  t.notOk(slots.has('u2'))
  t.same([...slots], [['u3', c]], 'iteration shows exactly this advert\'s entries')
})

t.test('garbage never throws and is not copied', async (t) => {
  const slots = new FieldSlots<string>()
  t.equal(fillServiceData(slots, null), 0)
  t.equal(fillServiceData(slots, 'x'), 0)
  t.equal(fillServiceData(slots, { u1: 5, u2: v('not a buffer'), u3: { value: Buffer.from([9]) } }), 1)
  t.same(slots.get('u3'), Buffer.from([9]))
  const md = new FieldSlots<number>()
  t.equal(fillManufacturerData(md, { 76: v(Buffer.from([1])), 70000: v(Buffer.from([2])), x: v(Buffer.from([3])) }), 1, 'only company ids 0..0xffff')
  t.ok(md.has(76))
})

t.test('a dict with more entries than an advert can carry is capped', async (t) => {
  const slots = new FieldSlots<string>()
  const dict: Record<string, unknown> = {}
  for (let i = 0; i < 1000; i++) dict[`u${i}`] = v(Buffer.from([i & 255]))
  t.equal(fillServiceData(slots, dict), MAX_FIELDS)
  t.equal(fillServiceData(slots, { only: v(Buffer.from([1])) }), 1, 'and the next advert starts clean')
  t.equal(slots.size, 1)
})
