// History: search alerts by site, post, device, kind and time (wall times in
// the station's zone); export what the search finds as CSV.
import { api, clear, errorText, h, latestOnly, t, zonedToEpoch, fill } from './dom.js'
import { alertTable } from './view-posts.js'

const last = { site: '', post: '', device: '', kind: '', from: '', to: '' }
// Two searches in a row can be answered out of order: the results shown are the last search's (dom.js latestOnly).
const searching = latestOnly()

export function mountHistory(main) {
  const inputs = {}
  for (const k of ['site', 'post', 'device', 'kind']) inputs[k] = h('input', { type: 'text', id: 'history-' + k, value: last[k], maxlength: '200' })
  for (const k of ['from', 'to']) inputs[k] = h('input', { type: 'datetime-local', id: 'history-' + k, value: last[k] })
  const out = h('div', { id: 'history-results' })
  const csv = h('a', { class: 'button', id: 'history-csv', href: '#', download: '' }, t('history.csv'))
  const form = h('form', { class: 'toolbar search', id: 'history-form' },
    ['site', 'post', 'device', 'kind', 'from', 'to'].map((k) => h('label', null, t('history.' + k), ' ', inputs[k])),
    h('button', { type: 'submit' }, t('history.search')), csv)
  const query = () => {
    const q = new URLSearchParams()
    for (const k of ['site', 'post', 'device', 'kind']) { last[k] = inputs[k].value.trim(); if (last[k]) q.set(k, last[k]) }
    for (const k of ['from', 'to']) {
      last[k] = inputs[k].value
      const ms = zonedToEpoch(last[k])
      if (ms !== null) q.set(k, String(ms))
    }
    return q
  }
  const search = async () => {
    const q = query()
    csv.href = '/api/history.csv?' + q
    const current = searching.start()
    fill(out, h('p', { class: 'loading' }, t('common.loading')))
    try {
      const r = await api('/api/history?' + q)
      if (!current()) return
      fill(out, h('p', { class: 'count' }, t('history.count', { n: r.alerts.length })), alertTable(r.alerts))
    } catch (err) { if (current()) fill(out, h('p', { class: 'error' }, errorText(err))) }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); search() })
  fill(main, form, out)
  search()
}
