import t from 'tap'
import { copyFileSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { alertRecordBytes, ackRecordBytes } from '../../../gateway/outbox/outbox-log-format.js'
import { alert, collect, outboxConformance } from './conformance.js'
import { openFileOutbox, openWithAlerts, tmpDir } from './outbox-test-kit.js'

outboxConformance(t, 'FileOutbox', async (tt) => (await openFileOutbox(tt, tmpDir(tt))).outbox)

const SEG1 = 'outbox-000001.log'
const ids = (n: number, from = 1): string[] => Array.from({ length: n }, (_, i) => alert(from + i).id)
const recBytes = (seq: number): number => { const a = alert(seq); return alertRecordBytes(a.id, a.device, a.topic, a.payload) }

t.test('close and reopen recovers pending entries, acks applied, in order, fields intact', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 50)
  for (let i = 1; i <= 50; i += 3) outbox.ack(alert(i).id)
  await outbox.close()
  const { outbox: again, opened } = await openFileOutbox(t, dir)
  const want = ids(50).filter((_, i) => i % 3 !== 0)
  t.same(opened, { recovered: want.length, damaged: null })
  const p = again.pending()
  t.same(p.map((e) => e.id), want)
  const a7 = alert(8)
  const e = p.find((x) => x.id === a7.id)!
  t.same({ device: e.device, topic: e.topic, acceptedAt: e.acceptedAt, payload: e.payload.toString(), attempts: e.attempts },
    { device: a7.device, topic: a7.topic, acceptedAt: a7.acceptedAt, payload: a7.payload.toString(), attempts: 0 })
})

t.test('committed alerts survive without close (process died); acks may not, alerts repeat', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 10)
  outbox.ack(alert(1).id)
  await outbox.drain()
  // No close: copy the file as a crash would leave it (acks were written, maybe not synced).
  const crashed = tmpDir(t)
  copyFileSync(join(dir, SEG1), join(crashed, SEG1))
  const { outbox: again } = await openFileOutbox(t, crashed)
  t.same(again.pending().map((e) => e.id), ids(9, 2))
})

t.test('a torn last record, cut at every byte, loses only that record', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 5)
  await outbox.close()
  const whole = readFileSync(join(dir, SEG1))
  const lastStart = whole.length - recBytes(5)
  for (let cut = lastStart; cut < whole.length; cut++) {
    const d = tmpDir(t)
    writeFileSync(join(d, SEG1), whole.subarray(0, cut))
    const { outbox: o, opened } = await openFileOutbox(t, d)
    const damage = cut === lastStart ? null : `truncated ${cut - lastStart} bytes at offset ${lastStart} in ${SEG1}`
    if (opened.recovered !== 4 || opened.damaged !== damage) {
      t.fail(`cut at ${cut}`, { opened, damage })
      return
    }
    if (o.pending().map((e) => e.id).join() !== ids(4).join()) { t.fail(`pending after cut at ${cut}`); return }
    await o.close()
    if (statSync(join(d, SEG1)).size !== lastStart) { t.fail(`file not cut back at ${cut}`); return }
  }
  t.pass(`every cut in [${lastStart}, ${whole.length}) recovers 4 of 5`)
})

t.test('after recovery from a torn tail, new records follow the last whole one', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 3)
  outbox.ack(alert(2).id)
  await outbox.close()
  const size = statSync(join(dir, SEG1)).size
  truncateSync(join(dir, SEG1), size - 3) // the ack tombstone is torn: alert 2 comes back
  const { outbox: o, opened } = await openFileOutbox(t, dir)
  t.equal(opened.recovered, 3, 'a lost ack repeats the alert with the same id')
  t.match(opened.damaged, new RegExp(`truncated ${ackRecordBytes(alert(2).id) - 3} bytes at offset \\d+ in ${SEG1}`))
  const c2 = collect(o)
  o.append(alert(4))
  await c2.waitFor(1)
  await o.close()
  const { outbox: o3, opened: opened3 } = await openFileOutbox(t, dir)
  t.same(opened3, { recovered: 4, damaged: null })
  t.same(o3.pending().map((e) => e.id), ids(4))
})

t.test('a garbage tail is cut off and reported; earlier records kept', async (t) => {
  let seed = 42
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
  for (const len of [1, 11, 12, 13, 100, 4096]) {
    const dir = tmpDir(t)
    const { outbox } = await openWithAlerts(t, dir, 4)
    await outbox.close()
    const size = statSync(join(dir, SEG1)).size
    appendFileSync(join(dir, SEG1), Buffer.from(Array.from({ length: len }, () => rnd() & 0xff)))
    const { outbox: o, opened } = await openFileOutbox(t, dir)
    t.same(opened, { recovered: 4, damaged: `truncated ${len} bytes at offset ${size} in ${SEG1}` }, `${len} bytes`)
    t.same(o.pending().map((e) => e.id), ids(4))
  }
})

t.test('damage in the middle skips one record, keeps the rest, and is compacted away', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 5)
  await outbox.close()
  const buf = readFileSync(join(dir, SEG1))
  const third = 8 + recBytes(1) + recBytes(2)
  buf[third + 20] ^= 0x40 // a flipped bit inside record 3
  writeFileSync(join(dir, SEG1), buf)
  const { outbox: o, opened } = await openFileOutbox(t, dir)
  t.equal(opened.recovered, 4)
  t.equal(opened.damaged, `skipped ${recBytes(3)} bytes at offset ${third} in ${SEG1}`)
  t.same(o.pending().map((e) => e.id), [1, 2, 4, 5].map((i) => alert(i).id))
  await o.close()
  t.same(readdirSync(dir), ['outbox-000002.log'], 'rewritten into a fresh segment')
  const { opened: again } = await openFileOutbox(t, dir)
  t.same(again, { recovered: 4, damaged: null })
})

t.test('group commit: 1,000 appends in a burst take a handful of fdatasyncs', async (t) => {
  const { outbox } = await openFileOutbox(t, tmpDir(t))
  const c = collect(outbox)
  const before = outbox.stats()
  for (let i = 1; i <= 1000; i++) outbox.append(alert(i))
  await c.waitFor(1000)
  const s = outbox.stats()
  t.ok(s.commits - before.commits <= 3, `commits: ${s.commits - before.commits}`)
  t.ok(s.syncs - before.syncs <= 6, `syncs: ${s.syncs - before.syncs}`)
  t.same(c.ids, ids(1000))
  // Acks alone add no fdatasync: they ride on the next alert commit.
  const syncs = s.syncs
  for (let i = 1; i <= 500; i++) outbox.ack(alert(i).id)
  await outbox.drain()
  t.equal(outbox.stats().syncs, syncs, 'acks wrote no fdatasync')
})

t.test('a trickle of appends while a commit is in flight forms the next batch', async (t) => {
  const { outbox } = await openFileOutbox(t, tmpDir(t))
  const c = collect(outbox)
  for (let i = 1; i <= 200; i++) {
    outbox.append(alert(i))
    if (i % 10 === 0) await new Promise((r) => setImmediate(r))
  }
  await c.waitFor(200)
  t.same(c.ids, ids(200))
  t.ok(outbox.stats().commits < 200, `commits: ${outbox.stats().commits}`)
})

t.test('segments roll, dead segments go, compaction keeps exactly the live entries', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openFileOutbox(t, dir, { segmentBytes: 4096 })
  const c = collect(outbox)
  const live: string[] = []
  for (let i = 1; i <= 600; i++) {
    outbox.append(alert(i))
    if (i % 10 === 0) {
      await c.waitFor(i)
      // The station acks all but every 37th alert.
      for (let j = i - 9; j <= i; j++) if (j % 37 === 0) live.push(alert(j).id); else outbox.ack(alert(j).id)
    }
  }
  await outbox.drain()
  const s = outbox.stats()
  t.ok(s.compactions >= 1, `compactions: ${s.compactions}`)
  t.ok(s.bytes < 3 * 4096 + s.liveBytes, `bytes on disk ${s.bytes} bounded (live ${s.liveBytes})`)
  const files = readdirSync(dir)
  t.ok(files.length <= 3, `segment files: ${files.join(', ')}`)
  t.same(outbox.pending().map((e) => e.id), live)
  await outbox.close()
  const { outbox: again, opened } = await openFileOutbox(t, dir, { segmentBytes: 4096 })
  t.same(opened, { recovered: live.length, damaged: null })
  t.same(again.pending().map((e) => e.id), live)
})

t.test('a backlog larger than a segment rolls instead of rewriting, and survives reopen', async (t) => {
  const dir = tmpDir(t)
  const { outbox, c } = await openWithAlerts(t, dir, 300, { segmentBytes: 8192 })
  for (let i = 1; i <= 300; i++) outbox.append(alert(300 + i))
  await c.waitFor(600)
  t.equal(outbox.stats().compactions, 0, 'nothing to gain from rewriting live data')
  await outbox.close()
  const { outbox: again, opened } = await openFileOutbox(t, dir, { segmentBytes: 8192 })
  t.equal(opened.recovered, 600)
  t.same(again.pending().map((e) => e.id), ids(600))
})

t.test('an interrupted compaction (tmp file left) is discarded; the old segments stand', async (t) => {
  const dir = tmpDir(t)
  const { outbox } = await openWithAlerts(t, dir, 1)
  await outbox.close()
  writeFileSync(join(dir, 'outbox-000002.log.tmp'), 'half a compaction')
  const { opened } = await openFileOutbox(t, dir)
  t.same(opened, { recovered: 1, damaged: null })
  t.same(readdirSync(dir), [SEG1])
})

t.test('files are 0600 and the directory 0700 (tightened if looser)', async (t) => {
  const dir = join(tmpDir(t), 'outbox')
  mkdirSync(dir, { mode: 0o755 })
  const { outbox } = await openFileOutbox(t, dir)
  t.equal(statSync(dir).mode & 0o777, 0o700)
  t.equal(statSync(join(dir, SEG1)).mode & 0o777, 0o600)
  await outbox.close()
})

t.test('a throwing listener is logged and does not stop later batches', async (t) => {
  const { outbox } = await openFileOutbox(t, tmpDir(t))
  let calls = 0
  outbox.onCommitted(() => { calls++; throw new Error('listener bug') })
  outbox.append(alert(1))
  await outbox.drain()
  const c = collect(outbox)
  outbox.append(alert(2))
  await c.waitFor(1)
  t.equal(calls, 1)
  t.same(c.ids, [alert(2).id])
})
