/**
 * Issue 15, the console's HTTP side against the in-memory TEST FAKE of the
 * seam: nothing is anonymous (401), roles (403), CSRF and Origin (403),
 * login throttling (429) and audit, cookie flags, CSV formula escaping,
 * the live feed's catch-up, language negotiation, strings complete.
 */
import t from 'tap'
import { pino } from 'pino'
import { createStationWeb } from '../../../station/web/web-server.js'
import { csvCell } from '../../../station/web/csv.js'
import { negotiateLang } from '../../../station/web/lang.js'
import { clientAddress } from '../../../station/web/http-util.js'
import { STRINGS } from '../../../station/web/i18n/index.js'
import { fakeStation, makeAlert } from './fake-station.js'

async function setup(t: { teardown: (fn: () => unknown) => void }) {
  const f = fakeStation()
  await f.store.addOperator('li.wei', 'operator', 'operator-pw-1', 'zh-CN')
  await f.store.addOperator('maint', 'maintainer', 'maint-pw-123', null)
  const web = createStationWeb({ ...f, timeZone: 'Asia/Shanghai', logger: pino({ level: 'silent' }), loginLimits: { windowMs: 60_000, perUser: 3, perAddress: 10 } })
  const { port } = await web.listen('127.0.0.1', 0)
  t.teardown(() => web.close())
  const base = `http://127.0.0.1:${port}`
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', origin: base, ...headers }, body: JSON.stringify(body) })
  const login = async (name: string, password: string) => {
    const r = await post('/api/login', { name, password })
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]
    const body = await r.json() as { csrf: string }
    return { r, cookie, csrf: body.csrf }
  }
  return { f, base, post, login }
}

t.test('every API route without a session is 401; static page is served', async (t) => {
  const { base, post } = await setup(t)
  for (const p of ['/api/me', '/api/queue', '/api/posts', '/api/posts/a/b', '/api/history', '/api/history.csv', '/api/rollcalls', '/api/rollcalls/x/csv', '/api/rejected', '/api/health', '/api/operators', '/api/audit', '/api/events', '/api/nope']) {
    const r = await fetch(base + p)
    t.equal(r.status, 401, `GET ${p}`)
  }
  for (const p of ['/api/alerts/x/ack', '/api/rollcalls', '/api/posts/a/b/commands', '/api/operators', '/api/logout']) {
    t.equal((await post(p, {})).status, 401, `POST ${p}`)
  }
  const page = await fetch(base + '/', { headers: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } })
  t.equal(page.status, 200)
  const html = await page.text()
  t.match(html, /<html lang="zh-CN"/, 'language from Accept-Language')
  t.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
  t.equal((await fetch(base + '/static/..%2fweb-server.ts')).status, 404, 'no path from the URL reaches the file system')
  t.equal((await fetch(base + '/static/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8')
})

t.test('login: wrong password refused and audited, throttled per user, cookie flags, logout', async (t) => {
  const { f, base, post, login } = await setup(t)
  const bad = await login('li.wei', 'wrong')
  t.equal(bad.r.status, 401)
  t.equal(bad.cookie, '', 'no cookie on failure')
  t.match(f.store.auditList.at(-1), { who: 'li.wei', action: 'login-failed', from: '127.0.0.1' })
  await login('li.wei', 'wrong')
  await login('li.wei', 'wrong')
  const limited = await login('li.wei', 'operator-pw-1')
  t.equal(limited.r.status, 429, 'the right password is not even checked once throttled')
  t.ok(Number(limited.r.headers.get('retry-after')) > 0)
  t.match(f.store.auditList.at(-1), { action: 'login-throttled' })

  await f.store.addOperator('zhang', 'supervisor', 'super-pw-123', 'en')
  const ok = await login('zhang', 'super-pw-123')
  t.equal(ok.r.status, 200)
  const setCookie = ok.r.headers.get('set-cookie') ?? ''
  t.match(setCookie, /HttpOnly/)
  t.match(setCookie, /SameSite=Strict/)
  t.match(f.store.auditList.at(-1), { who: 'zhang', action: 'login', from: '127.0.0.1' })
  const token = ok.cookie.split('=')[1]
  t.notOk(f.store.sessions.has(token), 'the store keeps a hash, not the token')
  t.equal(f.store.sessions.size, 1)
  const me = await fetch(base + '/api/me', { headers: { cookie: ok.cookie } })
  t.match(await me.json(), { name: 'zhang', role: 'supervisor', timeZone: 'Asia/Shanghai', lang: 'en' })
  t.equal((await post('/api/logout', {}, { cookie: ok.cookie, 'x-csrf-token': ok.csrf })).status, 200)
  t.equal((await fetch(base + '/api/me', { headers: { cookie: ok.cookie } })).status, 401, 'the session is gone')
})

t.test('CSRF token and Origin required on every POST; roles enforced; ack carries the operator', async (t) => {
  const { f, base, post, login } = await setup(t)
  const a = makeAlert()
  f.store.alertsById.set(a.id, a)
  const op = await login('li.wei', 'operator-pw-1')
  const path = `/api/alerts/${encodeURIComponent(a.id)}/ack`
  t.equal((await post(path, {}, { cookie: op.cookie })).status, 403, 'no CSRF token')
  t.equal((await post(path, {}, { cookie: op.cookie, 'x-csrf-token': 'x'.repeat(43) })).status, 403, 'wrong CSRF token')
  t.equal((await post(path, {}, { cookie: op.cookie, 'x-csrf-token': op.csrf, origin: 'http://evil.example' })).status, 403, 'foreign Origin')
  const noOrigin = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', cookie: op.cookie, 'x-csrf-token': op.csrf }, body: '{}' })
  t.equal(noOrigin.status, 403, 'no Origin or Referer')
  const form = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base, cookie: op.cookie, 'x-csrf-token': op.csrf }, body: 'note=x' })
  t.equal(form.status, 415, 'form posts refused')
  t.equal(f.store.alertsById.get(a.id)!.ackAt, null, 'nothing acknowledged so far')
  const ok = await post(path, { note: 'patrol sent' }, { cookie: op.cookie, 'x-csrf-token': op.csrf })
  t.equal(ok.status, 200)
  t.match(f.store.alertsById.get(a.id), { ackBy: 'li.wei', ackNote: 'patrol sent' })
  t.match(f.store.auditList.at(-1), { who: 'li.wei', action: 'ack', target: a.id, from: '127.0.0.1' })

  const m = await login('maint', 'maint-pw-123')
  t.equal((await post(path, {}, { cookie: m.cookie, 'x-csrf-token': m.csrf })).status, 403, 'maintainer cannot ack')
  t.equal((await fetch(base + '/api/queue', { headers: { cookie: m.cookie } })).status, 403, 'maintainer sees no alarm queue')
  t.equal((await fetch(base + '/api/posts', { headers: { cookie: m.cookie } })).status, 200, 'maintainer sees fleet health')
  t.equal((await fetch(base + '/api/operators', { headers: { cookie: op.cookie } })).status, 403, 'operator cannot manage users')
  t.equal((await post('/api/operators', { name: 'x', role: 'supervisor', password: 'p'.repeat(12) }, { cookie: op.cookie, 'x-csrf-token': op.csrf })).status, 403)
  t.equal((await post('/api/posts/test-city/kiosk-001/commands', { name: 'rm -rf' }, { cookie: op.cookie, 'x-csrf-token': op.csrf })).status, 400, 'unknown command')
  t.equal((await post('/api/posts/test-city/kiosk-001/commands', { name: 'lamp-test' }, { cookie: op.cookie, 'x-csrf-token': op.csrf })).status, 200)
  t.match(f.actions.commands.at(-1), { by: 'li.wei', name: 'lamp-test' })
})

t.test('history CSV escapes formula injection; store down is 503, not a crash', async (t) => {
  const { f, base, login } = await setup(t)
  const a = makeAlert({ label: '=HYPERLINK("http://evil","x")', location: '+1 floor', rssi: -67 })
  f.store.alertsById.set(a.id, a)
  const op = await login('li.wei', 'operator-pw-1')
  const r = await fetch(base + '/api/history.csv', { headers: { cookie: op.cookie } })
  t.equal(r.status, 200)
  t.match(r.headers.get('content-disposition') ?? '', /attachment/)
  const text = await r.text()
  t.match(text, /"'=HYPERLINK\(""http:\/\/evil"",""x""\)"/)
  t.match(text, /"'\+1 floor"/)
  t.equal(csvCell('@SUM(A1)'), `"'@SUM(A1)"`)
  t.equal(csvCell('-2+3'), `"'-2+3"`)
  t.equal(csvCell(-67), '-67', 'numbers unchanged')
  t.equal(csvCell('plain'), 'plain')
  f.store.down = true
  const down = await fetch(base + '/api/queue', { headers: { cookie: op.cookie } })
  t.equal(down.status, 503, 'the store is unreachable: say so')
  t.same(await down.json(), { error: 'store_unavailable' })
  f.store.down = false
  t.equal((await fetch(base + '/api/queue', { headers: { cookie: op.cookie } })).status, 200, 'and recover when it is back')
})

t.test('live feed: Last-Event-ID replays what was missed; too far behind says reload', async (t) => {
  const { f, base, login } = await setup(t)
  const op = await login('li.wei', 'operator-pw-1')
  for (let i = 0; i < 3; i++) f.live.emit({ type: 'alert', alert: makeAlert() })
  const read = async (headers: Record<string, string>, until: RegExp) => {
    const ac = new AbortController()
    const r = await fetch(base + '/api/events', { headers: { cookie: op.cookie, ...headers }, signal: ac.signal })
    const reader = r.body!.getReader()
    let text = ''
    while (!until.test(text)) text += new TextDecoder().decode((await reader.read()).value)
    ac.abort()
    return text
  }
  const caught = await read({ 'last-event-id': '1' }, /event: caughtup/)
  t.match(caught, /id: 2\n/)
  t.match(caught, /id: 3\n/)
  t.notMatch(caught, /id: 1\n/)
  t.match(await read({}, /event: hello/), /"lastSeq":3/)
  t.match(await read({ 'last-event-id': '99' }, /event: reload/), /reload/, 'a seq from another instance: reload')
})

t.test('a supervisor adds an operator (audited), who can then log in', async (t) => {
  const { f, base, post, login } = await setup(t)
  await f.store.addOperator('zhang', 'supervisor', 'super-pw-123', null)
  const s = await login('zhang', 'super-pw-123')
  const h = { cookie: s.cookie, 'x-csrf-token': s.csrf }
  t.equal((await post('/api/operators', { name: 'chen', role: 'operator', password: 'short' }, h)).status, 400, 'weak password refused')
  t.equal((await post('/api/operators', { name: '<b>', role: 'operator', password: 'long-enough-pw' }, h)).status, 400, 'odd name refused')
  t.equal((await post('/api/operators', { name: 'chen', role: 'root', password: 'long-enough-pw' }, h)).status, 400, 'unknown role refused')
  t.equal((await post('/api/operators', { name: 'chen', role: 'operator', password: 'long-enough-pw', lang: 'zh-CN' }, h)).status, 200)
  t.match(f.store.auditList.at(-1), { who: 'zhang', action: 'operator-added', target: 'chen' })
  t.equal((await post('/api/operators', { name: 'chen', role: 'operator', password: 'long-enough-pw' }, h)).status, 409, 'no duplicates')
  const c = await login('chen', 'long-enough-pw')
  t.match(await (await fetch(base + '/api/me', { headers: { cookie: c.cookie } })).json(), { name: 'chen', lang: 'zh-CN' })
  const audit = await (await fetch(base + '/api/audit', { headers: { cookie: s.cookie } })).json() as { audit: unknown[] }
  t.ok(audit.audit.length >= 3, 'the supervisor reads the audit log')
})

t.test('client address: X-Forwarded-For only when the proxy is trusted', async (t) => {
  const req = { socket: { remoteAddress: '127.0.0.1' }, headers: { 'x-forwarded-for': '6.6.6.6, 10.1.2.3' } } as unknown as Parameters<typeof clientAddress>[0]
  t.equal(clientAddress(req), '127.0.0.1', 'a header a browser can write is not trusted by default')
  t.equal(clientAddress(req, true), '10.1.2.3', 'behind our proxy: the hop it appended')
})

t.test('languages: negotiation and complete string tables', async (t) => {
  t.equal(negotiateLang('zh-TW,zh;q=0.9'), 'zh-CN')
  t.equal(negotiateLang('en-GB,en;q=0.9,zh;q=0.8'), 'en')
  t.equal(negotiateLang('fr-FR,zh;q=0.5'), 'zh-CN')
  t.equal(negotiateLang(undefined), 'en')
  t.same(Object.keys(STRINGS['zh-CN']).sort(), Object.keys(STRINGS.en).sort(), 'every key in both languages')
})
