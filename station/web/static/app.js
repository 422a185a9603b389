// The console's shell: strings, login, navigation, the live feed and the loud
// banners. Views render into <main>; the alarm queue model lives here for the
// whole page so a new alarm beeps whatever view is open.
import { applyLive, isMuted, loadQueue, setMuted, stopFlash, unlockAudio } from './alarm-queue.js'
import { api, can, clear, errorText, h, latestOnly, newView, onUnauthorized, resetFormats, state, t, fill } from './dom.js'
import { startLive, stopLive } from './live.js'
import { mountQueue, queueKey, unmountQueue } from './view-queue.js'
import { mountPosts, mountPost, applyPostLive } from './view-posts.js'
import { mountHistory } from './view-history.js'
import { mountRollCall, applyRollCallLive } from './view-rollcall.js'
import { mountRejected, mountUsers } from './view-admin.js'

const root = document.getElementById('root')
const banners = document.getElementById('banners')
let main = null
let current = null
const bannerState = { db: true, broker: true, live: true }
// A second login submit, or the session expiring while /api/me is on its way: only the latest boot goes on.
const booting = latestOnly({ acrossViews: true })

async function loadStrings(lang) {
  const res = await fetch(`/i18n/${lang}.json`)
  state.strings = await res.json()
  state.lang = lang
  document.documentElement.lang = lang
  resetFormats()
  document.title = t('app.title')
}

function showLogin(message) {
  booting.drop()
  newView()
  stopLive()
  stopFlash()
  state.me = null
  state.csrf = null
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username', required: true })
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })
  const msg = h('p', { class: 'error', id: 'login-error', role: 'alert' }, message || '')
  const form = h('form', { class: 'login', id: 'login-form' },
    h('h1', null, t('app.title')),
    h('label', null, t('login.name'), name),
    h('label', null, t('login.password'), pass),
    h('button', { type: 'submit' }, t('login.submit')), msg)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    unlockAudio()
    msg.textContent = ''
    try {
      await api('/api/login', { name: name.value, password: pass.value })
      await boot()
    } catch (err) {
      msg.textContent = errorText(err)
      pass.value = ''
    }
  })
  fill(root, form)
  name.focus()
}

onUnauthorized(() => { if (state.me) showLogin(t('login.expired')) })

function renderShell() {
  const me = state.me
  const tabs = [
    ['queue', 'nav.queue', 'alarms:read'], ['posts', 'nav.posts', 'fleet:read'], ['history', 'nav.history', 'alarms:read'],
    ['rollcall', 'nav.rollcall', 'alarms:read'], ['rejected', 'nav.rejected', 'fleet:read'], ['users', 'nav.users', 'users:manage'],
  ].filter(([, , p]) => can(p))
  const mute = h('button', { type: 'button', class: 'mute', id: 'mute', 'aria-pressed': isMuted() ? 'true' : 'false' }, isMuted() ? t('nav.unmute') : t('nav.mute'))
  mute.addEventListener('click', () => {
    setMuted(!isMuted())
    mute.textContent = isMuted() ? t('nav.unmute') : t('nav.mute')
    mute.setAttribute('aria-pressed', isMuted() ? 'true' : 'false')
  })
  const logout = h('button', { type: 'button', id: 'logout' }, t('nav.logout'))
  logout.addEventListener('click', async () => {
    try { await api('/api/logout', {}) } catch { /* the session is gone either way */ }
    showLogin()
  })
  main = h('main', { id: 'main' })
  fill(root, 
    h('header', null,
      h('span', { class: 'brand' }, t('app.title')),
      h('nav', null, tabs.map(([id, key]) => h('a', { href: '#/' + id, 'data-tab': id }, t(key)))),
      h('span', { class: 'who', id: 'who' }, `${me.name} · ${t('role.' + me.role)}`), mute, logout),
    main)
}

function route() {
  if (!state.me || !main) return
  // Whatever the view before still has in flight must not draw into <main> now (dom.js latestOnly).
  newView()
  unmountQueue()
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((p) => { try { return decodeURIComponent(p) } catch { return '' } })
  let view = parts[0] || (can('alarms:read') ? 'queue' : 'posts')
  if (view === 'post' && parts.length >= 3) view = 'post'
  for (const a of root.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === (view === 'post' ? 'posts' : view))
  current = view
  if (view === 'queue' && can('alarms:read')) mountQueue(main)
  else if (view === 'posts') mountPosts(main)
  else if (view === 'post') mountPost(main, parts[1], parts[2])
  else if (view === 'history' && can('alarms:read')) mountHistory(main)
  else if (view === 'rollcall' && can('alarms:read')) mountRollCall(main)
  else if (view === 'rejected') mountRejected(main)
  else if (view === 'users' && can('users:manage')) mountUsers(main)
  else fill(main, h('p', { class: 'empty' }, t('error.forbidden')))
}

export function setBanner(key, ok) {
  bannerState[key] = ok
  clear(banners)
  if (!bannerState.db) banners.append(h('div', { class: 'banner', id: 'banner-db' }, t('banner.db')))
  if (!bannerState.broker) banners.append(h('div', { class: 'banner', id: 'banner-broker' }, t('banner.broker')))
  if (!bannerState.live) banners.append(h('div', { class: 'banner warn', id: 'banner-live' }, t('banner.live')))
}

/** Reload what the views show from the store (after login, or when the feed cannot catch up). */
async function reloadAll() {
  try {
    // false: a newer reload started meanwhile; it routes when its queue is in.
    if (can('alarms:read') && !(await loadQueue())) return
    if (current && current !== 'queue') route()
  } catch (err) {
    if (err.status !== 401) setBanner('db', false)
  }
}

function onLive(e) {
  if (can('alarms:read')) applyLive(e)
  applyPostLive(e)
  applyRollCallLive(e)
  if (e.type === 'db') setBanner('db', e.ok)
  if (e.type === 'rejected' && current === 'rejected') mountRejected(main)
}

async function boot() {
  const latest = booting.start()
  let me
  try { me = await api('/api/me') } catch (err) {
    if (!latest()) return
    if (err.status === 401) { showLogin(); return }
    fill(root, h('p', { class: 'error' }, errorText(err)))
    return
  }
  if (!latest()) return
  state.me = me
  state.csrf = me.csrf
  state.tz = me.timeZone
  state.skew = me.serverNow - Date.now()
  if (me.lang !== state.lang) await loadStrings(me.lang)
  if (!latest()) return
  renderShell()
  setBanner('db', me.health.db)
  setBanner('broker', me.health.broker)
  route()
  startLive({
    onEvent: onLive,
    onHealth: (hh) => { setBanner('db', hh.db); setBanner('broker', hh.broker) },
    onConnected: (ok) => setBanner('live', ok),
    onReload: reloadAll,
    onLogout: () => showLogin(t('login.expired')),
  })
}

window.addEventListener('hashchange', route)
window.addEventListener('keydown', (ev) => {
  if (!state.me || ev.ctrlKey || ev.metaKey || ev.altKey) return
  const tag = ev.target && ev.target.tagName
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return
  if (current === 'queue' && queueKey(ev)) ev.preventDefault()
})

loadStrings(document.documentElement.dataset.lang || 'en').then(boot, (err) => {
  root.textContent = 'safehouse: ' + err
})
