// Roll call: start one for all posts or one group with a deadline; per post
// who answered and after how long, who did not by the deadline, who was
// offline; CSV export.
import { api, can, clear, errorText, fmtTime, h, latestOnly, stationNow, t, fill, viewShown } from './dom.js'

let mount = null
/** True while the roll call view mounted last is the one shown. */
let shown = () => false
let shownId = null
let timer = null
// Live events start refreshes faster than the API answers them: only the latest draws (dom.js latestOnly).
const refreshing = latestOnly()
const mounting = latestOnly()

export function applyRollCallLive(e) {
  if (e.type === 'rollcall' && shown()) {
    if (!shownId) shownId = e.id
    refresh()
  }
}

export async function mountRollCall(main) {
  mount = main
  shown = viewShown()
  const current = mounting.start()
  if (timer) clearInterval(timer)
  timer = setInterval(() => { if (!shown()) { clearInterval(timer); timer = null } else tickCountdown() }, 1000)
  let groups = []
  let sites = []
  try {
    const posts = (await api('/api/posts')).posts
    groups = [...new Set(posts.map((p) => p.group).filter((g) => g))].sort()
    sites = [...new Set(posts.map((p) => p.site))].sort()
  } catch { /* the list still works */ }
  // The operator went on to another view meanwhile: it owns <main> now.
  if (!current()) return
  const scope = h('select', { id: 'rollcall-scope' }, h('option', { value: '' }, t('rollcall.allPosts')),
    groups.map((g) => h('option', { value: 'group:' + g }, t('rollcall.group', { group: g }))),
    sites.length > 1 ? sites.map((s) => h('option', { value: 'site:' + s }, t('rollcall.site', { site: s }))) : null)
  const deadline = h('input', { type: 'number', id: 'rollcall-deadline', min: '5', max: '3600', value: '60' })
  const msg = h('span', { class: 'status', id: 'rollcall-status' })
  const form = h('form', { class: 'toolbar', id: 'rollcall-form' },
    h('label', null, t('rollcall.scope'), ' ', scope), h('label', null, t('rollcall.deadline'), ' ', deadline),
    h('button', { type: 'submit' }, t('rollcall.start')), msg)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    msg.textContent = ''
    try {
      const [kind, ...rest] = scope.value.split(':')
      const value = rest.join(':') || null
      const r = await api('/api/rollcalls', { group: kind === 'group' ? value : null, site: kind === 'site' ? value : null, deadlineS: Number(deadline.value) })
      shownId = r.id
      await refresh()
    } catch (err) { msg.textContent = errorText(err) }
  })
  fill(main, can('alarms:act') ? form : null, h('div', { id: 'rollcall-list' }), h('div', { id: 'rollcall-detail' }))
  await refresh()
}

async function refresh() {
  if (!mount || !shown()) return
  const list = mount.querySelector('#rollcall-list')
  const detail = mount.querySelector('#rollcall-detail')
  if (!list || !detail) return
  // An older answer (a post still pending) drawn over a newer one (missed at the deadline) would stay:
  // no further event comes.
  const current = refreshing.start()
  try {
    const { rollCalls } = await api('/api/rollcalls')
    if (!current()) return
    if (!shownId && rollCalls[0]) shownId = rollCalls[0].id
    fill(list, h('table', { class: 'rollcalls' },
      h('thead', null, h('tr', null, ['rollcall.started', 'rollcall.by', 'rollcall.scope', 'rollcall.answered', 'rollcall.missed', 'rollcall.offline', 'rollcall.pending'].map((k) => h('th', null, t(k))))),
      h('tbody', null, rollCalls.map((rc) => h('tr', { class: rc.id === shownId ? 'selected' : '', onclick: () => { shownId = rc.id; refresh() } },
        h('td', null, fmtTime(rc.startedAt)), h('td', null, rc.by), h('td', null, scopeText(rc.scope)),
        ['answered', 'missed', 'offline', 'pending'].map((s) => h('td', { class: 'num' }, String(rc.entries.filter((e) => e.state === s).length))))))))
    const rc = shownId ? rollCalls.find((r) => r.id === shownId) || (await api('/api/rollcalls/' + encodeURIComponent(shownId))).rollCall : null
    if (!current()) return
    clear(detail)
    if (rc) detail.append(rollCallDetail(rc))
  } catch (err) { if (current()) fill(list, h('p', { class: 'error' }, errorText(err))) }
}

function scopeText(s) {
  if (s.group) return t('rollcall.group', { group: s.group })
  if (s.site) return t('rollcall.site', { site: s.site })
  return t('rollcall.allPosts')
}

function rollCallDetail(rc) {
  const order = { missed: 0, offline: 1, pending: 2, answered: 3 }
  const entries = [...rc.entries].sort((a, b) => order[a.state] - order[b.state] || a.post.localeCompare(b.post))
  return h('section', { 'data-rollcall': rc.id },
    h('h3', null, t('rollcall.title', { at: fmtTime(rc.startedAt) }), ' ', h('span', { class: 'countdown', 'data-deadline': String(rc.deadline) }), ' ',
      h('a', { class: 'button', id: 'rollcall-csv', href: `/api/rollcalls/${encodeURIComponent(rc.id)}/csv`, download: '' }, t('history.csv'))),
    h('table', { class: 'rollcall-entries' },
      h('thead', null, h('tr', null, ['history.post', 'history.site', 'rollcall.state', 'rollcall.answeredBy', 'rollcall.delay'].map((k) => h('th', null, t(k))))),
      h('tbody', null, entries.map((e) => h('tr', { class: 'rc-' + e.state, 'data-post': e.post },
        h('td', null, e.post), h('td', null, e.site), h('td', { class: 'rc-state' }, t('rollcall.state.' + e.state)),
        h('td', null, e.answeredBy || '–'), h('td', { class: 'num' }, e.delayMs === null ? '–' : t('rollcall.seconds', { s: (e.delayMs / 1000).toFixed(1) })))))))
}

function tickCountdown() {
  for (const el of mount.querySelectorAll('.countdown')) {
    const left = Number(el.dataset.deadline) - stationNow()
    el.textContent = left > 0 ? t('rollcall.left', { s: Math.ceil(left / 1000) }) : t('rollcall.closed')
  }
}
