// Posts: every post with online/offline, the age of its last test report
// (flagged silent past interval + grace: the EN 50136 failed path), devices
// missing, low battery, tamper, mains lost, outbox depth; filters by site and
// group; a page per post with devices, recent alerts and commands.
import { api, can, clear, errorText, fmtAge, fmtTime, h, kindLabel, latestOnly, stationNow, t, fill, viewShown } from './dom.js'

let tbody = null
/** True while the list view mounted last is the one shown. */
let listShown = () => false
let posts = []
const filter = { site: '', group: '', problems: false }
let detail = null
const pending = new Map()
// Only the latest request of each kind draws, and none after the operator left the view (dom.js latestOnly).
const listLoad = latestOnly()
const detailLoad = latestOnly()
/** One guard per post row: two events for a post 200 ms apart can be answered out of order. */
const rowLoads = new Map()
/** Posts that changed while the list was on its way (null: it is not): fetched again once it is drawn. */
let changedDuringList = null

const key = (p) => p.site + '\u0000' + p.post

export async function mountPosts(main) {
  detail = null
  tbody = null
  listShown = viewShown()
  const current = listLoad.start()
  const changed = new Set()
  changedDuringList = changed
  fill(main, h('p', { class: 'loading' }, t('common.loading')))
  let list
  try {
    list = (await api('/api/posts')).posts
  } catch (err) {
    if (current()) fill(main, h('p', { class: 'error' }, errorText(err)))
    return
  }
  if (!current()) return
  posts = list
  changedDuringList = null
  renderList(main)
  // The list may have been read before these changes reached the store.
  for (const k of changed) scheduleRow(k)
}

function options(values, selected, allKey) {
  return [h('option', { value: '' }, t(allKey)), ...[...new Set(values)].filter((v) => v).sort().map((v) => h('option', { value: v, selected: v === selected }, v))]
}

function renderList(main) {
  const site = h('select', { id: 'filter-site', 'aria-label': t('posts.site') }, options(posts.map((p) => p.site), filter.site, 'posts.allSites'))
  const group = h('select', { id: 'filter-group', 'aria-label': t('posts.group') }, options(posts.map((p) => p.group), filter.group, 'posts.allGroups'))
  const problems = h('input', { type: 'checkbox', id: 'filter-problems', checked: filter.problems })
  const onChange = () => { filter.site = site.value; filter.group = group.value; filter.problems = problems.checked; fillRows() }
  site.addEventListener('change', onChange)
  group.addEventListener('change', onChange)
  problems.addEventListener('change', onChange)
  // Rows are divs in a grid with content-visibility: auto, so with 2,100 posts
  // the browser lays out only what is on screen (a 2,100-row <table> took ~1 s).
  tbody = h('div', { id: 'posts-body', role: 'rowgroup' })
  fill(main, 
    h('div', { class: 'toolbar' }, h('label', null, t('posts.site'), ' ', site), h('label', null, t('posts.group'), ' ', group),
      h('label', null, problems, ' ', t('posts.problemsOnly')), h('span', { class: 'count', id: 'posts-count' })),
    h('div', { class: 'posts', role: 'table' },
      h('div', { class: 'prow phead', role: 'row' }, ['posts.post', 'posts.site', 'posts.group', 'posts.status', 'posts.lastTest', 'posts.missing', 'posts.lowBattery', 'posts.tamper', 'posts.mains', 'posts.outbox'].map((k) => h('span', { role: 'columnheader' }, t(k)))),
      tbody))
  fillRows()
}

function hasProblem(p) {
  return !p.online || p.testOverdue || p.devicesMissing > 0 || p.lowBattery > 0 || p.tamper > 0 || p.mainsLost > 0
}

function visible(p) {
  return (!filter.site || p.site === filter.site) && (!filter.group || p.group === filter.group) && (!filter.problems || hasProblem(p))
}

function fillRows() {
  const frag = document.createDocumentFragment()
  let n = 0
  for (const p of posts) if (visible(p)) { frag.append(postRow(p)); n++ }
  fill(tbody, frag)
  const c = document.getElementById('posts-count')
  if (c) c.textContent = t('posts.count', { n, total: posts.length })
}

function num(v, bad) {
  return h('span', { class: 'num' + (bad ? ' bad' : ''), role: 'cell' }, v === null ? '–' : String(v))
}

function postRow(p) {
  const now = stationNow()
  return h('div', { 'data-key': key(p), role: 'row', class: 'prow' + (p.online ? '' : ' offline') + (p.testOverdue ? ' silent' : '') },
    h('span', { role: 'cell' }, h('a', { href: `#/post/${encodeURIComponent(p.site)}/${encodeURIComponent(p.post)}` }, p.post)),
    h('span', { role: 'cell' }, p.site), h('span', { role: 'cell' }, p.group || '–'),
    h('span', { role: 'cell', class: p.online ? 'online' : 'bad' }, p.online ? t('posts.online') : t('posts.offline')),
    h('span', { role: 'cell', class: p.testOverdue ? 'bad' : '' }, p.lastTestReportAt === null ? t('posts.never') : fmtAge(now - p.lastTestReportAt), p.testOverdue ? h('span', { class: 'mark' }, t('posts.silent')) : null),
    num(p.devicesMissing, p.devicesMissing > 0), num(p.lowBattery, p.lowBattery > 0), num(p.tamper, p.tamper > 0),
    num(p.mainsLost, p.mainsLost > 0), num(p.outboxDepth, (p.outboxDepth || 0) > 0))
}

/** A post changed: fetch its row (coalesced per post) and redraw it in place. */
export function applyPostLive(e) {
  if (e.type !== 'post') return
  if (detail && detail.shown() && detail.site === e.site && detail.post === e.post) scheduleDetail()
  if (!listShown()) return
  const k = e.site + '\u0000' + e.post
  if (changedDuringList) changedDuringList.add(k)
  else scheduleRow(k)
}

function scheduleRow(k) {
  if (pending.has(k)) return
  const [site, post] = k.split('\u0000')
  pending.set(k, setTimeout(async () => {
    pending.delete(k)
    if (!listShown() || !tbody) return
    if (!rowLoads.has(k)) rowLoads.set(k, latestOnly())
    const current = rowLoads.get(k).start()
    try {
      const r = await api(`/api/posts/${encodeURIComponent(site)}/${encodeURIComponent(post)}`)
      if (!current()) return
      const i = posts.findIndex((p) => key(p) === k)
      if (i >= 0) posts[i] = r.post
      else posts.push(r.post)
      // Not a [data-key=…] selector: CSS.escape turns the key's NUL separator into U+FFFD, so it never
      // matched and every change appended a second row for the post.
      const old = [...tbody.children].find((el) => el.dataset.key === k)
      if (old) old.replaceWith(postRow(r.post))
      else if (visible(r.post)) tbody.append(postRow(r.post))
    } catch { /* the next event or a reload redraws it */ }
  }, 200))
}

let detailTimer = null
function scheduleDetail() {
  if (detailTimer) return
  detailTimer = setTimeout(() => { detailTimer = null; if (detail && detail.shown()) renderDetail(detail) }, 300)
}

export function mountPost(main, site, post) {
  tbody = null
  detail = { main, site, post, result: null, shown: viewShown() }
  renderDetail(detail)
}

async function renderDetail(page) {
  const { main, site, post } = page
  const current = detailLoad.start()
  let r
  try { r = await api(`/api/posts/${encodeURIComponent(site)}/${encodeURIComponent(post)}`) } catch (err) {
    if (current()) fill(main, h('p', { class: 'error' }, errorText(err)))
    return
  }
  if (!current()) return
  const p = r.post
  const result = h('pre', { class: 'result', id: 'command-result' }, page.result || '')
  // The command's answer is kept on its post page, shown again when a live change redraws it.
  const cmd = (name, args, label) => h('button', { type: 'button', 'data-command': name, onclick: async () => {
    page.result = t('post.sending')
    result.textContent = page.result
    try {
      const res = await api(`/api/posts/${encodeURIComponent(site)}/${encodeURIComponent(post)}/commands`, { name, args })
      page.result = t('post.commandOk', { name: label }) + '\n' + JSON.stringify(res.result, null, 2)
    } catch (err) { page.result = errorText(err) }
    const shownNow = page.shown() && main.querySelector('#command-result')
    if (shownNow) shownNow.textContent = page.result
  } }, label)
  fill(main, 
    h('h2', null, p.post, ' ', h('span', { class: 'site' }, p.site), ' ', h('span', { class: p.online ? 'online' : 'bad' }, p.online ? t('posts.online') : t('posts.offline'))),
    h('p', null, t('posts.group'), ': ', p.group || '–', ' · ', t('posts.lastTest'), ': ', p.lastTestReportAt === null ? t('posts.never') : fmtTime(p.lastTestReportAt),
      p.testOverdue ? h('span', { class: 'mark' }, t('posts.silent')) : null, ' · ', t('posts.outbox'), ': ', p.outboxDepth === null ? '–' : String(p.outboxDepth)),
    can('alarms:act') ? h('div', { class: 'commands' },
      cmd('lamp-test', {}, t('post.lampTest')), cmd('walk-test', { on: true }, t('post.walkTestOn')), cmd('walk-test', { on: false }, t('post.walkTestOff')), cmd('silence', {}, t('post.silence'))) : null,
    result,
    h('h3', null, t('post.devices')),
    h('table', { class: 'devices' }, h('thead', null, h('tr', null, ['post.device', 'post.kind', 'post.label', 'post.location', 'post.state', 'post.updated'].map((k) => h('th', null, t(k))))),
      h('tbody', null, r.devices.map((d) => h('tr', null, h('td', null, d.device), h('td', null, d.kind || '–'), h('td', null, d.label || '–'), h('td', null, d.location || '–'),
        h('td', { class: 'state' }, stateSummary(d.state)), h('td', null, fmtTime(d.updatedAt)))))),
    can('alarms:read') ? [h('h3', null, t('post.recentAlerts')), alertTable(r.alerts)] : null)
}

/** The device's retained state, minus what the other columns show and empty fields; times readable. */
const SHOWN = new Set(['v', 'device', 'device_kind', 'label', 'location'])
function stateSummary(s) {
  return Object.entries(s || {})
    .filter(([k, v]) => !SHOWN.has(k) && v !== null && v !== '' && typeof v !== 'object')
    .map(([k, v]) => `${k}=${typeof v === 'number' && /(_seen|_at|_time)$/.test(k) && v > 1e12 ? fmtTime(v) : v}`).join('  ')
}

export function alertTable(alerts) {
  return h('table', { class: 'alerts' },
    h('thead', null, h('tr', null, ['history.time', 'history.post', 'history.device', 'history.kind', 'history.ack'].map((k) => h('th', null, t(k))))),
    h('tbody', null, alerts.map((a) => h('tr', { class: a.cls },
      h('td', null, fmtTime(a.receivedAt)), h('td', null, a.post), h('td', null, a.label || a.device),
      h('td', null, kindLabel(a.kind), a.test ? h('span', { class: 'mark' }, t('mark.test')) : null, a.originPost ? h('span', { class: 'mark' }, t('mark.neighbour', { post: a.originPost })) : null),
      h('td', null, a.ackBy ? t('queue.ackedBy', { by: a.ackBy, at: fmtTime(a.ackAt) }) : '–', a.ackNote ? h('span', { class: 'note' }, a.ackNote) : null)))))
}
