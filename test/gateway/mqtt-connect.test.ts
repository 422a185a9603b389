/**
 * mqttConnect hands mqtt.js a no-op logger unless DEBUG is set (issue 13 §1: its disabled `debug`
 * calls cost ~12 µs per alert), and never overrides a logger the caller passes.
 */
import t from 'tap'
import { mqttConnect } from '../../gateway/mqtt-connect.js'

// manualConnect: the client is built, nothing is opened.
const built = (opts: Record<string, unknown>) => mqttConnect('mqtt://127.0.0.1:1', { manualConnect: true, ...opts })

t.test('no DEBUG: a no-op logger; DEBUG set: mqtt.js\'s own; a caller\'s logger is kept', async (t) => {
  const saved = process.env.DEBUG
  t.teardown(() => { if (saved === undefined) delete process.env.DEBUG; else process.env.DEBUG = saved })
  delete process.env.DEBUG
  const quiet = built({})
  t.equal(quiet.options.log?.name, 'quietLog')
  process.env.DEBUG = 'mqttjs*'
  const loud = built({})
  t.not(loud.options.log?.name, 'quietLog', 'DEBUG=mqttjs* still shows mqtt.js\'s debug output')
  const mine = (): void => {}
  t.equal(built({ log: mine }).options.log, mine)
})
