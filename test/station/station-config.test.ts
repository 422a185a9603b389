/**
 * The station config's web keys reach the service (docs/station.md's table):
 * `web.trust_proxy` is documented there, so it must be a known setting, off
 * by default, and handed to the web server.
 */
import t from 'tap'
import { parseStationConfig } from '../../station/config/load-station-config.js'
import { optionsFromConfig } from '../../station/station-service.js'

const noSecrets = { broker_password: null, store_password: null }

t.test('web.trust_proxy is off by default and reaches the web server when set', async (t) => {
  t.equal(optionsFromConfig(parseStationConfig('broker:\n  url: mqtt://x\n'), noSecrets).web?.trustProxy, false)
  const c = parseStationConfig('broker:\n  url: mqtt://x\nweb:\n  trust_proxy: true\n  secure_cookie: true\n')
  t.match(optionsFromConfig(c, noSecrets).web, { trustProxy: true, secureCookie: true })
})

t.test('a wrong trust_proxy names its line and what it must be', async (t) => {
  t.throws(() => parseStationConfig('broker:\n  url: mqtt://x\nweb:\n  trust_proxy: maybe\n'), /:4  web\.trust_proxy: must be boolean/)
})
