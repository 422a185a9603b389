/**
 * The gateway's commands (gateway/inbound/commands.ts) on a gateway built with
 * a FakeClock and a recording lamp, not started: the walk test's time limit,
 * switching it off, and the walk-test report's validation and publication.
 */
import t from 'tap'
import pino from 'pino'
import { FakeClock } from '../../../devices/time/clock.js'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { Gateway } from '../../../gateway/gateway.js'
import type { LampPattern } from '../../../devices/device-driver.js'
import { WALK_TEST_DEFAULT_MIN } from '../../../gateway/inbound/commands.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'
import { PostTopics } from '../../../protocols/mqtt/topics.js'
import { Acl, roleRules } from '../../../gateway/broker/acl.js'

const CONFIG = `
site: test-city
post: kiosk-001
data_dir: /nonexistent/not-used
log: { level: silent, format: json }
station: { url: "mqtt://127.0.0.1:1" }
outbox: { kind: memory }
devices:
  - { id: counter-button, kind: panic-button, driver: sim }
  - { id: lamp-box, kind: lamp-box, driver: sim }
`

interface Published { topic: string; payload: string; qos: number; retain: boolean; via: 'local' | 'station' }

async function setup() {
  const clock = new FakeClock()
  const patterns: LampPattern[] = []
  const lamp = { pattern: 'normal' as LampPattern, setPattern(p: LampPattern) { patterns.push(p); lamp.pattern = p } }
  const gw = await Gateway.create(parseConfig(CONFIG, 'test.yaml'), { station_password: null, broker_passwords: {}, ble_keys: {} }, {
    log: pino({ level: 'silent' }),
    clock,
    drivers: () => ({ drivers: [], twins: new Map(), lamp }),
  })
  const published: Published[] = []
  gw.broker.publish = (topic, payload, qos, retain) => { published.push({ topic, payload: payload.toString(), qos, retain, via: 'local' }) }
  gw.uplink.publish = (topic, payload, qos, retain) => { published.push({ topic, payload: payload.toString(), qos, retain, via: 'station' }) }
  const run = (name: string, args: Record<string, unknown>): Record<string, unknown> => {
    let reply: Record<string, unknown> | null = null
    gw.commands.handle(name, Buffer.from(JSON.stringify({ by: 'tech-1', args })), {
      reply: (_topic, payload) => {
        const r = checkPayload<Record<string, unknown>>('commandResponse', payload)
        if (!r.ok) throw new Error(`reply does not match command-response.schema.json: ${r.error}`)
        reply = r.value
      },
    }, { responseTopic: 'r' })
    if (!reply) throw new Error('no reply')
    return reply
  }
  const mode = (): string => (gw.gatewayState() as { mode: string }).mode
  return { gw, clock, patterns, published, run, mode }
}

t.test('walk-test on switches itself off after the given minutes (FakeClock)', async (t) => {
  const { gw, clock, patterns, run, mode } = await setup()
  gw.state.gatewayDirty = false
  const r = run('walk-test', { on: true, minutes: 2 })
  t.match(r, { ok: true, result: { mode: 'walk_test', minutes: 2, ends_at: clock.now() + 120_000 } })
  t.equal(gw.core.testMode, true)
  t.equal(mode(), 'walk_test', 'the gateway state shows walk-test mode')
  t.equal(gw.state.gatewayDirty, true, 'the retained gateway state is marked for publishing')

  gw.lamp?.set('test', 'a test alert') // what a test alert does to the lamp
  gw.state.gatewayDirty = false
  clock.advance(119_000)
  t.equal(gw.core.testMode, true, 'still on just before the limit')
  clock.advance(1_000)
  t.equal(gw.core.testMode, false, 'off at the limit')
  t.equal(mode(), 'normal')
  t.equal(gw.state.gatewayDirty, true, 'the mode change is published')
  t.equal(patterns.at(-1), 'normal', 'the lamp box leaves the test pattern')
  t.equal(clock.pendingTimers(), 0, 'no timer left behind')
})

t.test('the default limit is 30 minutes; fractional minutes are allowed', async (t) => {
  const { gw, clock, run } = await setup()
  run('walk-test', { on: true })
  clock.advance(WALK_TEST_DEFAULT_MIN * 60_000 - 1)
  t.equal(gw.core.testMode, true)
  clock.advance(1)
  t.equal(gw.core.testMode, false, 'off after 30 min')
  run('walk-test', { on: true, minutes: 0.05 })
  clock.advance(3_000)
  t.equal(gw.core.testMode, false, '0.05 min = 3 s')
})

t.test('switching on again restarts the limit; off ends it and cancels the timer', async (t) => {
  const { gw, clock, patterns, run } = await setup()
  run('walk-test', { on: true, minutes: 1 })
  clock.advance(50_000)
  run('walk-test', { on: true, minutes: 1 })
  clock.advance(50_000)
  t.equal(gw.core.testMode, true, 'the second "on" counts from its own start')
  t.equal(clock.pendingTimers(), 1, 'one timer, not two')
  gw.lamp?.set('alarm', 'a real alarm during the test')
  const off = run('walk-test', { on: false })
  t.match(off, { ok: true, result: { mode: 'normal' } })
  t.equal(gw.core.testMode, false)
  t.equal(clock.pendingTimers(), 0, 'the time limit is cancelled')
  t.equal(patterns.at(-1), 'alarm', 'a real alarm pattern is not touched')
  t.match(run('walk-test', { on: false }), { ok: true }, 'off when already off is fine')
})

t.test('bad walk-test arguments are refused with what to do', async (t) => {
  const { gw, run } = await setup()
  for (const args of [{}, { on: 'yes' }, { on: true, minutes: 0 }, { on: true, minutes: -5 }, { on: true, minutes: 241 }, { on: true, minutes: '10' }]) {
    const r = run('walk-test', args)
    t.equal(r.ok, false, JSON.stringify(args))
    t.match(r.error, /args\.on = true or false|args\.minutes must be a number of minutes above 0 and at most 240/)
  }
  t.equal(gw.core.testMode, false, 'nothing switched on')
  t.match(run('walk-test', { on: true, minutes: 240 }), { ok: true }, '240 is the maximum')
})

function report(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1, site: 'test-city', post: 'kiosk-001', technician: 'tech-1', started_at: 1_000, ended_at: 61_000,
    ended_by: 'all_passed', time_limit_s: 1800, result: 'pass', summary: { passed: 2, failed: 0, skipped: 0 },
    devices: [
      { id: 'counter-button', kind: 'panic-button', label: 'Counter', location: 'under the counter', check: 'alert', result: 'pass', triggered_at: 30_000, alert_kind: 'panic', alert_id: 'test-city:kiosk-001:7', rssi: null, battery: null, status: 'online', faults: [] },
      { id: 'lamp-box', kind: 'lamp-box', check: 'lamp_test', result: 'pass', triggered_at: 20_000 },
    ],
    ...over,
  }
}

t.test('walk-test-report: validated, then published retained locally and to the station', async (t) => {
  const { published, run } = await setup()
  const r = run('walk-test-report', { report: report() })
  t.match(r, { ok: true, result: { topic: 'safehouse/v1/test-city/kiosk-001/walk-test/report', station: 'queued' } })
  t.equal(JSON.stringify(r).length < 200, true, 'the reply is small')
  t.same(published.map((p) => [p.via, p.topic, p.qos, p.retain]), [
    ['local', 'safehouse/v1/test-city/kiosk-001/walk-test/report', 1, true],
    ['station', 'safehouse/v1/test-city/kiosk-001/walk-test/report', 1, true],
  ])
  t.same(JSON.parse(published[0].payload), report(), 'the report as sent')
  t.ok(checkPayload('walkTestReport', published[1].payload).ok)
})

t.test('walk-test-report: a bad or foreign report is refused and nothing is published', async (t) => {
  const { published, run } = await setup()
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /needs args\.report/],
    [{ report: 'done' }, /does not match walk-test-report\.schema\.json: \(root\) must be object/],
    [{ report: report({ result: 'maybe' }) }, /\/result must be equal to one of the allowed values/],
    [{ report: report({ devices: [{ id: 'x', kind: 'toaster', check: 'alert', result: 'pass' }] }) }, /\/devices\/0\/kind/],
    [{ report: report({ extra: 1 }) }, /additional properties/],
    [{ report: report({ post: 'kiosk-009' }) }, /the report is for test-city\/kiosk-009 but this gateway is test-city\/kiosk-001/],
  ]
  for (const [args, error] of cases) {
    const r = run('walk-test-report', args)
    t.equal(r.ok, false)
    t.match(r.error, error)
  }
  t.equal(published.length, 0)
})

t.test('the report topic: under the post, readable by technician and station roles, not by a panel', async (t) => {
  const topic = new PostTopics('test-city', 'kiosk-001').walkTestReport
  t.equal(topic, 'safehouse/v1/test-city/kiosk-001/walk-test/report')
  const acl = new Acl([{ username: 'tech', role: 'technician' }, { username: 'desk', role: 'station' }, { username: 'panel', role: 'panel' }], roleRules('test-city', 'kiosk-001', null))
  t.ok(acl.canSubscribe('tech', 'laptop', topic))
  t.ok(acl.canSubscribe('desk', 'console', topic))
  t.notOk(acl.canSubscribe('panel', 'screen', topic))
  t.notOk(acl.canPublish('tech', topic), 'only the gateway publishes it (in process)')
})
