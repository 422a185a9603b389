/**
 * Issue 15, the console in a real browser (Debian chromium via playwright-core)
 * against the in-memory TEST FAKE of the seam: rows appear live, a click or
 * the `a` key acknowledges with the operator's name, two operators see each
 * other's acks, field text is escaped, loud banners, a dropped connection
 * catches up, a roll call's results. The same scenarios on the real service
 * (mosquitto, SQLite, a test gateway) are in console-real-suite.ts; both run
 * from test/e2e/station-console-browser.test.ts on one browser launch.
 */
import type { Test } from 'tap'
import { pino } from 'pino'
import type { Browser } from 'playwright-core'
import { createStationWeb, type StationWeb } from '../../../station/web/web-server.js'
import { fakeStation, makeAlert, makePost } from './fake-station.js'
import { ackSeenAt, loggedInPage, rowSeenAt, screenshot, watchRows } from './browser.js'

/** Registers the fake-seam console tests on `t`; `launched` is the file's one browser. */
export function consoleFakeSuite(t: Test, launched: () => Promise<Browser>): void {
  const f = fakeStation()
  let browser: Browser
  let web: StationWeb
  let base = ''
  let port = 0
  const log = pino({ level: 'silent' })
  const startWeb = async (p: number) => {
    web = createStationWeb({ ...f, timeZone: 'Asia/Shanghai', logger: log })
    port = (await web.listen('127.0.0.1', p)).port
    base = `http://127.0.0.1:${port}`
  }

  t.before(async () => {
    await f.store.addOperator('li.wei', 'operator', 'operator-pw-1', null)
    await f.store.addOperator('wang.fang', 'operator', 'operator-pw-2', 'zh-CN')
    f.store.postsList.push(
      makePost({ post: 'kiosk-001', group: 'unit-1' }),
      makePost({ post: 'kiosk-002', group: 'unit-1', lowBattery: 1 }),
      makePost({ post: 'kiosk-003', group: 'unit-2', online: false, lastTestReportAt: Date.now() - 600_000, testOverdue: true }),
    )
    await startWeb(0)
    browser = await launched()
  })
  t.teardown(async () => { await web?.close() })

  function raise(p: Parameters<typeof makeAlert>[0] = {}) {
    const a = makeAlert(p)
    f.store.alertsById.set(a.id, a)
    f.live.emit({ type: 'alert', alert: a })
    return a
  }

  t.test('alarm shows within a second; click ack and `a` key acknowledge by name; the other operator sees it', async (t) => {
    const A = await loggedInPage(browser, base, 'li.wei', 'operator-pw-1', 'en-GB')
    const B = await loggedInPage(browser, base, 'wang.fang', 'operator-pw-2', 'en-GB')
    await A.waitForSelector('#queue')
    await B.waitForSelector('#queue')
    t.equal(await B.textContent('nav a[data-tab=queue]'), '报警', 'operator.lang wins over the browser: Chinese for wang.fang')
    t.equal(await A.textContent('nav a[data-tab=queue]'), 'Alarms')

    await watchRows(A)
    const t0 = Date.now()
    const a1 = raise({ label: '<img src=x onerror="window.__xss=1">', location: 'back door' })
    const seen = await rowSeenAt(A, a1.id)
    t.ok(seen - t0 < 1000, `row visible in ${seen - t0} ms (issue 15: within a second)`)
    t.equal(await A.textContent(`.alert[data-id="${a1.id}"] .label`), '<img src=x onerror="window.__xss=1">', 'field text shown as text')
    t.equal(await A.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'and never run')
    t.ok(await A.evaluate(() => document.body.dataset.lastBeep), 'new alarm: beep')
    const trouble = raise({ kind: 'low_battery', cls: 'trouble', priority: 2, device: 'whistle-07', label: null })
    const test = raise({ kind: 'whistle', priority: 1, test: true, originPost: 'kiosk-002', post: 'kiosk-001' })
    await A.waitForSelector(`.alert[data-id="${trouble.id}"]`)
    await A.waitForSelector(`.alert[data-id="${test.id}"] .neighbour-mark`)
    const order = await A.$$eval('#queue .alert', (els) => els.map((e) => (e as HTMLElement).dataset.id))
    t.same(order, [a1.id, test.id, trouble.id], 'panic, then whistle, then trouble')
    await screenshot(A, 'queue-en')

    await A.fill('#ack-note', 'patrol 3 sent')
    await watchRows(B)
    const t1 = Date.now()
    await A.click(`.alert[data-id="${a1.id}"] button.ack`)
    const ackSeen = await ackSeenAt(B, a1.id)
    t.ok(ackSeen - t1 < 1000, `the other operator sees the ack in ${ackSeen - t1} ms`)
    t.match(f.store.alertsById.get(a1.id), { ackBy: 'li.wei', ackNote: 'patrol 3 sent' })
    t.match(await B.textContent(`.alert[data-id="${a1.id}"] .acked-by`), /li\.wei/)

    await B.keyboard.press('ArrowDown')
    await B.keyboard.press('a')
    await A.waitForSelector(`.alert.acked[data-id="${test.id}"]`, { timeout: 5000 })
    t.match(f.store.alertsById.get(test.id), { ackBy: 'wang.fang' })
    await screenshot(B, 'queue-zh')
    await A.context().close()
    await B.context().close()
  })

  t.test('loud banners for database and broker; a dropped connection catches up', async (t) => {
    const A = await loggedInPage(browser, base, 'li.wei', 'operator-pw-1')
    f.health.broker = false
    await A.waitForSelector('#banner-broker', { timeout: 2500 })
    f.health.db = false
    await A.waitForSelector('#banner-db', { timeout: 2500 })
    await screenshot(A, 'banners')
    f.health.db = true
    f.health.broker = true
    await A.waitForSelector('#banner-db', { state: 'detached', timeout: 2500 })

    await web.close()
    await A.waitForSelector('#banner-live', { timeout: 5000 })
    const missed = raise({ post: 'kiosk-002' })
    await startWeb(port)
    await A.waitForSelector(`.alert[data-id="${missed.id}"]`, { timeout: 5000 })
    t.pass('the alert raised while the console was away is shown after reconnecting')
    await A.waitForSelector('#banner-live', { state: 'detached' })
    await A.context().close()
  })

  t.test('posts, filters and a roll call with answered / silent / offline posts', async (t) => {
    const A = await loggedInPage(browser, base, 'li.wei', 'operator-pw-1')
    await A.goto(base + '/#/posts')
    await A.waitForSelector('#posts-body .prow')
    t.equal(await A.locator('#posts-body .prow').count(), 3)
    await A.selectOption('#filter-group', 'unit-2')
    t.equal(await A.locator('#posts-body .prow').count(), 1)
    t.match(await A.textContent('#posts-body .prow'), /OFFLINE.*SILENT/s)
    await A.selectOption('#filter-group', '')
    await screenshot(A, 'posts')

    await A.goto(base + '/#/rollcall')
    await A.waitForSelector('#rollcall-form')
    await A.fill('#rollcall-deadline', '30')
    await A.click('#rollcall-form button[type=submit]')
    await A.waitForSelector('tr[data-post=kiosk-003] .rc-state')
    const rc = f.store.rollCallList.at(-1)!
    t.equal(rc.by, 'li.wei')
    // The fake's roll call resolves by hand: kiosk-001 answers, kiosk-002 stays silent.
    rc.entries[0] = { ...rc.entries[0], state: 'answered', answeredBy: 'volunteer', answeredAt: rc.startedAt + 4200, delayMs: 4200 }
    rc.entries[1] = { ...rc.entries[1], state: 'missed' }
    f.live.emit({ type: 'rollcall', id: rc.id })
    await A.waitForSelector('tr[data-post=kiosk-001].rc-answered')
    t.match(await A.textContent('tr[data-post=kiosk-001]'), /4\.2 s/)
    t.match(await A.textContent('tr[data-post=kiosk-002] .rc-state'), /NO ANSWER/)
    t.match(await A.textContent('tr[data-post=kiosk-003] .rc-state'), /OFFLINE/)
    await screenshot(A, 'rollcall')
    const csv = await A.evaluate(async (id) => (await fetch(`/api/rollcalls/${id}/csv`)).text(), rc.id)
    t.match(csv, /kiosk-002,missed/)
    await A.context().close()
  })

  t.test('history: search by post and time (station zone), CSV link; a maintainer sees fleet health only', async (t) => {
    await f.store.addOperator('tech', 'maintainer', 'maint-pw-123', 'en')
    const old = makeAlert({ post: 'kiosk-003', receivedAt: Date.parse('2026-01-10T02:00:00Z') }) // 10:00 in Shanghai
    f.store.alertsById.set(old.id, old)
    const A = await loggedInPage(browser, base, 'li.wei', 'operator-pw-1')
    await A.goto(base + '/#/history')
    await A.fill('#history-post', 'kiosk-003')
    await A.fill('#history-from', '2026-01-10T09:59')
    await A.fill('#history-to', '2026-01-10T10:01')
    await A.click('#history-form button[type=submit]')
    await A.waitForFunction(() => /1 alerts/.test(document.getElementById('history-results')?.textContent ?? ''))
    t.match(await A.textContent('#history-results tbody'), /2026-01-10 10:00:00/, 'shown in the station zone')
    const href = await A.getAttribute('#history-csv', 'href')
    t.match(href, `from=${Date.parse('2026-01-10T01:59:00Z')}`, 'the wall time read in Asia/Shanghai')
    await A.fill('#history-from', '2026-01-10T10:01')
    await A.click('#history-form button[type=submit]')
    await A.waitForFunction(() => /^0 alerts/.test(document.getElementById('history-results')?.textContent ?? ''))
    t.pass('outside the window: none')
    await A.context().close()

    const M = await loggedInPage(browser, base, 'tech', 'maint-pw-123')
    await M.waitForSelector('#posts-body .prow')
    t.same(await M.$$eval('nav a', (els) => els.map((e) => (e as HTMLElement).dataset.tab)), ['posts', 'rejected'], 'no alarm queue, history, roll call or users')
    await M.context().close()
  })

  t.test('from a browser: an API call without a session is 401, a POST without the CSRF token 403, a wrong password refused', async (t) => {
    const A = await loggedInPage(browser, base, 'li.wei', 'operator-pw-1')
    const a = raise()
    const status = await A.evaluate(async (id) => (await fetch(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, a.id)
    t.equal(status, 403, 'the session cookie alone is not enough')
    t.equal(f.store.alertsById.get(a.id)!.ackAt, null, 'nothing acknowledged')
    const anon = await browser.newContext()
    const p = await anon.newPage()
    await p.goto(base + '/')
    t.equal(await p.evaluate(async () => (await fetch('/api/queue')).status), 401)
    t.equal(await p.evaluate(async () => (await fetch('/api/events')).status), 401)
    await p.fill('#login-name', 'li.wei')
    await p.fill('#login-password', 'nope')
    await p.click('#login-form button[type=submit]')
    await p.waitForFunction(() => document.getElementById('login-error')?.textContent !== '')
    t.match(await p.textContent('#login-error'), /Wrong name or password/, 'a wrong password is refused in the page')
    t.equal(await p.locator('#who').count(), 0)
    await anon.close()
    await A.context().close()
  })
}
