/**
 * Real stack: johnny-five + firmata-io + serialport 13 on a socat PTY pair,
 * with a Firmata peer on the other end (issue 3 §6).
 */
import t from 'tap'
import { Kind } from '../../../protocols/event-kinds.js'
import { online, rig, sleep } from './firmata-rig.js'

t.test('press, hold-to-confirm, multi-press, glitch, supervised loop, garbage', async (t) => {
  const r = await rig(t, [
    { id: 'counter', pin: 2 },
    { id: 'outside', pin: 3, hold_ms: 400, alert_kind: 'silent_holdup' },
    { id: 'foot', pin: 4, press_count: 3, alert_kind: 'duress' },
    { id: 'loop', wiring: 'eol_supervised', analog_pin: 0 },
  ])
  const peer = r.peer!
  peer.setAnalog(0, 326) // 2k2 EOL against 4k7: normal
  await online(r)
  const { sink } = r
  const counter = r.dev('counter'), outside = r.dev('outside'), foot = r.dev('foot'), loop = r.dev('loop')
  await peer.until(() => peer.isReportingDigital(2) && peer.isReportingAnalog(0), 'pin reporting on')
  t.equal(peer.pinModes.get(2), 0x0b, 'button pin set to INPUT_PULLUP')
  await sink.until(() => sink.names(loop).includes('loop_normal'), 'loop normal')

  t.test('press and release of a normally-open button', async (t) => {
    peer.setDigital(2, 0)
    await sink.until(() => sink.names(counter).includes('panic'), 'panic')
    const ev = sink.inputs.find((i) => i.device === counter && i.kind === Kind.PANIC)!
    t.equal(ev.value, 1, 'first press')
    peer.setDigital(2, 1)
    await sink.until(() => sink.names(counter).includes('release'), 'release')
  })

  t.test('a glitch shorter than the debounce is no press', async (t) => {
    const before = sink.names(counter).length
    peer.setDigital(2, 0)
    peer.setDigital(2, 1) // same tick: far below debounce_ms 30
    await sleep(300)
    t.equal(sink.names(counter).length, before, 'nothing reported')
  })

  t.test('hold-to-confirm: a short press is ignored, a held one is reported when confirmed', async (t) => {
    peer.setDigital(3, 0)
    await sleep(100)
    peer.setDigital(3, 1)
    await sleep(600)
    t.notOk(sink.names(outside).includes('silent_holdup'), 'short press not alerted')
    const t0 = Date.now()
    peer.setDigital(3, 0)
    await sink.until(() => sink.names(outside).includes('silent_holdup'), 'hold confirmed')
    t.ok(Date.now() - t0 >= 350, 'not before the hold time')
    t.notOk(sink.names(outside).includes('release'), 'reported while still held')
    peer.setDigital(3, 1)
    await sink.until(() => sink.names(outside).includes('release'), 'release')
  })

  t.test('three presses escalate', async (t) => {
    for (let i = 0; i < 3; i++) {
      peer.setDigital(4, 0)
      await sink.until(() => sink.names(foot).filter((n) => n === 'duress').length === i + 1, `press ${i + 1}`)
      peer.setDigital(4, 1)
      await sink.until(() => sink.names(foot).filter((n) => n === 'release').length === i + 1, `release ${i + 1}`)
    }
    t.same(sink.names(foot), ['duress', 'release', 'duress', 'release', 'duress', 'escalation', 'release'])
  })

  t.test('supervised loop: alarm, cut wire, short, restore', async (t) => {
    peer.setAnalog(0, 495) // 2k2 + 2k2 alarm resistor
    await sink.until(() => sink.names(loop).includes('panic'), 'loop alarm -> panic')
    peer.setAnalog(0, 326)
    await sink.until(() => sink.names(loop).includes('release'), 'loop release')
    peer.setAnalog(0, 1023)
    await sink.until(() => sink.names(loop).includes('wire_cut'), 'cut wire')
    peer.setAnalog(0, 326)
    await sink.until(() => sink.inputs.some((i) => i.device === loop && i.kind === Kind.RESTORED && i.value === Kind.WIRE_CUT), 'cut restored')
    peer.setAnalog(0, 2)
    await sink.until(() => sink.names(loop).includes('wire_short'), 'short')
    peer.setAnalog(0, 326)
    await sink.until(() => sink.inputs.some((i) => i.device === loop && i.kind === Kind.RESTORED && i.value === Kind.WIRE_SHORT), 'short restored')
    t.equal(sink.names(loop).filter((n) => n === 'wire_cut').length, 1, 'one cut event despite continuous reports')
  })

  t.test('garbage and half messages are ignored and counted, no phantom press', async (t) => {
    const before = sink.inputs.length
    // noise, a stray sysex end, a half DIGITAL_MESSAGE (pin 2 low!) cut off by
    // the next command, a half ANALOG_MESSAGE, a runaway byte run
    peer.sendRaw([0x00, 0x13, 0x7f, 0xf7, 0xa5, 0xff, 0x90, 0x00, 0xf9, 0x02, 0x05, 0xe0, 0x7f, 0x91, 0x01, 0x02, 0x33])
    await sink.until(() => (sink.counts.get(`${counter}:firmata_garbage_bytes`) ?? 0) > 0 &&
      (sink.counts.get(`${counter}:firmata_half_messages`) ?? 0) >= 2, 'garbage counted')
    await sleep(300)
    t.same(sink.inputs.slice(before).map((i) => i.name), [], 'no input from garbage')
    t.equal(r.driver.boards()[0].state, 'ready', 'board still up')
    peer.setDigital(2, 0)
    await sink.until(() => sink.names(counter).filter((n) => n === 'panic').length === 2, 'real press still works')
    peer.setDigital(2, 1)
  })

  t.test('malformed sysex replies that firmata-io cannot take are dropped and counted, no crash', async (t) => {
    const uncaught: unknown[] = []
    const onUncaught = (e: unknown) => uncaught.push(e)
    process.on('uncaughtException', onUncaught)
    t.teardown(() => { process.off('uncaughtException', onUncaught) })
    await sink.until(() => sink.names(counter).at(-1) === 'release', 'the previous press released')
    const presses = sink.names(counter).filter((n) => n === 'panic').length
    // Short REPORT_FIRMWARE, short PIN_STATE_RESPONSE, a pin state for a pin that does not exist,
    // an empty ANALOG_MAPPING and CAPABILITY reply after the handshake (would wipe the pin tables).
    peer.sendRaw([0xf0, 0x79, 0xf7, 0xf0, 0x6e, 0xf7, 0xf0, 0x6e, 0x7f, 0x01, 0x00, 0xf7, 0xf0, 0x6a, 0xf7, 0xf0, 0x6c, 0xf7])
    await sink.until(() => (sink.counts.get(`${counter}:firmata_rejected_sysex`) ?? 0) >= 5, 'rejected sysex counted')
    t.same(uncaught, [], 'nothing escaped to the process')
    t.equal(r.driver.boards()[0].state, 'ready', 'board still up')
    peer.setDigital(2, 0)
    await sink.until(() => sink.names(counter).filter((n) => n === 'panic').length === presses + 1, 'a real press still works (pin tables intact)')
    peer.setDigital(2, 1)
  })
})
