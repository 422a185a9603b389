// The alarm queue's model: rows by id, kept in the order the desk works them
// (unacknowledged first, then priority: panic/duress 0, whistle/SOS 1,
// trouble 2, info 3; then oldest first). Also the new-alarm notice: a WebAudio
// beep (no asset) and a flashing title, both mutable.
import { api, latestOnly, state, t } from './dom.js'

const rows = new Map()
/** Acknowledged rows stay below the open ones for context; only the newest few, so a long shift stays fast. */
const KEEP_ACKED = 30
const changeListeners = []
let muted = localStorage.getItem('shs-muted') === '1'
let audio = null
let flashTimer = null
const baseTitle = () => t('app.title')

export function onQueueChange(fn) { changeListeners.push(fn) }
function changed(newId) { for (const fn of changeListeners) fn(newId) }

export function sortedAlerts() {
  return [...rows.values()].sort((a, b) =>
    (a.ackAt === null ? 0 : 1) - (b.ackAt === null ? 0 : 1) ||
    a.priority - b.priority ||
    (a.ackAt === null ? a.receivedAt - b.receivedAt : b.receivedAt - a.receivedAt))
}

function pruneAcked() {
  const acked = [...rows.values()].filter((a) => a.ackAt !== null).sort((a, b) => b.receivedAt - a.receivedAt)
  for (const a of acked.slice(KEEP_ACKED)) rows.delete(a.id)
}

export function unackedAlarms() {
  let n = 0
  for (const a of rows.values()) if (a.ackAt === null && a.cls === 'alarm') n++
  return n
}

// Reloads on reconnect can overlap: only the latest snapshot replaces the rows. The queue is the
// page's, not a view's: a view change does not drop it.
const loading = latestOnly({ acrossViews: true })
/** Live events that came while the latest snapshot was on its way (null: none on its way). */
let arrivedDuringLoad = null

/**
 * Replaces the rows with the store's snapshot; resolves false (and draws nothing) when a newer load
 * started meanwhile. The snapshot may have been read before a live event that came in the meantime
 * (the feed and the request are two connections): those events are applied again on top, or an
 * alarm raised during the load would vanish from the queue until the next reload.
 */
export async function loadQueue() {
  const latest = loading.start()
  const arrived = []
  arrivedDuringLoad = arrived
  let data
  try {
    data = await api('/api/queue')
  } catch (err) {
    if (!latest()) return false
    arrivedDuringLoad = null
    throw err
  }
  if (!latest()) return false
  arrivedDuringLoad = null
  rows.clear()
  for (const a of data.alerts) rows.set(a.id, a)
  for (const e of arrived) apply(e, { quiet: true })
  pruneAcked()
  changed(null)
  return true
}

/** Applies a live event; returns true when it touched the queue. */
export function applyLive(e) {
  if (arrivedDuringLoad && (e.type === 'alert' || e.type === 'ack')) arrivedDuringLoad.push(e)
  return apply(e, { quiet: false })
}

/** quiet: replayed over a snapshot, the alarm was announced when it first came. */
function apply(e, { quiet }) {
  if (e.type === 'alert') {
    const isNew = !rows.has(e.alert.id)
    rows.set(e.alert.id, e.alert)
    if (quiet) return true
    if (isNew && e.alert.ackAt === null && e.alert.cls === 'alarm') notifyNewAlarm(e.alert)
    changed(isNew ? e.alert.id : null)
    return true
  }
  if (e.type === 'ack') {
    const a = rows.get(e.id)
    if (a) {
      rows.set(e.id, { ...a, ackBy: e.by, ackAt: e.at, ackNote: e.note })
      pruneAcked()
      if (unackedAlarms() === 0) stopFlash()
      changed(null)
    }
    return true
  }
  return false
}

export function isMuted() { return muted }
export function setMuted(m) {
  muted = m
  localStorage.setItem('shs-muted', m ? '1' : '0')
}

/** Browsers allow audio only after a user gesture; the login click or any click unlocks it. */
export function unlockAudio() {
  if (audio) return
  const Ctx = window.AudioContext || window.webkitAudioContext
  if (!Ctx) return
  try { audio = new Ctx() } catch { audio = null }
}

function beep() {
  if (muted || !audio) return
  if (audio.state === 'suspended') audio.resume().catch(() => {})
  const t0 = audio.currentTime
  for (let i = 0; i < 3; i++) {
    const osc = audio.createOscillator()
    const gain = audio.createGain()
    osc.type = 'square'
    osc.frequency.value = 880
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.25)
    gain.gain.exponentialRampToValueAtTime(0.3, t0 + i * 0.25 + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.25 + 0.18)
    osc.connect(gain).connect(audio.destination)
    osc.start(t0 + i * 0.25)
    osc.stop(t0 + i * 0.25 + 0.2)
  }
}

function notifyNewAlarm(a) {
  beep()
  document.body.dataset.lastBeep = String(Date.now())
  if (flashTimer) return
  let on = false
  flashTimer = setInterval(() => {
    on = !on
    document.title = on ? '\u26a0 ' + t('queue.newAlarm', { post: a.post }) : baseTitle()
  }, 700)
}

export function stopFlash() {
  if (flashTimer) clearInterval(flashTimer)
  flashTimer = null
  document.title = baseTitle()
}

// The operator has seen it once they touch the page.
window.addEventListener('keydown', () => { if (flashTimer && document.hasFocus()) stopFlash() })
window.addEventListener('click', () => { unlockAudio(); if (flashTimer) stopFlash() })
