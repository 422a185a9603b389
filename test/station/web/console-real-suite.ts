/**
 * Issue 15, the console on the REAL station service: a real mosquitto as the
 * station broker, the service on SQLite in a temp dir, a test gateway (twins)
 * uplinking to it, Debian chromium via playwright-core (one launch, shared).
 *  - a press on the gateway twin shows as a row within a second;
 *  - a click on Acknowledge makes the gateway record the ack with the
 *    operator's name and turn its lamp "acknowledged";
 *  - two browsers as two operators see each other's acks;
 *  - a roll call with one post answering, one silent, one offline;
 *  - refused: a wrong password, an API call without a session, a POST without CSRF token.
 * Run from test/e2e/station-console-browser.test.ts, after the fake-seam suite, on the same browser.
 */
import type { Test } from 'tap'
import type { Browser } from 'playwright-core'
import type { MqttClient } from 'mqtt'
import { testStation, type TestStation } from '../../harness/station-service.js'
import { testGateway, until } from '../../harness/test-gateway.js'
import type { Gateway } from '../../../gateway/gateway.js'
import { Kind } from '../../../protocols/event-kinds.js'
import { ackSeenAt, loggedInPage, rowSeenAt, screenshot, watchRows } from './browser.js'

/** Registers the real-service console tests on `t`; `launched` is the file's one browser. */
export function consoleRealSuite(t: Test, launched: () => Promise<Browser>): void {
  let st: TestStation
  let gw: Gateway
  let browser: Browser
  /** RELEASE events of the twin button: a press while the last one is still held is no new edge. */
  let releases = 0
  const cleanups: Array<() => Promise<unknown>> = []

  t.before(async () => {
    st = await testStation()
    cleanups.push(() => st.cleanup())
    await st.service.store.addOperator('operator-8', 'operator', 'op-password-8', 'zh-CN')
    const g = await testGateway({ stationUrl: st.mosq.url })
    gw = g.gw
    cleanups.push(g.cleanup)
    const button = gw.devices.indexOf('counter-button')
    gw.core.addSink({ name: 'test-releases', onEvent(ev) { if (ev.device === button && ev.kind === Kind.RELEASE) releases++ } })
    await gw.start()
    await until(() => st.service.ingest.isKnown('test-city', 'kiosk-001'), 'the post known at the station', 10_000)
    browser = await launched()
  })
  t.teardown(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

  const press = () => t.equal(gw.twins.get('counter-button')?.act('press'), null, 'the twin accepts a press')
  /** The id of the next panic the station publishes live (what the consoles are sent); fails after 10 s. */
  const nextPanic = () => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('no panic from kiosk-001 on the station\'s live feed within 10 s of the press')) }, 10_000)
    const off = st.service.live.subscribe((_seq, e) => {
      if (e.type === 'alert' && e.alert.kind === 'panic' && e.alert.post === 'kiosk-001') { off(); clearTimeout(timer); resolve(e.alert.id) }
    })
  })
  const lastAckBy = () => (gw.gatewayState() as { last_ack?: { by?: string } }).last_ack?.by

  t.test('press -> row within a second; click ack -> the gateway records it by name, lamp acknowledged; two operators see each other', async (t) => {
    const A = await loggedInPage(browser, st.consoleUrl, st.operator.name, st.operator.password)
    const B = await loggedInPage(browser, st.consoleUrl, 'operator-8', 'op-password-8')
    await A.waitForSelector('#queue')
    await B.waitForSelector('#queue')
    await watchRows(A)
    await watchRows(B)
    const first = nextPanic()
    const t0 = Date.now()
    press()
    const id1 = await first
    const seen = await rowSeenAt(A, id1)
    t.ok(seen - t0 < 1000, `press -> row in the browser in ${seen - t0} ms (within a second)`)
    t.match(await A.textContent(`.alert[data-id="${id1}"] .kind`), /PANIC/)
    t.match(await A.textContent(`.alert[data-id="${id1}"] .label`), /Counter "main" button/, 'device label from the gateway')

    const t1 = Date.now()
    await A.click(`.alert[data-id="${id1}"] button.ack`)
    const bSaw = await ackSeenAt(B, id1)
    t.ok(bSaw - t1 < 1000, `operator-8 sees operator-7's ack in ${bSaw - t1} ms`)
    t.match(await B.textContent(`.alert[data-id="${id1}"] .acked-by`), /operator-7/)
    await until(() => lastAckBy() === 'operator-7', 'the gateway records the ack with the operator name', 5000)
    await until(() => gw.state.lampPattern === 'acknowledged', 'the lamp box shows acknowledged', 5000)
    t.pass('gateway: last_ack by operator-7, lamp acknowledged')

    // The twin holds a press for debounce + hold + 100 ms; pressing again before it lets go is no
    // new edge (a held button cannot be pressed again), so wait for the first press's release.
    await until(() => releases >= 1, 'the first press released', 5000)
    const second = nextPanic()
    press()
    const id2 = await second
    await rowSeenAt(B, id2)
    const t2 = Date.now()
    await B.keyboard.press('a') // the top open alarm
    const aSaw = await ackSeenAt(A, id2)
    t.ok(aSaw - t2 < 1000, `operator-7 sees operator-8's key ack in ${aSaw - t2} ms`)
    await until(() => lastAckBy() === 'operator-8', 'the gateway records operator-8', 5000)
    t.match(await st.service.store.alert(id2), { ackBy: 'operator-8' })
    t.match((await st.service.store.audit(20)).filter((a) => a.action === 'ack').map((a) => a.who).sort(), ['operator-7', 'operator-8'], 'both acks audited')
    await A.context().close()
    await B.context().close()
  })

  t.test("a post's page: its devices, recent alerts, and a lamp test sent to the gateway from the page", async (t) => {
    const A = await loggedInPage(browser, st.consoleUrl, st.operator.name, st.operator.password)
    await A.goto(st.consoleUrl + '/#/post/test-city/kiosk-001')
    await A.waitForSelector('table.devices tbody tr')
    t.match(await A.textContent('table.devices'), /counter-button/, 'devices from the retained device state')
    t.match(await A.textContent('table.alerts'), /PANIC/, 'recent alerts')
    await A.click('button[data-command=lamp-test]')
    await A.waitForFunction(() => /done|:/.test(document.getElementById('command-result')?.textContent ?? '') && !/Sending/.test(document.getElementById('command-result')?.textContent ?? ''), undefined, { timeout: 15_000 })
    const result = await A.textContent('#command-result')
    t.match(result, /Lamp test: done/, `the gateway answered: ${result?.slice(0, 120)}`)
    t.ok((await st.service.store.audit(10)).some((a) => a.action.startsWith('command') && a.who === 'operator-7'), 'the command audited')
    await screenshot(A, 'post')
    await A.context().close()
  })

  t.test('roll call: one post answers, one stays silent, one is offline', async (t) => {
    const pub: MqttClient = await st.publisher()
    const root = 'safehouse/v1/rc-city'
    const now = Date.now()
    for (const [post, state] of [['rc-answers', 'online'], ['rc-silent', 'online'], ['rc-offline', 'offline']]) {
      await pub.publishAsync(`${root}/${post}/status`, JSON.stringify({ v: 1, state, since: now }), { qos: 1, retain: true })
    }
    await until(() => ['rc-answers', 'rc-silent', 'rc-offline'].every((p) => st.service.ingest.isKnown('rc-city', p)), 'three posts known')
    // rc-answers is a volunteer who answers the roll-call command with a check-in.
    await pub.subscribeAsync(`${root}/rc-answers/cmd/roll-call`, { qos: 1 })
    pub.on('message', (topic, payload) => {
      if (!topic.endsWith('/rc-answers/cmd/roll-call')) return
      const rcId = (JSON.parse(payload.toString()) as { args: { id: string } }).args.id
      setTimeout(() => void pub.publishAsync(`${root}/rc-answers/alert/desk-radio`, JSON.stringify({
        v: 1, id: 'rc-city:rc-answers:1', site: 'rc-city', post: 'rc-answers', device: 'desk-radio', device_kind: 'panic-button',
        label: 'volunteer Zhou', kind: 'check_in', seq: 1, hw_time: Date.now(), sent_time: Date.now(), test: false, roll_call: rcId,
      }), { qos: 1 }), 300)
    })

    const A = await loggedInPage(browser, st.consoleUrl, st.operator.name, st.operator.password)
    await A.goto(st.consoleUrl + '/#/rollcall')
    await A.waitForSelector('#rollcall-scope option[value="site:rc-city"]', { state: 'attached' })
    await A.selectOption('#rollcall-scope', 'site:rc-city')
    await A.fill('#rollcall-deadline', '5')
    await A.click('#rollcall-form button[type=submit]')
    await A.waitForSelector('tr[data-post=rc-answers].rc-answered', { timeout: 10_000 })
    t.match(await A.textContent('tr[data-post=rc-answers]'), /volunteer Zhou/)
    t.match(await A.textContent('tr[data-post=rc-offline] .rc-state'), /OFFLINE/)
    await A.waitForSelector('tr[data-post=rc-silent].rc-missed', { timeout: 15_000 })
    t.match(await A.textContent('tr[data-post=rc-silent] .rc-state'), /NO ANSWER/, 'silent past the deadline')
    const rc = (await st.service.store.rollCalls(1))[0]
    t.equal(rc.by, 'operator-7')
    const csv = await A.evaluate(async (id) => (await fetch(`/api/rollcalls/${id}/csv`)).text(), rc.id)
    t.match(csv, /rc-answers,answered,volunteer Zhou/)
    t.match(csv, /rc-silent,missed/)
    t.match(csv, /rc-offline,offline/)
    await A.context().close()
  })

  t.test('refused: wrong password, API without a session, POST without the CSRF token', async (t) => {
    const anon = await browser.newContext()
    const p = await anon.newPage()
    await p.goto(st.consoleUrl + '/')
    t.equal(await p.evaluate(async () => (await fetch('/api/queue')).status), 401, 'no session: 401')
    await p.fill('#login-name', st.operator.name)
    await p.fill('#login-password', 'not-the-password')
    await p.click('#login-form button[type=submit]')
    await p.waitForFunction(() => document.getElementById('login-error')?.textContent !== '')
    t.match(await p.textContent('#login-error'), /Wrong name or password/)
    t.match((await st.service.store.audit(5)).find((a) => a.action === 'login-failed'), { who: 'operator-7', from: '127.0.0.1' }, 'failure audited')
    await anon.close()

    const A = await loggedInPage(browser, st.consoleUrl, st.operator.name, st.operator.password)
    const open = (await st.service.store.queue(10)).find((a) => a.ackAt === null)
    const status = await A.evaluate(async () => (await fetch('/api/rollcalls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"deadlineS":30}' })).status)
    t.equal(status, 403, 'a POST with the cookie but without the CSRF token')
    t.equal((await st.service.store.rollCalls(5)).length, 1, 'no roll call started by it')
    if (open) t.equal((await st.service.store.alert(open.id))!.ackAt, null)
    await A.context().close()
  })
}
