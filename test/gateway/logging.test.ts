import t from 'tap'
import { Writable } from 'node:stream'
import { createLogger } from '../../gateway/logging.js'
import { urlForLog } from '../../gateway/log-url.js'

function capture() {
  const lines: string[] = []
  const destination = new Writable({ write(chunk, _e, cb) { lines.push(chunk.toString()); cb() } })
  return { lines, destination: destination as unknown as NodeJS.WritableStream & { write: (s: string) => boolean } }
}

t.test('JSON lines, constant messages, one child logger per component, secrets redacted', async (t) => {
  const { lines, destination } = capture()
  const log = createLogger({ level: 'info', format: 'json', destination })
  const uplink = log.child({ component: 'uplink' })
  uplink.info({ station_password: 'hunter2', password: 'pw1', ble_keys: { w: '00112233445566778899aabbccddeeff' }, user: { password: 'pw2' }, id: 'a:b:1' }, 'alert acknowledged by the station')
  await new Promise((r) => setImmediate(r))
  t.equal(lines.length, 1)
  const rec = JSON.parse(lines[0])
  t.equal(rec.msg, 'alert acknowledged by the station', 'the message is constant; data is in fields')
  t.equal(rec.component, 'uplink', 'child logger names its component')
  t.equal(rec.id, 'a:b:1')
  for (const secret of ['hunter2', 'pw1', 'pw2', '00112233445566778899aabbccddeeff']) t.notOk(lines[0].includes(secret), `"${secret}" never reaches the log`)
  t.match(lines[0], /\[redacted\]/)
})

t.test('a password written into a URL is not logged', async (t) => {
  t.equal(urlForLog('mqtts://gw-17:s3cret@station.example:8883'), 'mqtts://gw-17:[redacted]@station.example:8883')
  t.equal(urlForLog('mqtt://127.0.0.1:1883'), 'mqtt://127.0.0.1:1883', 'a host:port is not a password')
  t.equal(urlForLog(null), null)
})
