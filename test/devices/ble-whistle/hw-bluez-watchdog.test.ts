/**
 * Discovery watchdog (issue 4 §5): restart discovery, then power-cycle, then
 * gateway trouble. The state machine with FakeClock and fake actions, then
 * the same steps through the real driver stack (FakeClock drives the
 * watchdog; the D-Bus calls are real and awaited).
 */
import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { DiscoveryWatchdog, WatchdogStep } from '../../../devices/ble-whistle/bluez-watchdog.js'
import { BTHOME_UUID } from '../../../devices/ble-whistle/raw-advert.js'
import { bthomeServiceData } from '../../../devices/ble-whistle/sim-ble-whistle.js'
import { waitFor } from '../../harness/bluez-sim-recorder.js'
import { GW, startBluezStack } from '../../harness/bluez-sim-stack.js'

function fakeActions() {
  const log: string[] = []
  return {
    log,
    actions: {
      restartDiscovery: async () => { log.push('restart') },
      powerCycle: async () => { log.push('power-cycle') },
      trouble: (ms: number) => { log.push(`trouble ${ms}`) },
      restored: () => { log.push('restored') },
      actionFailed: (step: number, e: unknown) => { log.push(`failed ${step} ${String(e)}`) },
    },
  }
}

t.test('state machine: silence -> restart -> power-cycle -> trouble -> keep trying; advert -> restored', async (t) => {
  const clock = new FakeClock()
  const { log, actions } = fakeActions()
  const w = new DiscoveryWatchdog(clock, { silenceMs: 60_000, stepMs: 20_000 }, actions)
  w.start()
  clock.advance(59_999)
  t.same(log, [], 'quiet for less than silenceMs: nothing')
  w.kick()
  clock.advance(59_999)
  t.same(log, [], 'an advert re-arms the silence window (lazily, same timer)')
  clock.advance(1)
  t.same(log, ['restart'], 'silence: restart discovery')
  t.equal(w.currentStep, WatchdogStep.RESTARTED)
  clock.advance(20_000)
  t.same(log, ['restart', 'power-cycle'], 'still silent: power-cycle')
  clock.advance(20_000)
  t.same(log, ['restart', 'power-cycle', 'trouble 100000', 'power-cycle'], 'still silent: trouble once, power-cycle again')
  clock.advance(60_000)
  t.same(log.slice(4), ['power-cycle'], 'then keep power-cycling every silenceMs, no second alert')
  t.equal(w.counts.troubles, 1)
  w.kick()
  t.same(log.slice(5), ['restored'], 'an advert after trouble: restored')
  t.equal(w.currentStep, WatchdogStep.OK)
  clock.advance(59_000)
  t.equal(log.length, 6, 'fresh silence window after recovery')
  w.stop()
  t.equal(clock.pendingTimers(), 0, 'stop clears its timer')
})

t.test('recovery before trouble raises nothing; silenceMs 0 disables', async (t) => {
  const clock = new FakeClock()
  const { log, actions } = fakeActions()
  const w = new DiscoveryWatchdog(clock, { silenceMs: 1000, stepMs: 500 }, actions)
  w.start()
  clock.advance(1000)
  t.same(log, ['restart'])
  w.kick()
  clock.advance(500)
  t.same(log, ['restart'], 'advert after the restart: back to OK, no alert, no power-cycle')
  t.equal(w.counts.restores, 0)
  w.stop()

  const off = new DiscoveryWatchdog(clock, { silenceMs: 0, stepMs: 500 }, actions)
  off.start()
  clock.advance(1_000_000)
  t.equal(log.length, 1)
  t.equal(clock.pendingTimers(), 0)
})

t.test('a failing action is reported and the next step still comes', async (t) => {
  const clock = new FakeClock()
  const { log, actions } = fakeActions()
  actions.restartDiscovery = async () => { throw new Error('no bus') }
  const w = new DiscoveryWatchdog(clock, { silenceMs: 1000, stepMs: 500 }, actions)
  w.start()
  clock.advance(1000)
  await new Promise((r) => setImmediate(r))
  t.same(log, [`failed ${WatchdogStep.RESTARTED} Error: no bus`])
  clock.advance(500)
  t.same(log.slice(1), ['power-cycle'])
  w.stop()
})

t.test('real stack: the driver restarts discovery, power-cycles, raises gateway trouble, then restored', async (t) => {
  const clock = new FakeClock()
  const { sim, sink, driver } = await startBluezStack(t, {
    clock,
    driver: { devicesExpected: true, supervisedAdvertMs: 30_000, watchdogSilenceMs: 60_000, watchdogStepMs: 20_000 },
  })
  t.equal(driver.status().state, 'scanning')
  const stops = sim.calls.stop
  clock.advance(60_000)
  await waitFor(() => sim.calls.stop > stops && sim.discovering && driver.status().state === 'scanning', 'discovery restarted (Stop + Start)')
  t.equal(sim.calls.powerOff, 0)
  clock.advance(20_000)
  await waitFor(() => sim.calls.powerOff === 1 && sim.calls.powerOn === 1 && sim.discovering, 'adapter power-cycled and discovering again')
  t.same(sim.filter, { Transport: 'le', DuplicateData: true })
  t.equal(sink.inputs.length, 0, 'no alert yet')
  clock.advance(20_000)
  await waitFor(() => sink.inputs.length === 1, 'trouble alert')
  t.match(sink.inputs[0], { device: GW, kind: Kind.GATEWAY_TROUBLE, value: 100, dedupeKey: -1 })
  t.equal(sink.lastLink(GW)?.status, 'fault')
  t.match(sink.lastLink(GW)?.reason, /no BLE advertisement for 100 s on hci0/)
  await waitFor(() => sim.calls.powerOff === 2 && sim.discovering, 'power-cycled again with the alert')

  sim.advertise('AA:BB:CC:00:20:01', { rssi: -60, serviceData: { [BTHOME_UUID]: bthomeServiceData({ packetId: 1, battery: 90 }) } })
  await waitFor(() => sink.inputs.length === 2, 'restored alert')
  t.match(sink.inputs[1], { device: GW, kind: Kind.RESTORED, value: Kind.GATEWAY_TROUBLE }, 'restored carries the code of gateway_trouble (issue 11 §10)')
  // The adapter's own Discovering=false from the power cycle can arrive after it: 'starting', then back.
  await waitFor(() => sink.lastLink(GW)?.status === 'online', 'the scanner online')
  t.equal(driver.status().watchdogStep, WatchdogStep.OK)
})

t.test('real stack, a quiet post (no device advertises on its own): 100 s of silence restarts discovery, never power-cycles or alerts (issue 11 §7)', async (t) => {
  const clock = new FakeClock()
  const { sim, sink, driver } = await startBluezStack(t, {
    clock,
    driver: { devicesExpected: true, supervisedAdvertMs: 0, watchdogSilenceMs: 60_000, watchdogStepMs: 20_000 },
  })
  const stops = sim.calls.stop
  clock.advance(60_000)
  await waitFor(() => sim.calls.stop > stops && sim.discovering && driver.status().state === 'scanning', 'discovery restarted (the cheap remedy)')
  // 100 s of silence in all: where an escalating watchdog power-cycles (80 s) and alerts (100 s).
  for (let i = 0; i < 2; i++) { clock.advance(20_000); await new Promise((r) => setTimeout(r, 50)) }
  t.equal(sim.calls.powerOff, 0, 'the adapter was not power-cycled')
  t.equal(sink.inputs.length, 0, 'no gateway_trouble')
  await waitFor(() => sink.lastLink(GW)?.status === 'online', 'the scanner online')
  clock.advance(20_000)
  await waitFor(() => sim.calls.stop >= stops + 2, 'restarted again after another full silence period')
  t.equal(sim.calls.powerOff, 0)
})

t.test('supervised beacons with a long interval: the watchdog waits at least that long (issue 11 §7)', async (t) => {
  const clock = new FakeClock()
  const { sim, driver } = await startBluezStack(t, {
    clock,
    driver: { devicesExpected: true, supervisedAdvertMs: 120_000, watchdogSilenceMs: 60_000, watchdogStepMs: 20_000 },
  })
  const stops = sim.calls.stop
  clock.advance(100_000)
  await new Promise((r) => setTimeout(r, 50))
  t.equal(sim.calls.stop, stops, '100 s of silence is shorter than the beacon interval: nothing')
  clock.advance(20_000)
  await waitFor(() => sim.calls.stop > stops && driver.status().state === 'scanning', 'restart at the beacon interval')
})
