// The live feed (Server-Sent Events). EventSource reconnects by itself and
// sends Last-Event-ID; when it gives up (server restarted, 5xx) we open a new
// one with ?last=<id> so the server replays what we missed, or tells us to
// reload from the store when it cannot.
import { api } from './dom.js'

let es = null
let lastId = null
let retry = null
let handlers = null

export function startLive(h) {
  stopLive() // a feed left open would deliver every event twice
  handlers = h
  lastId = null
  open()
}

export function stopLive() {
  handlers = null
  if (retry) clearTimeout(retry)
  retry = null
  if (es) es.close()
  es = null
}

function open() {
  if (!handlers) return
  es = new EventSource('/api/events' + (lastId !== null ? '?last=' + encodeURIComponent(lastId) : ''))
  const mine = es
  es.onmessage = (m) => {
    if (m.lastEventId) lastId = m.lastEventId
    let e
    try { e = JSON.parse(m.data) } catch { return }
    handlers && handlers.onEvent(e)
  }
  es.addEventListener('health', (m) => handlers && handlers.onHealth(JSON.parse(m.data)))
  es.addEventListener('hello', () => { handlers && handlers.onConnected(true); handlers && handlers.onReload() })
  es.addEventListener('reload', () => { handlers && handlers.onConnected(true); handlers && handlers.onReload() })
  es.addEventListener('caughtup', () => handlers && handlers.onConnected(true))
  es.addEventListener('logout', () => { mine.close(); handlers && handlers.onLogout() })
  es.onerror = () => {
    if (!handlers || es !== mine) return
    handlers.onConnected(false)
    if (mine.readyState === EventSource.CLOSED) {
      // EventSource gave up (an HTTP error): is it the session or the server?
      retry = setTimeout(async () => {
        try { await api('/api/me') } catch (err) { if (err.status === 401) return }
        if (es === mine) open()
      }, 1000)
    }
  }
}
