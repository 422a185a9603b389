/**
 * The page, its scripts and its strings (issue 15). Plain JS/CSS, no build
 * step: the files in ./static are served as they are. Only names from the
 * directory listing taken at start are served (no path from the URL reaches
 * the file system).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { HttpError, sendText } from './http-util.js'
import { STRINGS } from './i18n/index.js'
import { isLang } from './lang.js'
import type { RequestContext } from './request-context.js'

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/**
 * Beside this module in the source tree and in the bundle (provisioning/build/bundle-cli.ts copies
 * them into dist/bundle/static/); from dist/, the source tree's copy (tsc copies no .js assets).
 */
function staticDir(): string {
  for (const rel of ['./static/', '../../../station/web/static/']) {
    const p = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(p)) return p
  }
  throw new Error('station/web/static not found: install the package with its station/web/static folder')
}

const DIR = staticDir()
const FILES = new Map<string, { body: Buffer; type: string }>()
for (const name of readdirSync(DIR)) {
  const ext = name.slice(name.lastIndexOf('.'))
  const type = TYPES[ext]
  if (type) FILES.set(name, { body: readFileSync(DIR + name), type })
}

export async function serveStatic(c: RequestContext): Promise<void> {
  const p = c.url.pathname
  if (p === '/' || p === '/index.html') {
    const html = FILES.get('index.html')!.body.toString('utf8').replace(/__LANG__/g, c.lang)
    sendText(c.res, 200, html, TYPES['.html'])
    return
  }
  const i18n = /^\/i18n\/([A-Za-z-]+)\.json$/.exec(p)
  if (i18n && isLang(i18n[1])) {
    sendText(c.res, 200, JSON.stringify(STRINGS[i18n[1]]), 'application/json; charset=utf-8')
    return
  }
  const m = /^\/static\/([a-z0-9-]+\.[a-z]+)$/.exec(p)
  const f = m ? FILES.get(m[1]) : undefined
  if (!f) throw new HttpError(404, 'not_found')
  sendText(c.res, 200, f.body, f.type, { 'cache-control': 'no-cache' })
}
