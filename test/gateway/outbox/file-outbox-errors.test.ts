/**
 * Disk trouble (issue 6 §6: a full disk or read-only data directory -> a
 * clear error, and alerts still fan out locally) and the outbox's own bounds.
 * Faults are injected through the FileOutbox file-system seam.
 */
import t from 'tap'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FileOutbox } from '../../../gateway/outbox/file-outbox.js'
import { OutboxOpenError } from '../../../gateway/outbox/outbox-fs.js'
import { alertRecordBytes } from '../../../gateway/outbox/outbox-log-format.js'
import { type TapTest, alert, collect } from './conformance.js'
import { FaultyFs, captureLog, fsError, openFileOutbox, openWithAlerts, silent, tmpDir } from './outbox-test-kit.js'

const ids = (seqs: number[]): string[] => seqs.map((i) => alert(i).id)
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i)
const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

async function openError(t: TapTest, o: FileOutbox): Promise<OutboxOpenError> {
  try {
    await o.open()
  } catch (e) {
    t.type(e, OutboxOpenError)
    return e as OutboxOpenError
  }
  throw new Error('open() should have failed')
}

t.test('open() in a directory that cannot exist: clear error naming the path and the setting', async (t) => {
  const base = tmpDir(t)
  writeFileSync(join(base, 'not-a-dir'), '')
  const dir = join(base, 'not-a-dir', 'outbox')
  const e = await openError(t, new FileOutbox({ dir, log: silent }))
  t.match(e.message, dir)
  t.match(e.message, 'data_dir')
  t.equal(e.code, 'ENOTDIR')
})

t.test('open() on a read-only file system: clear error', async (t) => {
  const fs = new FaultyFs()
  fs.failOpen = 'EROFS'
  const dir = tmpDir(t)
  const e = await openError(t, new FileOutbox({ dir, log: silent, fs }))
  t.equal(e.problem, 'read-only')
  t.match(e.message, `read-only file system (EROFS) opening the log in ${dir}`)
  t.match(e.message, 'dmesg')
})

t.test('open() without permission: clear error', async (t) => {
  const fs = new FaultyFs()
  fs.failEnsureDir = 'EACCES'
  const dir = join(tmpDir(t), 'outbox')
  const e = await openError(t, new FileOutbox({ dir, log: silent, fs }))
  t.equal(e.problem, 'permission')
  t.match(e.message, `creating directory ${dir}`)
  t.match(e.message, 'chown')
})

t.test('open() in a real read-only directory (needs a non-root user)', { skip: process.getuid?.() === 0 ? 'running as root: permissions are not enforced' : false }, async (t) => {
  const dir = join(tmpDir(t), 'ro')
  mkdirSync(dir, { mode: 0o500 })
  t.teardown(() => chmodSync(dir, 0o700))
  const e = await openError(t, new FileOutbox({ dir: join(dir, 'outbox'), log: silent }))
  t.equal(e.problem, 'permission')
})

for (const code of ['ENOSPC', 'EROFS']) {
  t.test(`${code} at run time: alerts still reach the listener, counted, logged once, recovers`, async (t) => {
    const fs = new FaultyFs()
    const dir = tmpDir(t)
    const { log, lines } = captureLog()
    const { outbox, c } = await openWithAlerts(t, dir, 1, { fs, log })
    fs.failWrites = code
    for (let i = 2; i <= 11; i++) {
      outbox.append(alert(i))
      if (i % 3 === 0) await tick()
    }
    await c.waitFor(11)
    t.same(c.ids, ids(range(1, 11)), 'every alert went to the listener (local fan-out, uplink)')
    t.equal(outbox.stats().writeErrors, 10)
    const errors = lines.filter((l) => l.level === 50)
    t.equal(errors.length, 1, 'logged once, not per alert or per batch')
    t.match(errors[0], { code, path: join(dir, 'outbox-000001.log') })
    t.match(String(errors[0].advice), code === 'ENOSPC' ? 'disk full' : 'read-only')
    t.match(outbox.problem(), code === 'ENOSPC' ? /disk full/ : /read-only/)
    t.same(outbox.pending().map((e) => e.id), ids(range(1, 11)), 'kept in memory until acked')

    fs.failWrites = null
    for (let i = 12; i <= 14; i++) outbox.append(alert(i))
    await c.waitFor(14)
    t.equal(outbox.problem(), null)
    t.ok(lines.some((l) => l.msg === 'outbox writes work again'))
    await outbox.close()
    const { outbox: again, opened } = await openFileOutbox(t, dir)
    t.same(opened, { recovered: 4, damaged: null }, 'the durable ones; the file is clean')
    t.same(again.pending().map((e) => e.id), ids([1, 12, 13, 14]))
  })
}

t.test('a short write before ENOSPC leaves no damage: the next write goes to the same offset', async (t) => {
  const fs = new FaultyFs()
  const dir = tmpDir(t)
  const { outbox } = await openFileOutbox(t, dir, { fs })
  const c = collect(outbox)
  fs.failWrites = 'ENOSPC'
  fs.partialBytes = 30
  for (let i = 1; i <= 3; i++) outbox.append(alert(i))
  await c.waitFor(3)
  fs.failWrites = null
  outbox.append(alert(4))
  await c.waitFor(4)
  await outbox.close()
  const { opened } = await openFileOutbox(t, dir)
  t.same(opened, { recovered: 1, damaged: null })
})

t.test('max_alerts: beyond it alerts are sent, not stored, counted as full', async (t) => {
  const dir = tmpDir(t)
  const { log, lines } = captureLog()
  const { outbox, c } = await openWithAlerts(t, dir, 8, { maxAlerts: 5, log })
  t.same(c.ids, ids(range(1, 8)))
  t.match(outbox.stats(), { full: 3, writeErrors: 3, depth: 8 })
  t.equal(lines.filter((l) => l.msg.startsWith('outbox full')).length, 1, 'warned once')
  t.match(outbox.problem(), /full/)
  outbox.ack(alert(1).id)
  outbox.ack(alert(2).id)
  outbox.append(alert(9))
  outbox.append(alert(10))
  await c.waitFor(10)
  t.equal(outbox.stats().full, 3, 'room again after acks')
  t.ok(lines.some((l) => l.msg === 'outbox has room again'))
  await outbox.close()
  const { outbox: again } = await openFileOutbox(t, dir)
  t.same(again.pending().map((e) => e.id), ids([3, 4, 5, 9, 10]))
})

t.test('max_bytes bounds the stored records', async (t) => {
  const a = alert(1)
  const rec = alertRecordBytes(a.id, a.device, a.topic, a.payload)
  const { outbox } = await openWithAlerts(t, tmpDir(t), 5, { maxBytes: rec * 3 + 2 })
  t.match(outbox.stats(), { full: 2, liveBytes: rec * 3 })
})

t.test('an alert too large to frame is still delivered, counted', async (t) => {
  const { outbox } = await openFileOutbox(t, tmpDir(t))
  const c = collect(outbox)
  outbox.append({ ...alert(1), id: 'x'.repeat(70_000) })
  outbox.append(alert(2))
  await c.waitFor(2)
  t.match(outbox.stats(), { writeErrors: 1, depth: 2 })
})

t.test('compaction failing for lack of space keeps appending to the current segment', async (t) => {
  const fs = new FaultyFs()
  const dir = tmpDir(t)
  const { log, lines } = captureLog()
  const { outbox, c } = await openWithAlerts(t, dir, 10, { fs, log, segmentBytes: 2048 })
  for (let i = 1; i <= 9; i++) outbox.ack(alert(i).id)
  await outbox.drain()
  // New segments cannot be created; appends to the open one still work.
  const origOpen = fs.open.bind(fs)
  fs.open = async (p, m) => { if (m === 'create') throw fsError('ENOSPC'); return origOpen(p, m) }
  for (let i = 11; i <= 30; i++) outbox.append(alert(i))
  await c.waitFor(30)
  t.equal(outbox.stats().writeErrors, 0, 'no alert lost its durability')
  t.ok(lines.some((l) => l.level === 50 && l.code === 'ENOSPC'), 'the failed rotation was reported')
  await outbox.close()
  const { outbox: again } = await openFileOutbox(t, dir)
  t.same(again.pending().map((e) => e.id), ids([10, ...range(11, 30)]))
})

t.test('append after close still reaches the listener (not durable)', async (t) => {
  const { outbox } = await openFileOutbox(t, tmpDir(t))
  await outbox.close()
  const c = collect(outbox)
  outbox.append(alert(1))
  await c.waitFor(1)
  t.equal(outbox.stats().writeErrors, 1)
})
