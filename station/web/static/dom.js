// Small DOM and formatting helpers for the console. Everything from the field
// is inserted as text (textContent / text nodes), never as HTML.

export const state = { strings: {}, me: null, tz: 'UTC', lang: 'en', csrf: null, skew: 0 }

/** The station's clock as seen from here (ages are station time minus the row's time). */
export function stationNow() { return Date.now() + state.skew }

export function t(key, vars) {
  let s = state.strings[key]
  if (s === undefined) s = key
  if (vars) for (const k of Object.keys(vars)) s = s.split('{' + k + '}').join(String(vars[k]))
  return s
}

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue
      if (k === 'class') el.className = v
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v)
      else if (k === 'value') el.value = v
      else el.setAttribute(k, v === true ? '' : String(v))
    }
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else if (c instanceof Node) el.appendChild(c)
    else el.appendChild(document.createTextNode(String(c)))
  }
}

/** Replaces el's children (nulls skipped, arrays flattened, text as text nodes). */
export function fill(el, ...children) {
  clear(el)
  append(el, children)
  return el
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild)
  return el
}

let timeFmt = null
/** "2026-12-07 15:27:16" in the station's zone, in every language (no MM/DD vs DD/MM doubt on the desk). */
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '–'
  if (!timeFmt) {
    timeFmt = new Intl.DateTimeFormat('en-US', {
      timeZone: state.tz, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    })
  }
  const p = {}
  for (const part of timeFmt.formatToParts(new Date(ms))) p[part.type] = part.value
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`
}

export function resetFormats() { timeFmt = null }

export function fmtAge(ms) {
  if (ms === null || ms === undefined) return '–'
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return t('age.s', { s })
  const m = Math.floor(s / 60)
  if (m < 60) return t('age.ms', { m, s: String(s % 60).padStart(2, '0') })
  const hr = Math.floor(m / 60)
  if (hr < 48) return t('age.hm', { h: hr, m: String(m % 60).padStart(2, '0') })
  return t('age.d', { d: Math.floor(hr / 24) })
}

/** Offset of `tz` from UTC at instant `ms`, in ms. */
function tzOffset(ms, tz) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(ms))
  const g = (type) => Number(parts.find((p) => p.type === type).value)
  return Date.UTC(g('year'), g('month') - 1, g('day'), g('hour'), g('minute'), g('second')) - Math.floor(ms / 1000) * 1000
}

/** "2026-12-07T08:30" read as a wall time in the station's zone, to epoch ms. */
export function zonedToEpoch(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || '')
  if (!m) return null
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5])
  let epoch = guess - tzOffset(guess, state.tz)
  epoch = guess - tzOffset(epoch, state.tz)
  return epoch
}

export class ApiError extends Error {
  constructor(status, code) { super(code); this.status = status; this.code = code }
}

const listeners = { unauthorized: [] }
export function onUnauthorized(fn) { listeners.unauthorized.push(fn) }

export async function api(path, body) {
  const init = { credentials: 'same-origin', headers: {} }
  if (body !== undefined) {
    init.method = 'POST'
    init.headers['content-type'] = 'application/json'
    if (state.csrf) init.headers['x-csrf-token'] = state.csrf
    init.body = JSON.stringify(body)
  }
  let res
  try { res = await fetch(path, init) } catch { throw new ApiError(0, 'network') }
  let data = null
  try { data = await res.json() } catch { data = null }
  if (res.status === 401 && path !== '/api/login') for (const fn of listeners.unauthorized) fn()
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || 'http_' + res.status)
  return data
}

// Answers that come too late to draw. Live events and the operator's input start requests faster
// than the API answers them, and the answers can come back in any order: drawn as they come, an
// older answer arriving last overwrites a newer one and stays (a post shown pending after its roll
// call closed; seen under load in test/e2e/station-console-browser.test.ts). And every view draws
// into the same <main>: an answer for the view the operator just left must not land in the new one.
let viewEpoch = 0

/** The router calls this when it mounts a view (another, or the same again): answers started before are dropped. */
export function newView() { viewEpoch++ }

/** A check that stays true while the view shown now is shown (until the next newView()). */
export function viewShown() {
  const epoch = viewEpoch
  return () => epoch === viewEpoch
}

/**
 * A generation guard: only the latest started request may draw. `start()` before the request
 * returns `current()`, to ask after every await; it is false once a newer request started from the
 * same guard or the operator left the view (unless `acrossViews`, for page-wide state such as the
 * alarm queue's model). Older answers are dropped, and so are their errors (the newer request
 * reports its own). `drop()` makes every answer in flight stale without starting a new request.
 *
 *   const loading = latestOnly()
 *   const current = loading.start()
 *   try { const r = await api(...); if (!current()) return; draw(r) } catch (err) { if (current()) showError(err) }
 */
export function latestOnly({ acrossViews = false } = {}) {
  let gen = 0
  return {
    start() {
      const mine = ++gen
      const shown = acrossViews ? () => true : viewShown()
      return () => mine === gen && shown()
    },
    drop() { gen++ },
  }
}

export function errorText(err) {
  const code = err && err.code ? err.code : 'unknown'
  const s = state.strings['error.' + code]
  return s !== undefined ? s : t('error.generic', { code })
}

export function can(p) {
  return !!state.me && state.me.permissions.includes(p)
}

export function kindLabel(kind) {
  const s = state.strings['kind.' + kind]
  return s !== undefined ? s : kind
}
