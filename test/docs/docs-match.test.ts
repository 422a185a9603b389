/**
 * Issue 14 §4: the docs match the behaviour. Every counter the gateway state
 * carries (with a group, so the group_* ones too) and every count a driver
 * keeps is in docs/operations.md; every alert kind the schema allows is in
 * docs/protocol.md.
 */
import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { testGateway } from '../harness/test-gateway.js'

// Loading the modules alone takes seconds on a loaded 2-core machine.
t.setTimeout(60_000)

const root = fileURLToPath(new URL('../../', import.meta.url))
const doc = (name: string) => readFileSync(join(root, 'docs', name), 'utf8')

t.test('every gateway-state counter is in docs/operations.md', async (t) => {
  const { gw, cleanup } = await testGateway({ extra: { group_fanout: { peers: [{ post: 'kiosk-002', url: 'mqtt://127.0.0.1:1' }], username: 'kiosk-001' } }, groupPassword: 'pw' })
  t.teardown(cleanup)
  const counters = Object.keys((gw.gatewayState() as { counters: Record<string, number> }).counters)
  t.ok(counters.some((c) => c.startsWith('group_')), 'the group counters are included')
  const ops = doc('operations.md')
  for (const c of counters) t.match(ops, new RegExp(`\`${c}\``), `${c} is documented`)
})

t.test('every driver count is in docs/operations.md', async (t) => {
  const names = new Set<string>()
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts')) {
        const src = readFileSync(p, 'utf8')
        // count(dev, 'name') / count('name') / the ModbusErrorCounter union / a ternary choosing a name
        for (const m of src.matchAll(/count\((?:[\w.]+, )?'([a-z_]+)'|'((?:ble|modbus)_[a-z_]+)'(?= :| \||$|\s*$)/gm)) names.add(m[1] ?? m[2])
        for (const m of src.matchAll(/\? '(ble_[a-z_]+)' : '(ble_[a-z_]+)'/g)) { names.add(m[1]); names.add(m[2]) }
        for (const m of src.matchAll(/ModbusErrorCounter = (.*)/g)) for (const x of m[1].matchAll(/'([a-z_]+)'/g)) names.add(x[1])
      }
    }
  }
  walk(join(root, 'devices'))
  t.ok(names.size >= 15, `found ${names.size} driver counts: ${[...names].join(', ')}`)
  const ops = doc('operations.md')
  for (const n of names) t.match(ops, new RegExp(`\`${n}\``), `${n} is documented`)
})

t.test('every alert kind the schema allows is in docs/protocol.md', async (t) => {
  const schema = JSON.parse(readFileSync(join(root, 'protocols/mqtt/schemas/alert.schema.json'), 'utf8')) as { properties: { kind: { enum: string[] } } }
  const kinds = schema.properties.kind.enum
  t.ok(kinds.length >= 20)
  const alertSection = doc('protocol.md').split('## Alert')[1].split('\n## ')[0]
  for (const k of kinds) t.match(alertSection, new RegExp(`\`${k}\``), `${k} is in protocol.md §Alert`)
})
