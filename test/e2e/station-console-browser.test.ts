/**
 * Issue 15, the station console in a real browser (Debian chromium via
 * playwright-core): the scenarios against the in-memory test fake of the seam
 * (console-fake-suite.ts), then the same on the real service with mosquitto,
 * SQLite and a test gateway (console-real-suite.ts).
 *
 * One file and ONE browser launch for both (issue 14 §5, "the test suite stays
 * fast"): as two files each paid a chromium start and tear-down of its own.
 * Every test opens its own browser context (own cookies, own pages), so the
 * tests share nothing but the browser process.
 *
 * Here in test/e2e, not test/station/web: tap 21 starts files in name order
 * (localeCompare, whatever the config lists), and test/station/web/ sorted
 * second to last, so this ~45 s file would have started last and set the
 * run's tail. It is end to end anyway (gateway -> mosquitto -> station -> browser).
 */
import t from 'tap'
import type { Browser } from 'playwright-core'
import { launchBrowser } from '../station/web/browser.js'
import { consoleFakeSuite } from '../station/web/console-fake-suite.js'
import { consoleRealSuite } from '../station/web/console-real-suite.js'

// Both suites on a loaded 2-core machine: far beyond tap's 30 s default.
t.setTimeout(240_000)

let browser: Promise<Browser> | null = null
const launched = (): Promise<Browser> => (browser ??= launchBrowser())
t.teardown(async () => { if (browser) await (await browser).close() })

consoleFakeSuite(t, launched)
consoleRealSuite(t, launched)
