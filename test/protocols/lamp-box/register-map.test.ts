import t from 'tap'
import * as M from '../../../protocols/lamp-box/register-map.js'

function block(regs: Partial<Record<number, number>>): Buffer {
  const b = Buffer.alloc(M.IR_BLOCK_LEN * 2)
  for (const [i, v] of Object.entries(regs)) b.writeUInt16BE((v as number) & 0xffff, Number(i) * 2)
  return b
}

t.test('decodes a safehouse status block', async (t) => {
  const d = new M.StatusDecoder()
  const b = block({
    [M.IR_FW_VERSION]: 0x0103, [M.IR_HEARTBEAT]: 4242, [M.IR_STATUS]: M.STATUS_MAINS_OK | M.STATUS_DOOR_OPEN | M.STATUS_BLUE_FAULT,
    [M.IR_LAMP_OUTPUT]: 0xff03, [M.IR_ACTIVE_PATTERN]: M.PATTERN_CODE.acknowledged, [M.IR_RED_MA]: 351, [M.IR_BLUE_MA]: 0,
    [M.IR_SUPPLY_DV]: 138, [M.IR_BATTERY_MV]: 12950, [M.IR_BATTERY_PCT]: 88, [M.IR_TEMPERATURE_DC]: -125, [M.IR_BOOT_COUNT]: 7,
  })
  const r = d.decodeSafehouse(b, 0, b.length)
  t.ok(r.ok)
  if (!r.ok) return
  const s = r.value
  t.equal(s.firmware, 0x0103)
  t.equal(s.heartbeat, 4242)
  t.equal(s.lampOutput, M.CH_BOTH, 'upper bits of the output register ignored')
  t.equal(s.activePattern, M.PATTERN_CODE.acknowledged)
  t.equal(s.redMa, 351)
  t.equal(s.blueMa, 0)
  t.equal(s.mainsOk, 1)
  t.equal(s.doorOpen, 1)
  t.equal(s.supplyV, 13.8)
  t.equal(s.batteryMv, 12950)
  t.equal(s.batteryPct, 88)
  t.equal(s.temperatureC, -12.5, 'signed tenths of a degree')
  t.equal(s.bootCount, 7)
  t.equal(s.redSense, -1, 'no sense inputs in this profile')
})

t.test('odd values decode to "unknown", never throw', async (t) => {
  const d = new M.StatusDecoder()
  const r = d.decodeSafehouse(block({ [M.IR_ACTIVE_PATTERN]: 99, [M.IR_BATTERY_PCT]: 250 }), 0, M.IR_BLOCK_LEN * 2)
  t.ok(r.ok)
  t.equal(d.status.activePattern, -1)
  t.ok(Number.isNaN(d.status.batteryPct))
  t.equal(d.status.mainsOk, 0)
  const short = d.decodeSafehouse(Buffer.alloc(10), 0, 10)
  t.notOk(short.ok)
  if (!short.ok) t.match(short.error, /need 24/)
  t.notOk(d.decodeSafehouse(Buffer.alloc(24), 4, 24).ok, 'length past the end of the buffer')
})

t.test('a poll allocates no result object', async (t) => {
  const d = new M.StatusDecoder()
  const b = block({})
  t.equal(d.decodeSafehouse(b, 0, b.length), d.decodeSafehouse(b, 0, b.length), 'same result object')
  const r = d.decodeSafehouse(b, 0, b.length)
  t.equal(r.ok && r.value, d.status, 'same status object')
})

t.test('generic DI/DO module inputs', async (t) => {
  const d = new M.StatusDecoder()
  const map: M.GenericDidoMap = { red_coil: 0, blue_coil: 1, red_sense_input: 0, blue_sense_input: 9, door_input: 2, door_open_when: 'off', mains_input: -1 }
  t.equal(M.genericInputSpan(map), 10)
  // input 0 on (red current), 2 off (NC door contact broken = open), 9 off (no blue current)
  let r = d.decodeGeneric(Buffer.from([0b0000_0001, 0b00]), 0, 2, map, M.CH_BOTH)
  t.ok(r.ok)
  t.equal(d.status.redSense, 1)
  t.equal(d.status.blueSense, 0)
  t.equal(d.status.doorOpen, 1)
  t.equal(d.status.mainsOk, -1, 'not wired')
  t.equal(d.status.statusBits & M.STATUS_MAINS_OK, M.STATUS_MAINS_OK, 'unwired mains is not "lost"')
  t.equal(d.status.statusBits & M.STATUS_DOOR_OPEN, M.STATUS_DOOR_OPEN)
  t.equal(d.status.lampOutput, M.CH_BOTH)
  r = d.decodeGeneric(Buffer.from([0b0000_0100, 0b10]), 0, 2, { ...map, mains_input: 8 }, 0)
  t.equal(d.status.doorOpen, 0, 'contact closed')
  t.equal(d.status.blueSense, 1)
  t.equal(d.status.mainsOk, 0)
  t.equal(d.status.statusBits & M.STATUS_MAINS_OK, 0)
  t.notOk(d.decodeGeneric(Buffer.from([0]), 0, 1, map, 0).ok, 'input 9 needs 2 bytes')
  t.equal(d.decodeGeneric(Buffer.from([4]), 0, 1, { ...map, blue_sense_input: -1, door_open_when: 'on' }, 0).ok, true)
  t.equal(d.status.doorOpen, 1, 'door_open_when on')
})

t.test('generic programs', async (t) => {
  t.equal(M.programChannels('alternate', 0), M.CH_RED)
  t.equal(M.programChannels('alternate', 1), M.CH_BLUE)
  t.equal(M.programChannels('flash', 1), 0)
  t.equal(M.programSteadyMask('both'), M.CH_BOTH)
  t.equal(M.programSteadyMask('off'), 0)
  t.equal(M.programSteadyMask('flash'), -1)
  t.same(M.PATTERN_NAMES.map((n) => M.PATTERN_CODE[n]), [0, 1, 2, 3, 4, 5], 'names and codes agree')
})
