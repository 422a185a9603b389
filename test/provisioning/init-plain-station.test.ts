/**
 * Issue 16 §1: station.require_tls is on by default. A technician who gives
 * `init` a plain mqtt:// station on the network gets a config that says so
 * (require_tls: false, with a comment) and still passes validation; an
 * mqtts:// or on-the-Pi station gets no such line.
 */
import t from 'tap'
import { renderConfig } from '../../provisioning/init/config-text.js'
import type { InitAnswers } from '../../provisioning/init/init-answers.js'
import { parseConfig } from '../../gateway/config/load-config.js'

const answers = (url: string): InitAnswers => ({
  site: 'sh-huangpu', post: 'kiosk-017', post_type: 'safety_house', group: null, data_dir: '/var/lib/safehouse',
  broker: { host: '127.0.0.1', port: 1883, users: [] },
  station: { url, username: null, ca_file: null, cert_file: null, key_file: null },
})
const meta = { configFile: '/etc/safehouse/config.yaml', secretsFile: '/etc/safehouse/secrets.yaml', how: 'test', date: new Date(0) }

t.test('plain MQTT off the Pi: require_tls: false written, config valid', async (t) => {
  const text = renderConfig(answers('mqtt://10.0.0.5:1883'), meta)
  t.match(text, /\n {2}require_tls: false {4}# plain MQTT: only inside a VPN/)
  const c = parseConfig(text, 'init.yaml')
  t.equal(c.station.require_tls, false)
})

t.test('TLS, or a broker on the Pi itself: nothing added, require_tls stays on', async (t) => {
  for (const url of ['mqtts://station.example.city:8883', 'mqtt://127.0.0.1:1883']) {
    const text = renderConfig(answers(url), meta)
    t.notMatch(text, /require_tls/, url)
    t.equal(parseConfig(text, 'init.yaml').station.require_tls, true, url)
  }
})
