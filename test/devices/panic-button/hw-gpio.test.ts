/**
 * The Pi GPIO path through the interface it reads in production: a character
 * stream of `struct input_event` records read with node:fs. A FIFO stands in
 * for /dev/input/eventN (no /dev/uinput in CI), fed with real encoded
 * input_event structs, whole and split across writes.
 */
import t from 'tap'
import pino from 'pino'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { GpioPanicButtonDriver } from '../../../devices/panic-button/hw-gpio.js'
import { encodeInputEvent, EV_KEY, INPUT_EVENT_SIZE } from '../../../devices/panic-button/input-event.js'
import { panicButtonDefaults } from '../../../devices/panic-button/config.js'
import { RecordingSink } from './recording-sink.js'

const EV_SYN = 0
const key = (code: number, value: number): Buffer => Buffer.concat([encodeInputEvent(EV_KEY, code, value), encodeInputEvent(EV_SYN, 0, 0)])

t.test('gpio-keys events: press, hold, release, unknown key, device gone and back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-gpio-'))
  const fifo = join(dir, 'event0')
  execFileSync('mkfifo', [fifo])
  const sink = new RecordingSink()
  const driver = new GpioPanicButtonDriver({
    buttons: [
      { index: 0, config: panicButtonDefaults('counter', { driver: 'gpio', key_code: 0x100, input_device: fifo }) },
      { index: 1, config: panicButtonDefaults('door', { driver: 'gpio', key_code: 0x101, input_device: fifo, hold_ms: 300 }) },
    ],
    reconnectMinMs: 50, reconnectMaxMs: 200,
  }, { clock: systemClock, log: pino({ level: 'silent' }), sink })
  let w: FileHandle | null = null
  t.teardown(async () => {
    await driver.stop()
    await w?.close()
    // unblock a reader still waiting in open(): a writer that comes and goes
    try { const h = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK); await h.close() } catch { /* no reader */ }
    rmSync(dir, { recursive: true, force: true })
  })
  await driver.start(new AbortController().signal)
  w = await open(fifo, 'w')
  await sink.until(() => sink.lastLink(0)?.status === 'online', 'online')

  await w.write(key(0x100, 1))
  await sink.until(() => sink.names(0).includes('panic'), 'press')
  await w.write(encodeInputEvent(EV_KEY, 0x100, 2)) // autorepeat: ignored
  await w.write(key(0x100, 0))
  await sink.until(() => sink.names(0).includes('release'), 'release')
  t.same(sink.names(0), ['panic', 'release'])

  // an event split across two writes (the kernel never does this; a FIFO may)
  const press = key(0x101, 1)
  await w.write(press.subarray(0, 10))
  await new Promise((r) => setTimeout(r, 50))
  await w.write(press.subarray(10))
  await sink.until(() => sink.names(1).includes('panic'), 'held press confirmed', 5000)
  await w.write(key(0x101, 0))
  await sink.until(() => sink.names(1).includes('release'), 'door release')

  await w.write(key(0x1ff, 1))
  await sink.until(() => (sink.counts.get('0:gpio_unknown_key') ?? 0) === 1, 'unknown key counted')
  t.equal(driver.unknownKeys(), 1)

  // the writer goes away: end of stream -> fault; a new writer -> online again
  await w.close(); w = null
  await sink.until(() => sink.lastLink(0)?.status === 'fault', 'fault')
  t.ok(sink.inputs.some((i) => i.device === 0 && i.kind === Kind.DEVICE_FAULT), 'DEVICE_FAULT')
  w = await open(fifo, 'w')
  await sink.until(() => sink.lastLink(0)?.status === 'online', 'back online', 5000)
  await w.write(key(0x100, 1))
  await sink.until(() => sink.names(0).filter((n) => n === 'panic').length === 2, 'press after reopen')
  t.equal(INPUT_EVENT_SIZE, 24, 'x86-64/arm64 input_event is 24 bytes')
})

t.test('missing input device: fault with a hint at the overlay; eol wiring refused', async (t) => {
  const sink = new RecordingSink()
  const driver = new GpioPanicButtonDriver({
    buttons: [{ index: 0, config: panicButtonDefaults('b', { driver: 'gpio', input_device: '/nonexistent/event9' }) }],
    reconnectMinMs: 1000,
  }, { clock: systemClock, log: pino({ level: 'silent' }), sink })
  t.teardown(() => driver.stop())
  await driver.start(new AbortController().signal)
  await sink.until(() => sink.lastLink(0)?.status === 'fault', 'fault')
  t.match(sink.lastLink(0)?.reason, /cannot open input device \/nonexistent\/event9: .*dtoverlay=gpio-key/)
  t.throws(() => new GpioPanicButtonDriver({ buttons: [{ index: 0, config: panicButtonDefaults('l', { driver: 'gpio', wiring: 'eol_supervised' }) }] },
    { clock: systemClock, log: pino({ level: 'silent' }), sink }), /no analog input/)
})
