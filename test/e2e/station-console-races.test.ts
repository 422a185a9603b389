/**
 * The console in a real browser (Debian chromium via playwright-core) when the API answers out of
 * order: only the latest request a view started may draw (station/web/static/dom.js latestOnly),
 * an older answer or error that comes last is dropped, an answer for a view the operator left never
 * lands in the view now shown, and the alarm queue's snapshot does not wipe an alarm that came live
 * while it was on its way. The real web server on the test fake of the seam (as console-fake-suite.ts);
 * the browser's request interception holds each answer (read from the server when the request was
 * made) and lets them go in the order the test wants.
 *
 * A hook in the page (addInitScript, test-only) records each answer the console read, one task
 * after it was read: by then the view has drawn it (or dropped it), so the test waits for that
 * instead of sleeping.
 */
import t from 'tap'
import { pino } from 'pino'
import type { Browser, Page, Route, APIResponse } from 'playwright-core'
import { createStationWeb, type StationWeb } from '../../station/web/web-server.js'
import { fakeStation, makeAlert, makePost } from '../station/web/fake-station.js'
import type { RollCallRow } from '../../station/station-api.js'
import { launchBrowser } from '../station/web/browser.js'

t.setTimeout(60_000)

const f = fakeStation()
let web: StationWeb
let base = ''
let browser: Browser

t.before(async () => {
  await f.store.addOperator('li.wei', 'supervisor', 'operator-pw-1', 'en')
  f.store.postsList.push(
    makePost({ post: 'kiosk-001', group: 'unit-1' }),
    makePost({ post: 'kiosk-002', group: 'unit-1' }),
    makePost({ post: 'kiosk-003', group: 'unit-2', online: false }),
  )
  web = createStationWeb({ ...f, timeZone: 'Asia/Shanghai', logger: pino({ level: 'silent' }) })
  base = `http://127.0.0.1:${(await web.listen('127.0.0.1', 0)).port}`
  browser = await launchBrowser()
})
t.teardown(async () => {
  await browser?.close()
  await web?.close()
})

/** In the page: every answer read (path and query), one task after its body was read; every request started. */
function pageHooks(): void {
  const w = window as unknown as { __read: string[]; __started: string[] }
  w.__read = []
  w.__started = []
  const path = (u: string) => { const x = new URL(u, location.href); return x.pathname + x.search }
  const fetch0 = window.fetch
  window.fetch = function (input: RequestInfo | URL, init?: RequestInit) {
    w.__started.push(path(input instanceof Request ? input.url : String(input)))
    return fetch0.call(this, input, init)
  }
  const json = Response.prototype.json
  Response.prototype.json = function (this: Response) {
    const p = json.call(this)
    const url = path(this.url)
    p.then(() => {}, () => {}).then(() => setTimeout(() => w.__read.push(url), 0))
    return p
  }
}

interface HeldAnswer { route: Route; answer: APIResponse; path: string }

/** Holds the answers to requests whose path is `path`: each is read from the server at once, then kept until let go. */
async function hold(page: Page, path: string): Promise<{ next(): Promise<HeldAnswer>; stop(): Promise<void> }> {
  const got: HeldAnswer[] = []
  const waiting: Array<(h: HeldAnswer) => void> = []
  const match = (u: URL) => u.pathname === path
  const handler = async (route: Route) => {
    const answer = await route.fetch()
    const u = new URL(route.request().url())
    const h = { route, answer, path: u.pathname + u.search }
    const w = waiting.shift()
    if (w) w(h)
    else got.push(h)
  }
  await page.route(match, handler)
  return {
    next: () => new Promise<HeldAnswer>((resolve, reject) => {
      const h = got.shift()
      if (h) return resolve(h)
      const timer = setTimeout(() => reject(new Error(`no request for ${path} within 10 s`)), 10_000)
      waiting.push((x) => { clearTimeout(timer); resolve(x) })
    }),
    stop: () => page.unroute(match, handler),
  }
}

/** Two requests the console makes, one after the other (`cause(n)` makes the n-th): their held answers, older first. */
async function twoHeld(held: { next(): Promise<HeldAnswer> }, cause: (n: 0 | 1) => void): Promise<[HeldAnswer, HeldAnswer]> {
  cause(0)
  const older = await held.next()
  cause(1)
  return [older, await held.next()]
}

/** How many answers for `path` the console has read (and drawn or dropped). */
const readCount = (page: Page, path: string) => page.evaluate((p) => (window as unknown as { __read: string[] }).__read.filter((x) => x === p).length, path)

/** Lets a held answer go and waits until the console has read it. */
async function letGo(page: Page, h: HeldAnswer, o: { fail?: number } = {}): Promise<void> {
  const before = await readCount(page, h.path)
  if (o.fail) await h.route.fulfill({ status: o.fail, contentType: 'application/json', body: JSON.stringify({ error: 'store_unavailable' }) })
  else await h.route.fulfill({ response: h.answer })
  await page.waitForFunction(([p, n]) => (window as unknown as { __read: string[] }).__read.filter((x) => x === p).length > n, [h.path, before] as const)
}

/** A fresh context logged in; `beforeLogin` can hold requests the login starts. */
async function openConsole(beforeLogin?: (page: Page) => Promise<void>): Promise<{ page: Page; errors: Error[] }> {
  const ctx = await browser.newContext({ locale: 'en-GB', viewport: { width: 1400, height: 900 } })
  await ctx.addInitScript(pageHooks)
  const page = await ctx.newPage()
  const errors: Error[] = []
  page.on('pageerror', (e) => errors.push(e))
  if (beforeLogin) await beforeLogin(page)
  await page.goto(base + '/')
  await page.fill('#login-name', 'li.wei')
  await page.fill('#login-password', 'operator-pw-1')
  await page.click('#login-form button[type=submit]')
  await page.waitForSelector('#who')
  return { page, errors }
}

/** The cells of each row shown for `post` (one row, unless a change was appended instead of redrawn in place). */
const rowsOf = (page: Page, post: string) => page.evaluate((p) => [...document.querySelectorAll('#posts-body .prow')]
  .map((r) => [...r.children].map((c) => c.textContent ?? '')).filter((c) => c[0] === p), post)

t.test('roll call: two refreshes answered out of order, the newer one stays drawn', async (t) => {
  const { page, errors } = await openConsole()
  const startedAt = Date.now()
  const rc: RollCallRow = { id: 'rc-race', startedAt, deadline: startedAt + 30_000, by: 'li.wei', scope: { site: null, group: null },
    entries: ['kiosk-001', 'kiosk-002'].map((post) => ({ site: 'test-city', post, state: 'pending', answeredBy: null, answeredAt: null, delayMs: null })) }
  f.store.rollCallList.push(rc)
  await page.goto(base + '/#/rollcall')
  await page.waitForSelector('tr[data-post=kiosk-002].rc-pending')
  const held = await hold(page, '/api/rollcalls')
  // The older answer: kiosk-002 still waiting; the newer: it missed the deadline.
  const [older, newer] = await twoHeld(held, (n) => {
    if (n === 1) rc.entries[1] = { ...rc.entries[1], state: 'missed' }
    f.live.emit({ type: 'rollcall', id: rc.id })
  })
  await letGo(page, newer)
  t.match(await page.textContent('tr[data-post=kiosk-002] .rc-state'), /NO ANSWER/, 'the newer answer drawn')
  await letGo(page, older)
  t.match(await page.textContent('tr[data-post=kiosk-002] .rc-state'), /NO ANSWER/, 'and it stays when the older one comes last')
  await held.stop()
  t.same(errors, [])
  await page.context().close()
})

t.test('history: the last search\'s results stay; an older search\'s answer or error coming last is dropped', async (t) => {
  for (let i = 0; i < 3; i++) f.store.alertsById.set(`h-1-${i}`, makeAlert({ id: `h-1-${i}`, post: 'kiosk-001' }))
  f.store.alertsById.set('h-2-0', makeAlert({ id: 'h-2-0', post: 'kiosk-002' }))
  const { page, errors } = await openConsole()
  await page.goto(base + '/#/history')
  await page.waitForSelector('#history-results .count')
  const held = await hold(page, '/api/history')
  const search = async (post: string) => { await page.fill('#history-post', post); await page.click('#history-form button[type=submit]'); return held.next() }
  const count = () => page.textContent('#history-results .count')

  let older = await search('kiosk-001')
  let newer = await search('kiosk-002')
  await letGo(page, newer)
  t.equal(await count(), '1 alerts', 'kiosk-002: one alert')
  await letGo(page, older)
  t.equal(await count(), '1 alerts', 'kiosk-001\'s answer (3 alerts) coming last is dropped')

  older = await search('kiosk-001')
  newer = await search('kiosk-002')
  await letGo(page, newer)
  await letGo(page, older, { fail: 503 })
  t.equal(await count(), '1 alerts', 'the results of the last search stay')
  t.equal(await page.locator('#history-results .error').count(), 0, 'and the older search\'s error is not shown')
  await held.stop()
  t.same(errors, [])
  await page.context().close()
})

t.test('posts: two changes of one post answered out of order, the row shows the newer', async (t) => {
  const { page, errors } = await openConsole()
  await page.goto(base + '/#/posts')
  await page.waitForSelector('#posts-body .prow')
  const held = await hold(page, '/api/posts/test-city/kiosk-002')
  const post = f.store.postsList[1]
  const changed = () => f.live.emit({ type: 'post', site: 'test-city', post: 'kiosk-002' })
  const [older, newer] = await twoHeld(held, (n) => { post.lowBattery = [1, 3][n]; changed() })
  await letGo(page, newer)
  t.same((await rowsOf(page, 'kiosk-002')).map((c) => c[6]), ['3'], 'one row, low battery 3')
  await letGo(page, older)
  t.same((await rowsOf(page, 'kiosk-002')).map((c) => c[6]), ['3'], 'still 3 after the older answer (1) came')
  await held.stop()

  // The post page: a live change redraws it; two redraws answered out of order.
  await page.goto(base + '/#/post/test-city/kiosk-002')
  await page.waitForSelector('#main h2')
  const heldPage = await hold(page, '/api/posts/test-city/kiosk-002')
  const [olderPage, newerPage] = await twoHeld(heldPage, (n) => { post.outboxDepth = [5, 7][n]; changed() })
  await letGo(page, newerPage)
  t.match(await page.textContent('#main > p'), /Outbox: 7$/, 'outbox 7 drawn')
  await letGo(page, olderPage)
  t.match(await page.textContent('#main > p'), /Outbox: 7$/, 'and kept when the older answer (5) comes last')
  await heldPage.stop()
  post.lowBattery = 0
  post.outboxDepth = 0
  t.same(errors, [])
  await page.context().close()
})

t.test('switching views: the view left behind never draws into the one shown', async (t) => {
  const { page, errors } = await openConsole()
  // The posts list on its way when the operator opens the history.
  const held = await hold(page, '/api/posts')
  await page.goto(base + '/#/posts')
  const list = await held.next()
  await page.goto(base + '/#/history')
  await page.waitForSelector('#history-results .count')
  await letGo(page, list)
  t.equal(await page.locator('#history-form').count(), 1, 'the history is still shown')
  t.equal(await page.locator('#posts-body').count(), 0, 'the posts list was not drawn into it')
  await held.stop()

  // A post page left for the alarm queue: that post's change afterwards must not redraw the page over the queue.
  await page.goto(base + '/#/post/test-city/kiosk-001')
  await page.waitForSelector('#main h2')
  await page.goto(base + '/#/queue')
  await page.waitForSelector('#queue')
  const requestsBefore = await page.evaluate(() => (window as unknown as { __started: string[] }).__started.length)
  f.live.emit({ type: 'post', site: 'test-city', post: 'kiosk-001' })
  // Sent after it on the same feed: once its row is shown, the post event was handled.
  const a = makeAlert({ post: 'kiosk-003' })
  f.store.alertsById.set(a.id, a)
  f.live.emit({ type: 'alert', alert: a })
  await page.waitForSelector(`.alert[data-id="${a.id}"]`)
  // The post page redraws 300 ms after a change (view-posts.js scheduleDetail): a 600 ms page timer set now fires after it.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 600)))
  const started = await page.evaluate((n) => (window as unknown as { __started: string[] }).__started.slice(n), requestsBefore)
  t.same(started.filter((p) => p.startsWith('/api/posts/')), [], 'the post page left behind fetched nothing')
  t.equal(await page.locator('#queue').count(), 1, 'the queue is still shown')
  t.equal(await page.locator('#main h2').count(), 0, 'no post page drawn over it')
  t.same(errors, [])
  await page.context().close()
})

t.test('alarm queue: an alarm that comes live while the queue\'s snapshot is on its way stays in the queue', async (t) => {
  let held: Awaited<ReturnType<typeof hold>> | null = null
  const { page, errors } = await openConsole(async (p) => { held = await hold(p, '/api/queue') })
  // The feed's hello reloads the queue from the store: that snapshot is read now, without the alarm below.
  const snapshot = await held!.next()
  const a = makeAlert({ post: 'kiosk-002', label: 'raised during the reload' })
  f.store.alertsById.set(a.id, a)
  f.live.emit({ type: 'alert', alert: a })
  await page.waitForSelector(`.alert[data-id="${a.id}"]`)
  const beep = await page.evaluate(() => document.body.dataset.lastBeep)
  t.ok(beep, 'the alarm was announced when it came')
  await letGo(page, snapshot)
  // The queue redraws on the next frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))))
  t.equal(await page.locator(`.alert[data-id="${a.id}"]`).count(), 1, 'the alarm is still in the queue after the snapshot came')
  t.equal(await page.evaluate(() => document.body.dataset.lastBeep), beep, 'and not announced again (replayed quietly over the snapshot)')
  await held!.stop()
  t.same(errors, [])
  await page.context().close()
})
