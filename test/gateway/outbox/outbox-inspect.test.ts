import t from 'tap'
import { appendFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { inspectOutbox } from '../../../gateway/outbox/outbox-inspect.js'
import { alert } from './conformance.js'
import { openWithAlerts, tmpDir } from './outbox-test-kit.js'

t.test('inspect reports segments, pending and damage, and changes nothing', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 6)
  outbox.ack(alert(3).id)
  await outbox.close()
  appendFileSync(join(dir, 'outbox-000001.log'), Buffer.from([1, 2, 3]))
  const size = statSync(join(dir, 'outbox-000001.log')).size
  const r = inspectOutbox(dir)
  t.match(r.segments, [{ name: 'outbox-000001.log', kind: 'appended', alerts: 6, acks: 1, damage: [`torn tail: 3 bytes at offset ${size - 3}`] }])
  t.same(r.pending.map((p) => p.id), [1, 2, 4, 5, 6].map((i) => alert(i).id))
  t.equal(statSync(join(dir, 'outbox-000001.log')).size, size, 'file untouched')
  t.same(readdirSync(dir), ['outbox-000001.log'])
})
