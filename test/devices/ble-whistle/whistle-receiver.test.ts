import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { FileReplayCounterStore } from '../../../devices/ble-whistle/replay-store-file.js'
import type { RawAdvert } from '../../../devices/ble-whistle/raw-advert.js'
import { MemoryReplayCounterStore, type ReplayCounterStore } from '../../../devices/ble-whistle/replay-store.js'
import { WhistleReceiver, type PairingAdvert, type WhistleDeviceSpec } from '../../../devices/ble-whistle/whistle-receiver.js'
import { bthomeAdvert, config, eddystoneAdvert, encryptBTHome, hex, ibeaconAdvert, RecordingSink } from './whistle-receiver-fixtures.js'

const BUTTON = '3C:2E:F5:00:00:01'
const SECURE = '54:48:E6:8F:80:A5'
const TAG = 'C0:00:00:00:00:03'
const EDDY = 'C0:00:00:00:00:04'
const KEY = hex('231d39c1d7cc1ab1aee224cd096db932')
const BTN = 7
const SEC = 8
const TAGI = 9
const EDI = 10

function setup(opts: { store?: ReplayCounterStore; extra?: Partial<Parameters<typeof config>[0]>; secureExtra?: Partial<Parameters<typeof config>[0]> } = {}) {
  const clock = new FakeClock()
  const sink = new RecordingSink()
  const store = opts.store ?? new MemoryReplayCounterStore()
  const devices: WhistleDeviceSpec[] = [
    { index: BTN, config: config({ id: 'sos-1', address: BUTTON.toLowerCase(), alert_kind: 'panic', ...opts.extra }) },
    { index: SEC, config: config({ id: 'sos-2', address: SECURE, alert_kind: 'sos', key_ref: 'sos-2-key', ...opts.secureExtra }), key: KEY.toString('hex') },
    { index: TAGI, config: config({ id: 'tag-1', address: TAG, format: 'ibeacon', alert_kind: 'whistle', ibeacon_uuid: '83256B74-78D0-43A4-8269-05F9DC8A44BA', ibeacon_press_minor: 99 }) },
    { index: EDI, config: config({ id: 'tag-2', address: EDDY, format: 'eddystone' }) },
  ]
  const rx = new WhistleReceiver({ devices, sink, clock, replayStore: store })
  // Adverts carry the (fake) time they were received, as the transport stamps them.
  const send = (a: RawAdvert) => rx.onAdvert({ ...a, time: clock.now() })
  const press = (pid: number, ev = 0x01, over = {}) => send(bthomeAdvert(BUTTON, hex(`44 00${pid.toString(16).padStart(2, '0')} 0164 3A${ev.toString(16).padStart(2, '0')}`), over))
  const secure = (counter: number, objects = '0001 3A01', over = {}) => send(bthomeAdvert(SECURE, encryptBTHome(hex(objects), KEY, SECURE, counter), over))
  return { clock, sink, store, rx, send, press, secure }
}

t.test('the encryptor used by these tests reproduces the bthome.io/encryption example', async (t) => {
  t.equal(encryptBTHome(hex('02CA0903BF13'), KEY, SECURE, 0x00112233).toString('hex'), '41e445f3c9962b332211006c7c4519')
})

t.test('a press burst (same packet id, repeated) raises exactly one alert', async (t) => {
  const { sink, clock, press } = setup()
  for (let i = 0; i < 12; i++) {
    press(0x4e)
    clock.advance(30)
  }
  const alerts = sink.of(Kind.PANIC)
  t.equal(alerts.length, 1)
  t.same(alerts[0], { device: BTN, kind: Kind.PANIC, value: 1, hwTime: Date.UTC(2026, 10, 24, 8, 0, 0), rssi: -60, dedupeKey: 0x4e })
  t.equal(sink.of(Kind.BATTERY).length, 1, 'battery reported once')
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 1, 'heartbeat rate-limited')
})

t.test('two presses raise two alerts, even back to back; an interleaved repeat is not a third', async (t) => {
  const { sink, press, clock } = setup()
  press(1)
  press(2)
  press(1) // late repeat of the first burst
  press(2)
  t.equal(sink.of(Kind.PANIC).length, 2)
  t.same(sink.of(Kind.PANIC).map((i) => i.dedupeKey), [1, 2])
  // bthome.io: only process a packet whose id differs from the previous one, however late it comes.
  clock.advance(3_600_000)
  press(2)
  t.equal(sink.of(Kind.PANIC).length, 2, 'beacon-mode re-send of the previous packet id is not a press')
  press(3)
  t.equal(sink.of(Kind.PANIC).length, 3, 'a new packet id always counts')
})

t.test('button event 0x00 is "no event": heartbeat and battery, no alert', async (t) => {
  const { sink, press } = setup()
  press(5, 0x00)
  t.equal(sink.of(Kind.PANIC).length, 0)
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 1)
  t.same(sink.of(Kind.BATTERY).map((i) => i.value), [100])
})

t.test('press kinds: double/triple = alert kind with the press count; long/hold per long_press_kind', async (t) => {
  const same = setup()
  same.press(1, 0x02)
  same.press(2, 0x03)
  same.press(3, 0x04)
  same.press(4, 0x80)
  same.press(5, 0xfe)
  t.same(same.sink.of(Kind.PANIC).map((i) => i.value), [2, 3, 1, 1, 1], 'default long_press_kind = same')

  const cancel = setup({ extra: { long_press_kind: 'cancel' } })
  cancel.press(1, 0x01)
  cancel.press(2, 0x04)
  cancel.press(3, 0x80)
  cancel.press(4, 0xfe)
  cancel.press(5, 0x05)
  t.equal(cancel.sink.of(Kind.PANIC).length, 1)
  t.equal(cancel.sink.of(Kind.CANCEL).length, 4, 'long press, hold_press 0x80, Shelly hold 0xFE, long double press')

  const none = setup({ extra: { long_press_kind: 'none' } })
  none.press(1, 0x80)
  t.equal(none.sink.inputs.filter((i) => i.kind < 32).length, 0)

  const odd = setup()
  odd.press(1, 0x42)
  t.equal(odd.sink.counted(BTN, 'ble_unknown_event'), 1)
  t.equal(odd.sink.inputs.filter((i) => i.kind < 32).length, 0)
})

t.test('role check_in (issue 15): every press and long press is CHECK_IN, never an alarm kind', async (t) => {
  // alert_kind: panic stays in the object (a config built in code); the role wins.
  const ci = setup({ extra: { role: 'check_in' } })
  ci.press(1, 0x01)
  ci.press(2, 0x02)
  ci.press(3, 0x04)
  ci.press(4, 0xfe)
  t.same(ci.sink.inputs.filter((i) => i.device === BTN && i.kind < 32).map((i) => i.kind), [Kind.CHECK_IN, Kind.CHECK_IN, Kind.CHECK_IN, Kind.CHECK_IN])
  const quiet = setup({ extra: { role: 'check_in', long_press_kind: 'none' } })
  quiet.press(1, 0x04)
  t.equal(quiet.sink.inputs.filter((i) => i.kind < 32).length, 0, 'long_press_kind: none: a long press raises nothing')
})

t.test('several buttons in one packet: one alert per kind', async (t) => {
  const { send, sink } = setup({ extra: { long_press_kind: 'test' } })
  send(bthomeAdvert(BUTTON, hex('40 0009 3A00 3A01 3A01 3A04')))
  t.same(sink.inputs.filter((i) => i.kind < 32).map((i) => i.kind), [Kind.PANIC, Kind.TEST])
})

t.test('encrypted: right key alerts; wrong key, replay, downgrade are rejected and counted', async (t) => {
  const { send, sink, secure, clock } = setup()
  secure(1000, '0001 0150 3A01')
  t.same(sink.of(Kind.SOS).map((i) => i.dedupeKey), [1], 'right key: alert, dedupe on packet id')
  t.same(sink.of(Kind.BATTERY).map((i) => i.value), [80])

  const wrong = Buffer.from(KEY)
  wrong[3] ^= 0xff
  send(bthomeAdvert(SECURE, encryptBTHome(hex('0002 3A01'), wrong, SECURE, 1001)))
  t.equal(sink.counted(SEC, 'ble_bad_mic'), 1, 'wrong key')

  secure(999, '0003 3A01')
  t.equal(sink.counted(SEC, 'ble_replay'), 1, 'lower counter = replay')

  send(bthomeAdvert(SECURE, hex('44 0004 3A01')))
  t.equal(sink.counted(SEC, 'ble_downgrade'), 1, 'plaintext from a keyed device = downgrade')

  const plainRx = setup()
  plainRx.send(bthomeAdvert(BUTTON, encryptBTHome(hex('0001 3A01'), KEY, BUTTON, 5)))
  t.equal(plainRx.sink.counted(BTN, 'ble_no_key'), 1, 'encrypted packet from a device without a key')

  t.equal(sink.of(Kind.SOS).length, 1, 'no alert from any rejected packet')
  clock.advance(100)
  secure(1002, '0005 3A01')
  t.equal(sink.of(Kind.SOS).length, 2, 'the next genuine press still alerts')
})

t.test('encrypted: an identical repeat is a duplicate, the same counter with other bytes a replay', async (t) => {
  const { send, sink } = setup()
  const pkt = encryptBTHome(hex('0001 3A01'), KEY, SECURE, 50)
  for (let i = 0; i < 5; i++) send(bthomeAdvert(SECURE, pkt))
  t.equal(sink.of(Kind.SOS).length, 1)
  t.equal(sink.counted(SEC, 'ble_replay'), 0, 'repeats are not an attack')
  const forged = Buffer.from(pkt)
  forged[2] ^= 1
  send(bthomeAdvert(SECURE, forged))
  t.equal(sink.counted(SEC, 'ble_replay'), 1)
  t.equal(sink.of(Kind.SOS).length, 1)
})

t.test('encrypted burst with a new counter per repeat: packet id dedupes', async (t) => {
  const { sink, secure } = setup()
  for (let c = 10; c < 16; c++) secure(c, '0007 3A01')
  t.equal(sink.of(Kind.SOS).length, 1)
  t.equal(sink.counted(SEC, 'ble_replay'), 0)
})

t.test('counter restart: accepted small and after silence, counted; otherwise a replay', async (t) => {
  const { sink, secure, clock } = setup()
  secure(5000, '0001 3A01')
  clock.advance(10_000)
  secure(3, '0002 3A01')
  t.equal(sink.counted(SEC, 'ble_replay'), 1, 'restart within the silence time is rejected')
  clock.advance(60_000)
  secure(150, '0003 3A01')
  t.equal(sink.counted(SEC, 'ble_replay'), 2, 'counter not small enough')
  secure(4, '0004 3A01')
  t.equal(sink.counted(SEC, 'ble_counter_reset'), 1)
  t.equal(sink.of(Kind.SOS).length, 2, 'press after a battery change alerts')
  secure(3, '0005 3A01')
  t.equal(sink.counted(SEC, 'ble_replay'), 3, 'and the new counter is enforced at once')

  const never = setup({ secureExtra: { counter_reset: 'never' } })
  never.secure(5000)
  never.clock.advance(3_600_000)
  never.secure(1, '0002 3A01')
  t.equal(never.sink.counted(SEC, 'ble_replay'), 1)
  t.ok(never.rx.resetReplayCounter(SECURE.toLowerCase()), 'technician reset')
  never.secure(1, '0002 3A01')
  t.equal(never.sink.of(Kind.SOS).length, 2)
})

t.test('replay counters survive a restart (file store)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'safehouse-ble-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const clock = new FakeClock()
  const store1 = await FileReplayCounterStore.open({ dir, clock })
  const first = setup({ store: store1 })
  first.secure(70_000, '0010 3A01')
  const replayed = encryptBTHome(hex('0010 3A01'), KEY, SECURE, 70_000)
  await first.rx.flush()
  await store1.close()

  const store2 = await FileReplayCounterStore.open({ dir, clock })
  t.equal(store2.get(SECURE), 70_000)
  const second = setup({ store: store2 })
  second.secure(69_999, '0011 3A01')
  t.equal(second.sink.counted(SEC, 'ble_replay'), 1, 'an older packet is still a replay after restart')
  second.send(bthomeAdvert(SECURE, replayed))
  t.equal(second.sink.of(Kind.SOS).length, 0, 'the last packet before the restart raises nothing')
  t.equal(second.sink.counted(SEC, 'ble_replay'), 1, 'and is not counted as an attack')
  second.secure(70_001, '0012 3A01')
  t.equal(second.sink.of(Kind.SOS).length, 1)
  await store2.close()
})

t.test('unknown devices are ignored and counted; pairing reports them', async (t) => {
  const { rx, send, sink } = setup()
  send(bthomeAdvert('AA:AA:AA:AA:AA:AA', hex('44 0001 3A01')))
  t.equal(sink.inputs.length, 0)
  t.equal(rx.stats.unknown, 1)
  const seen: PairingAdvert[] = []
  rx.setPairing(true, (a) => seen.push({ ...a }))
  send(bthomeAdvert('AA:AA:AA:AA:AA:AA', hex('44 0001 0155 3A01'), { rssi: -42 }))
  send(bthomeAdvert('BB:BB:BB:BB:BB:BB', encryptBTHome(hex('0001'), KEY, 'BB:BB:BB:BB:BB:BB', 9)))
  send(ibeaconAdvert('CC:CC:CC:CC:CC:CC', hex('0215 83256B7478D043A4826905F9DC8A44BA 0010 0020 C6')))
  send(bthomeAdvert('DD:DD:DD:DD:DD:DD', hex('')))
  t.same(seen.map((a) => [a.address, a.format, a.encrypted, a.buttonEvent, a.battery, a.rssi]), [
    ['AA:AA:AA:AA:AA:AA', 'bthome', false, 1, 0x55, -42],
    ['BB:BB:BB:BB:BB:BB', 'bthome', true, -1, -1, -60],
    ['CC:CC:CC:CC:CC:CC', 'ibeacon', false, -1, -1, -70],
  ])
  t.equal(seen[1].counter, 9)
  t.same([seen[2].ibeaconMajor, seen[2].ibeaconMinor], [16, 32])
  t.equal(sink.inputs.length, 0, 'pairing never raises alerts')
  rx.setPairing(false)
  send(bthomeAdvert('AA:AA:AA:AA:AA:AA', hex('44 0002 3A01')))
  t.equal(seen.length, 3)
})

t.test('cached devices at start: state only, never an alert', async (t) => {
  const { sink, press } = setup()
  press(0x20, 0x01, { cached: true })
  t.equal(sink.of(Kind.PANIC).length, 0)
  t.equal(sink.of(Kind.BATTERY).length, 1, 'battery state is still updated')
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 0, 'old data is not proof of presence')
  press(0x20)
  t.equal(sink.of(Kind.PANIC).length, 0, 'the cached packet arriving live again is still the same press')
  press(0x21)
  t.equal(sink.of(Kind.PANIC).length, 1, 'the next press alerts')

  const enc = setup()
  enc.secure(10, '0001 3A01', { cached: true })
  t.equal(enc.sink.of(Kind.SOS).length, 0)
  enc.secure(9, '0000 3A01', { cached: true })
  t.equal(enc.sink.counted(SEC, 'ble_replay'), 0, 'stale cached data is not an attack')
  t.equal(enc.sink.counted(SEC, 'ble_cached_stale'), 1)
})

t.test('malformed packets from a known device are counted, never an alert', async (t) => {
  const { send, sink } = setup()
  send(bthomeAdvert(BUTTON, hex('44 0001 3001 3A01')))
  send(bthomeAdvert(BUTTON, hex('44 0002 02C4')))
  send(bthomeAdvert(BUTTON, hex('24 0003 3A01')))
  t.equal(sink.counted(BTN, 'ble_unknown_object'), 1)
  t.equal(sink.counted(BTN, 'ble_malformed'), 2)
  t.equal(sink.inputs.length, 0)
})

t.test('iBeacon tag: presence heartbeat; the press minor raises one alert per press', async (t) => {
  const { send, sink, clock } = setup()
  const frame = (minor: number) => hex(`0215 83256B7478D043A4826905F9DC8A44BA 0010 ${minor.toString(16).padStart(4, '0')} C6`)
  send(ibeaconAdvert(TAG, frame(32)))
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 1)
  for (let i = 0; i < 20; i++) {
    send(ibeaconAdvert(TAG, frame(99)))
    clock.advance(200)
  }
  t.same(sink.of(Kind.WHISTLE).map((i) => [i.device, i.dedupeKey]), [[TAGI, 99]])
  send(ibeaconAdvert(TAG, frame(32)))
  clock.advance(11_000)
  send(ibeaconAdvert(TAG, frame(99)))
  t.equal(sink.of(Kind.WHISTLE).length, 2, 'a later press alerts again')
  send(ibeaconAdvert(TAG, hex('0215 00000000000000000000000000000000 0010 0063 C6')))
  t.equal(sink.counted(TAGI, 'ble_beacon_mismatch'), 1, 'wrong UUID')
  send(ibeaconAdvert(TAG, hex('1005 031C0F3A7E')))
  t.equal(sink.counted(TAGI, 'ble_malformed'), 0, 'other Apple frames are ignored quietly')
})

t.test('Eddystone tag: heartbeat and battery from TLM', async (t) => {
  const { send, sink } = setup()
  send(eddystoneAdvert(EDDY, hex('00 EE 8b0ca750095477cb3e77 aabbccddeeff 0000')))
  send(eddystoneAdvert(EDDY, hex('20 00 0B86 1980 00000064 00000A00')))
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 1)
  t.same(sink.of(Kind.BATTERY).map((i) => i.value), [95], '2950 mV')
  send(eddystoneAdvert(EDDY, hex('20 00 0B86')))
  t.equal(sink.counted(EDI, 'ble_malformed'), 1)
})

t.test('heartbeat at most once a second per device', async (t) => {
  const { sink, press, clock } = setup()
  for (let i = 0; i < 50; i++) {
    press(0, 0)
    clock.advance(100)
  }
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 5)
})

t.test('receiver time follows advert receive times; a wall-clock step back does not stall heartbeats', async (t) => {
  const { rx, sink } = setup()
  const at = (time: number, pid: number) => rx.onAdvert(bthomeAdvert(BUTTON, hex(`44 00${pid.toString(16).padStart(2, '0')} 3A00`), { time }))
  at(1_000_000, 1)
  at(500, 2) // NTP stepped the clock back
  at(1_700, 3)
  at(2_800, 4)
  t.equal(sink.of(Kind.ADVERTISEMENT).length, 3, 'heartbeats continue at the usual rate after the step')
  rx.onAdvert(bthomeAdvert(BUTTON, hex('44 0005 3A01'), { time: NaN }))
  t.equal(sink.of(Kind.PANIC).length, 1, 'an advert without a time still works (clock fallback)')
})

t.test('configuration errors say which device and what to do, never the key', async (t) => {
  const base = { sink: new RecordingSink(), clock: new FakeClock(), replayStore: new MemoryReplayCounterStore() }
  const mk = (spec: WhistleDeviceSpec) => () => new WhistleReceiver({ ...base, devices: [spec] })
  t.throws(mk({ index: 1, config: config({ id: 'x', address: SECURE, key_ref: 'k' }), key: 'abcd' }), /device 'x'.*32 hex characters/)
  t.throws(mk({ index: 1, config: config({ id: 'x', address: SECURE, key_ref: 'k' }) }), /key_ref 'k' was not found/)
  t.throws(mk({ index: 1, config: config({ id: 'x', address: 'nope' }) }), /not AA:BB:CC:DD:EE:FF/)
  t.throws(() => new WhistleReceiver({ ...base, devices: [
    { index: 1, config: config({ id: 'a', address: BUTTON }) },
    { index: 2, config: config({ id: 'b', address: BUTTON.toLowerCase() }) },
  ] }), /also used by 'a'/)
  try {
    mk({ index: 1, config: config({ id: 'x', address: SECURE, key_ref: 'k' }), key: KEY.subarray(0, 15) })()
    t.fail('should throw')
  } catch (e) {
    t.notMatch((e as Error).message, KEY.subarray(0, 15).toString('hex'))
  }
})

t.test('seeded fuzz through the receiver: nothing throws; the keyed device never alerts on garbage', async (t) => {
  const { send, sink } = setup()
  let a = 0x2468ace0
  const rnd = () => ((a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296)
  for (let i = 0; i < 30_000; i++) {
    const b = Buffer.alloc(Math.floor(rnd() * 40))
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256)
    if (b.length > 0 && rnd() < 0.5) b[0] = 0x40 | (rnd() < 0.5 ? 1 : 0)
    const addr = [BUTTON, SECURE, TAG, EDDY][i & 3]
    send(i & 2 ? ibeaconAdvert(addr, b) : i & 1 ? bthomeAdvert(addr, b) : eddystoneAdvert(addr, b))
  }
  t.equal(sink.inputs.filter((i) => i.device === SEC && i.kind < 32).length, 0)
})
