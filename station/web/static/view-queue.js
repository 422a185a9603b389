// The alarm queue: big rows, red for alarms, amber for trouble; a running age
// per row; one click or the `a` key acknowledges (with the optional note);
// arrow keys move the selection.
import { onQueueChange, sortedAlerts } from './alarm-queue.js'
import { api, can, stationNow, clear, errorText, fmtAge, fmtTime, h, kindLabel, t, fill } from './dom.js'

let root = null
let selected = null
let noteInput = null
let statusEl = null
let listEl = null
let tick = null

export function mountQueue(main) {
  root = main
  noteInput = h('input', { type: 'text', id: 'ack-note', maxlength: '500', placeholder: t('queue.notePlaceholder'), 'aria-label': t('queue.note') })
  statusEl = h('div', { class: 'status', role: 'status' })
  listEl = h('div', { class: 'queue', id: 'queue', role: 'listbox', 'aria-label': t('nav.queue') })
  fill(root, 
    h('div', { class: 'toolbar' },
      can('alarms:act') ? h('label', null, t('queue.note'), ' ', noteInput) : null,
      h('span', { class: 'hint' }, t('queue.keys'))),
    statusEl, listEl)
  render()
  tick = setInterval(updateAges, 1000)
}

export function unmountQueue() {
  if (tick) clearInterval(tick)
  tick = null
  root = null
}

// A burst of events (a replay after an outage, a supervisor acknowledging many)
// redraws once per frame, not once per event; a hidden tab redraws at once
// (no frames there), so the queue is current when the operator looks.
let pendingRender = false
onQueueChange(() => {
  if (!root || pendingRender) return
  pendingRender = true
  const run = () => { pendingRender = false; if (root) render() }
  if (document.visibilityState === 'visible') requestAnimationFrame(run)
  else setTimeout(run, 0)
})

function render() {
  const alerts = sortedAlerts()
  if (selected && !alerts.some((a) => a.id === selected)) selected = null
  clear(listEl)
  if (alerts.length === 0) listEl.append(h('p', { class: 'empty' }, t('queue.empty')))
  for (const a of alerts) listEl.append(row(a))
  updateAges()
}

function row(a) {
  const acked = a.ackAt !== null
  const el = h('div', {
    class: `alert ${a.cls}${acked ? ' acked' : ''}${a.id === selected ? ' selected' : ''}${a.test ? ' test' : ''}`,
    role: 'option', 'data-id': a.id, 'aria-selected': a.id === selected ? 'true' : 'false',
    onclick: () => select(a.id),
  },
  h('div', { class: 'kind' }, kindLabel(a.kind)),
  h('div', { class: 'where' },
    h('a', { class: 'post', href: `#/post/${encodeURIComponent(a.site)}/${encodeURIComponent(a.post)}` }, a.post),
    h('span', { class: 'site' }, a.site),
    a.test ? h('span', { class: 'mark test-mark' }, t('mark.test')) : null,
    a.originPost ? h('span', { class: 'mark neighbour-mark' }, t('mark.neighbour', { post: a.originPost })) : null),
  h('div', { class: 'device' },
    h('span', { class: 'label' }, a.label || a.device),
    a.label ? h('span', { class: 'dev-id' }, a.device) : null,
    a.location ? h('span', { class: 'location' }, a.location) : null),
  h('div', { class: 'time' }, h('span', null, fmtTime(a.receivedAt)), h('span', { class: 'age', 'data-since': String(a.receivedAt) }, '')),
  h('div', { class: 'action' }, acked
    ? h('span', { class: 'acked-by' }, t('queue.ackedBy', { by: a.ackBy, at: fmtTime(a.ackAt) }), a.ackNote ? h('span', { class: 'note' }, a.ackNote) : null)
    : can('alarms:act') ? h('button', { class: 'ack', type: 'button', onclick: (ev) => { ev.stopPropagation(); ack(a.id) } }, t('queue.ack')) : null))
  return el
}

function updateAges() {
  if (!listEl) return
  const now = stationNow()
  for (const el of listEl.querySelectorAll('.age')) el.textContent = fmtAge(now - Number(el.dataset.since))
}

function select(id) {
  selected = id
  for (const el of listEl.querySelectorAll('.alert')) {
    const on = el.dataset.id === id
    el.classList.toggle('selected', on)
    el.setAttribute('aria-selected', on ? 'true' : 'false')
    if (on) el.scrollIntoView({ block: 'nearest' })
  }
}

async function ack(id) {
  if (!can('alarms:act')) return
  const note = noteInput.value.trim() || null
  statusEl.textContent = t('queue.acking')
  try {
    await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { note })
    noteInput.value = ''
    statusEl.textContent = ''
  } catch (err) {
    statusEl.textContent = errorText(err)
    statusEl.classList.add('error')
    setTimeout(() => statusEl.classList.remove('error'), 5000)
  }
}

export function queueKey(ev) {
  if (!root) return false
  const alerts = sortedAlerts()
  if (alerts.length === 0) return false
  const i = alerts.findIndex((a) => a.id === selected)
  if (ev.key === 'ArrowDown') { select(alerts[Math.min(alerts.length - 1, i + 1)].id); return true }
  if (ev.key === 'ArrowUp') { select(alerts[Math.max(0, i - 1)].id); return true }
  if (ev.key === 'a' || ev.key === 'A') {
    const target = alerts.find((a) => a.id === selected && a.ackAt === null) || alerts.find((a) => a.ackAt === null)
    if (target) ack(target.id)
    return true
  }
  return false
}
