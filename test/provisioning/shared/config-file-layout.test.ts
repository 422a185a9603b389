/**
 * Issue 14 §2: `pair` keeps the config readable. `safehouse init` writes
 * `devices: []`; devices added to it must come out one block each, not as one
 * flow line holding every device.
 */
import t from 'tap'
import { parseDocument } from 'yaml'
import { addDevice, configText } from '../../../provisioning/shared/config-file.js'
import { parseConfig } from '../../../gateway/config/load-config.js'

// Loading the modules alone takes seconds on a loaded 2-core machine.
t.setTimeout(60_000)

const device = (i: number) => ({ id: `button-${i}`, kind: 'panic-button', driver: 'sim', pin: 2 + i, label: `Button ${i}`, location: 'a location long enough to make a flow line very long indeed' })

t.test('devices added to init\'s empty flow list become one block each', async (t) => {
  const doc = parseDocument('site: s1\npost: p1\n# devices are added by `safehouse pair`\ndevices: []\n')
  for (let i = 0; i < 5; i++) addDevice(doc, device(i))
  const text = configText(doc)
  const longest = Math.max(...text.split('\n').map((l) => l.length))
  t.ok(longest <= 100, `no line over 100 characters (longest ${longest})`)
  t.equal(text.match(/^ {2}- id: button-\d$/gm)?.length, 5, 'each device starts its own block')
  t.match(text, /# devices are added by `safehouse pair`/, 'comments survive')
  t.equal(parseConfig(text, 'c.yaml').devices.length, 5, 'still a valid config')
})

t.test('a hand-written flow entry stays one line; a replaced one becomes a block', async (t) => {
  const doc = parseDocument('site: s1\npost: p1\ndevices:\n  - { id: button-0, kind: panic-button, driver: sim }\n  - { id: button-1, kind: panic-button, driver: sim }\n')
  addDevice(doc, device(1), true)
  addDevice(doc, device(2))
  const text = configText(doc)
  t.match(text, /^ {2}- \{ id: button-0, kind: panic-button, driver: sim \}$/m)
  t.match(text, /^ {2}- id: button-1\n {4}kind: panic-button/m)
  t.equal(parseConfig(text, 'c.yaml').devices.length, 3)
})
