// Rejected payloads (what failed the contract's checks) and, for supervisors,
// operators and the audit log.
import { api, clear, errorText, fmtTime, h, latestOnly, t, fill, viewShown } from './dom.js'

// Only the latest load draws into <main>, and none after the operator left the view (dom.js latestOnly):
// a `rejected` event re-mounts the list each time, and an added operator re-mounts the users.
const rejectedLoad = latestOnly()
const usersLoad = latestOnly()

export async function mountRejected(main) {
  const current = rejectedLoad.start()
  fill(main, h('p', { class: 'loading' }, t('common.loading')))
  try {
    const { rejected } = await api('/api/rejected')
    if (!current()) return
    fill(main, h('table', { class: 'rejected' },
      h('thead', null, h('tr', null, ['rejected.at', 'rejected.topic', 'rejected.reason', 'rejected.excerpt'].map((k) => h('th', null, t(k))))),
      h('tbody', null, rejected.map((r) => h('tr', null, h('td', null, fmtTime(r.at)), h('td', null, r.topic), h('td', null, r.reason), h('td', null, h('code', null, r.excerpt)))))))
    if (rejected.length === 0) main.append(h('p', { class: 'empty' }, t('rejected.none')))
  } catch (err) { if (current()) fill(main, h('p', { class: 'error' }, errorText(err))) }
}

export async function mountUsers(main) {
  const current = usersLoad.start()
  const shown = viewShown()
  const name = h('input', { id: 'user-name', maxlength: '64', required: true })
  const role = h('select', { id: 'user-role' }, ['operator', 'supervisor', 'maintainer'].map((r) => h('option', { value: r }, t('role.' + r))))
  const lang = h('select', { id: 'user-lang' }, h('option', { value: '' }, t('users.langBrowser')), h('option', { value: 'zh-CN' }, '中文'), h('option', { value: 'en' }, 'English'))
  const pass = h('input', { id: 'user-password', type: 'password', minlength: '8', autocomplete: 'new-password', required: true })
  const msg = h('span', { class: 'status' })
  const form = h('form', { class: 'toolbar', id: 'user-form' },
    h('label', null, t('users.name'), ' ', name), h('label', null, t('users.role'), ' ', role), h('label', null, t('users.lang'), ' ', lang),
    h('label', null, t('users.password'), ' ', pass), h('button', { type: 'submit' }, t('users.add')), msg)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    try {
      await api('/api/operators', { name: name.value, role: role.value, lang: lang.value || null, password: pass.value })
      if (shown()) mountUsers(main)
    } catch (err) { msg.textContent = errorText(err) }
  })
  try {
    const [{ operators }, { audit }] = await Promise.all([api('/api/operators'), api('/api/audit')])
    if (!current()) return
    fill(main, form,
      h('table', { class: 'operators' }, h('thead', null, h('tr', null, ['users.name', 'users.role', 'users.lang'].map((k) => h('th', null, t(k))))),
        h('tbody', null, operators.map((o) => h('tr', null, h('td', null, o.name), h('td', null, t('role.' + o.role)), h('td', null, o.lang || '–'))))),
      h('h3', null, t('users.audit')),
      h('table', { class: 'audit' }, h('thead', null, h('tr', null, ['audit.at', 'audit.who', 'audit.action', 'audit.target', 'audit.detail', 'audit.from'].map((k) => h('th', null, t(k))))),
        h('tbody', null, audit.map((a) => h('tr', null, h('td', null, fmtTime(a.at)), h('td', null, a.who), h('td', null, a.action), h('td', null, a.target || '–'), h('td', null, a.detail || '–'), h('td', null, a.from || '–'))))))
  } catch (err) { if (current()) fill(main, h('p', { class: 'error' }, errorText(err))) }
}
