/**
 * Debian's chromium driven by playwright-core (no browser download), for the
 * console's browser tests: one launch per test process, shared by its tests (test/e2e/station-console-browser.test.ts).
 */
import { mkdirSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = process.env.SAFEHOUSE_CHROMIUM ?? '/usr/bin/chromium'
export const SCREENSHOTS = process.env.SAFEHOUSE_SCREENSHOTS === '1'

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] })
}

/** A fresh context (its own cookies) in the given language, logged in as name. */
export async function loggedInPage(browser: Browser, base: string, name: string, password: string, locale = 'en-GB'): Promise<Page> {
  const ctx = await browser.newContext({ locale, viewport: { width: 1400, height: 900 } })
  const page = await ctx.newPage()
  page.on('pageerror', (e) => { throw e })
  await page.goto(base + '/')
  await page.fill('#login-name', name)
  await page.fill('#login-password', password)
  await page.click('#login-form button[type=submit]')
  await page.waitForSelector('#who')
  return page
}

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return
  mkdirSync('docs/station', { recursive: true })
  await page.screenshot({ path: `docs/station/${name}.png` })
}

/** Records, in the page, when each alert row first appears (Date.now(), same machine clock as the test). */
export async function watchRows(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __seen: Record<string, number>; __acked: Record<string, number> }
    w.__seen = {}
    w.__acked = {}
    new MutationObserver(() => {
      for (const el of document.querySelectorAll<HTMLElement>('.alert[data-id]')) {
        const id = el.dataset.id!
        if (!(id in w.__seen)) w.__seen[id] = Date.now()
        if (el.classList.contains('acked') && !(id in w.__acked)) w.__acked[id] = Date.now()
      }
    }).observe(document.body, { childList: true, subtree: true })
  })
}

/** Waits for the row, then returns when it appeared (ms epoch). */
export async function rowSeenAt(page: Page, id: string, timeout = 10_000): Promise<number> {
  await page.waitForSelector(`.alert[data-id="${id}"]`, { timeout })
  return page.evaluate((i) => (window as unknown as { __seen: Record<string, number> }).__seen[i], id)
}

/** Waits for the row to show as acknowledged, then returns when it did (ms epoch). */
export async function ackSeenAt(page: Page, id: string, timeout = 10_000): Promise<number> {
  await page.waitForSelector(`.alert.acked[data-id="${id}"]`, { timeout })
  return page.evaluate((i) => (window as unknown as { __acked: Record<string, number> }).__acked[i], id)
}
