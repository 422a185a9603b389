/**
 * Issue 15: the station console in a real browser (Debian chromium via
 * playwright-core), 2,100 posts loaded (Shanghai's safety houses).
 *  - alert -> visible: from the StationLive event to the row in the page's DOM
 *    (MutationObserver time, same machine clock), over N alerts;
 *  - render: the posts view with 2,100 rows, from navigation to rows in the
 *    DOM and one layout (requestAnimationFrame), median of 5.
 * The seam is the in-memory TEST FAKE (test/station/web/fake-station.ts), so
 * the figures are the console's share (server + SSE + browser), without the
 * broker and database in front of it.
 *
 * A second row measures the whole path on the real service (see realPath).
 *
 *   node --import tsx bench/station-console.ts [alerts=300] [presses=100]
 * Exported: benchStationConsole(alerts, presses) -> Markdown section (for bench/run.ts).
 */
import { pino } from 'pino'
import { fileURLToPath } from 'node:url'
import { loadavg } from 'node:os'
import { createStationWeb } from '../station/web/web-server.js'
import { fakeStation, makeAlert, makePost } from '../test/station/web/fake-station.js'
import { launchBrowser, loggedInPage, watchRows } from '../test/station/web/browser.js'
import { testStation } from '../test/harness/station-service.js'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { machineLine, median, ms, summarize, type Summary } from './bench-stats.js'

const POSTS = 2100

/**
 * The whole path on real components: a press on a test gateway's twin button
 * (debounce 0) -> gateway -> real mosquitto -> station ingest -> SQLite ->
 * live feed -> SSE -> the row in the browser's DOM.
 */
async function realPath(presses: number): Promise<Summary> {
  const st = await testStation()
  const { gw, cleanup } = await testGateway({
    stationUrl: st.mosq.url,
    extra: { core: { dedupe_ms: 0 }, devices: [{ id: 'counter-button', kind: 'panic-button', driver: 'sim', debounce_ms: 0, label: 'Counter' }, { id: 'lamp-box', kind: 'lamp-box', driver: 'sim' }] },
  })
  const browser = await launchBrowser()
  try {
    await gw.start()
    await until(() => st.service.ingest.isKnown('test-city', 'kiosk-001'), 'the post known', 10_000)
    const page = await loggedInPage(browser, st.consoleUrl, st.operator.name, st.operator.password)
    await page.waitForSelector('#queue')
    await watchRows(page)
    const button = gw.twins.get('counter-button')!
    const lat: number[] = []
    for (let i = 0; i < presses; i++) {
      const next = new Promise<string>((resolve) => {
        const off = st.service.live.subscribe((_s, e) => { if (e.type === 'alert' && e.alert.kind === 'panic') { off(); resolve(e.alert.id) } })
      })
      const t0 = Date.now()
      button.act('hold', 2)
      const id = await next
      await page.waitForSelector(`.alert[data-id="${id}"]`)
      lat.push(await page.evaluate((x) => (window as unknown as { __seen: Record<string, number> }).__seen[x], id) - t0)
      await st.service.actions.acknowledge(st.ctx, id, null)
      await new Promise((r) => setTimeout(r, 20))
    }
    return summarize(lat)
  } finally {
    await browser.close()
    await cleanup()
    await st.cleanup()
  }
}

export async function benchStationConsole(alerts = 300, presses = 100): Promise<string> {
  const f = fakeStation()
  await f.store.addOperator('bench', 'operator', 'bench-password-1', 'en')
  for (let i = 0; i < POSTS; i++) {
    f.store.postsList.push(makePost({ site: `district-${i % 16}`, post: `kiosk-${String(i).padStart(4, '0')}`, group: `unit-${Math.floor(i / 10)}`, online: i % 50 !== 0, testOverdue: i % 70 === 0, lowBattery: i % 33 === 0 ? 1 : 0 }))
  }
  const web = createStationWeb({ ...f, timeZone: 'Asia/Shanghai', logger: pino({ level: 'silent' }) })
  const { port } = await web.listen('127.0.0.1', 0)
  const base = `http://127.0.0.1:${port}`
  const browser = await launchBrowser()
  try {
    const page = await loggedInPage(browser, base, 'bench', 'bench-password-1')
    await page.waitForSelector('#queue')
    await watchRows(page)
    const lat: number[] = []
    for (let i = 0; i < alerts; i++) {
      const a = makeAlert({ post: `kiosk-${String(i % POSTS).padStart(4, '0')}` })
      f.store.alertsById.set(a.id, a)
      const t0 = Date.now()
      f.live.emit({ type: 'alert', alert: a })
      await page.waitForSelector(`.alert[data-id="${a.id}"]`)
      const seen = await page.evaluate((id) => (window as unknown as { __seen: Record<string, number> }).__seen[id], a.id)
      lat.push(seen - t0)
      if (i % 50 === 49) { // keep the queue at a desk's size: acknowledge what is there
        for (const r of f.store.alertsById.values()) if (r.ackAt === null) await f.actions.acknowledge({ operator: { name: 'bench', role: 'operator', lang: null }, from: null }, r.id, null)
      }
    }
    const renders: number[] = []
    for (let i = 0; i < 5; i++) {
      await page.evaluate(() => { location.hash = '#/queue' })
      await page.waitForSelector('#queue')
      const r = await page.evaluate(async (n) => {
        const t0 = performance.now()
        location.hash = '#/posts'
        while (document.querySelectorAll('#posts-body .prow').length < n) await new Promise((res) => setTimeout(res, 5))
        await new Promise((res) => requestAnimationFrame(() => res(null)))
        return performance.now() - t0
      }, POSTS)
      renders.push(r)
    }
    const s = summarize(lat)
    const real = await realPath(presses)
    return `## Issue 15, station console: alert -> visible in the browser; 2,100 posts rendered (bench/station-console.ts)

${machineLine()}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end. Command: \`node --import tsx bench/station-console.ts ${alerts} ${presses}\`.
Debian chromium ${browser.version()} headless via playwright-core; the console served by station/web on loopback,
fed by the seam's in-memory test fake (no broker, no database: the console's own share). Alert -> visible: from
StationLive's event to the row in the page's DOM (MutationObserver, same clock). Render: the posts view from
navigation (GET /api/posts included) to ${POSTS} rows in the DOM and a frame (rows use content-visibility: auto,
so layout is paid for what is on screen). Target: an alert on screen within a second.

| what | n | p50 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|
| alert -> row visible (console's share: live event -> DOM) | ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |
| gateway twin press -> row visible (real mosquitto, SQLite, station service) | ${real.n} | ${ms(real.p50)} | ${ms(real.p99)} | ${ms(real.max)} |
| posts view, ${POSTS} rows (median of ${renders.length}) | ${renders.length} | ${ms(median(renders))} | – | ${ms(Math.max(...renders))} |
`
  } finally {
    await browser.close()
    await web.close()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(await benchStationConsole(Number(process.argv[2] ?? 300), Number(process.argv[3] ?? 100)))
  process.exit(0)
}
