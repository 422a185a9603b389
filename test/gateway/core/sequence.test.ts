/**
 * Alert sequence numbers leased in blocks from `<data_dir>/sequence` (gateway/core/sequence.ts):
 * unique and increasing across restarts, and (issue 13 §1) the next lease written ahead, off the
 * alert's path, so an alert never waits for an fsync unless a burst outruns the lease ahead.
 */
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileSequence } from '../../../gateway/core/sequence.js'

const stored = (dir: string): number => Number(readFileSync(join(dir, 'sequence'), 'utf8').trim())

t.test('FileSequence', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-seq-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  t.test('leases survive restarts: each run continues above the last, all unique', async (t) => {
    const sub = mkdtempSync(join(dir, 'run-'))
    const all: number[] = []
    for (const count of [25, 3, 0, 11]) {
      const s = new FileSequence(sub, 10)
      s.open()
      for (let i = 0; i < count; i++) all.push(s.next())
      await s.settled() // as the gateway's stop does
    }
    const s = new FileSequence(sub, 10)
    s.open()
    all.push(s.next())
    t.same(all.slice(0, 25), Array.from({ length: 25 }, (_, i) => i + 1), 'first run counts from 1')
    for (let i = 1; i < all.length; i++) t.ok(all[i] > all[i - 1], `increasing at ${i}: ${all[i - 1]} < ${all[i]}`)
    t.equal(new Set(all).size, all.length, 'unique')
    t.equal(readFileSync(join(sub, 'sequence'), 'utf8').trim(), String(all[all.length - 1] - 1 + 10), 'the file holds the reserved high mark')
  })

  t.test('next() before open() still continues above the stored lease', async (t) => {
    const sub = mkdtempSync(join(dir, 'noopen-'))
    writeFileSync(join(sub, 'sequence'), '5000\n')
    const s = new FileSequence(sub, 10)
    t.equal(s.next(), 5001)
  })

  t.test('a corrupt or truncated sequence file is a clear error', async (t) => {
    for (const text of ['garbage', '', '   \n', '-5', '12abc', '1e3', '99999999999999999999']) {
      const sub = mkdtempSync(join(dir, 'bad-'))
      const file = join(sub, 'sequence')
      writeFileSync(file, text)
      t.throws(() => new FileSequence(sub).open(), { message: new RegExp(`${file} holds .*not a sequence number.*move it aside`) }, JSON.stringify(text))
      t.equal(readFileSync(file, 'utf8'), text, 'the file is left as it was')
    }
  })

  t.test('the next lease is written ahead: after open(), no alert writes one itself', async (t) => {
    const sub = mkdtempSync(join(dir, 'ahead-'))
    const s = new FileSequence(sub, 10)
    s.open()
    t.equal(stored(sub), 10)
    const got: number[] = []
    for (let i = 0; i < 45; i++) {
      got.push(s.next())
      t.ok(got[i] <= stored(sub), `${got[i]} is covered by the lease on disk (${stored(sub)})`)
      await s.settled() // the thread pool's fsync, at alert pace
    }
    t.same(got, Array.from({ length: 45 }, (_, i) => i + 1))
    t.equal(s.counters.syncLeases, 1, 'only open() leased synchronously')
    t.equal(s.counters.leasesAhead, 4, 'each later block was leased ahead, half a block early')
    t.equal(stored(sub), 50)
    t.notOk(existsSync(join(sub, 'sequence.ahead')), 'no temp file left')
    const again = new FileSequence(sub, 10)
    again.open()
    t.ok(again.next() > 45, 'a restart continues above')
  })

  t.test('a burst that outruns the lease ahead takes it synchronously; numbers stay unique and covered', async (t) => {
    const sub = mkdtempSync(join(dir, 'burst-'))
    const s = new FileSequence(sub, 10)
    s.open()
    const got: number[] = []
    for (let i = 0; i < 35; i++) {
      got.push(s.next())
      t.ok(got[i] <= stored(sub), `${got[i]} is covered by the lease on disk`)
    }
    t.ok(s.counters.syncLeases > 1, 'the block ran out before the lease ahead was on disk')
    await s.settled()
    t.ok(stored(sub) >= 35, `the late lease ahead did not lower the mark (${stored(sub)})`)
    const again = new FileSequence(sub, 10)
    again.open()
    const n = again.next()
    t.ok(n > 35, `a restart continues above (${n})`)
    t.equal(new Set(got).size, got.length, 'unique')
  })

  t.test('a lease ahead that cannot be written is not fatal: the block end leases synchronously', async (t) => {
    const sub = mkdtempSync(join(dir, 'fail-'))
    const s = new FileSequence(sub, 10)
    s.open()
    for (let i = 0; i < 5; i++) s.next()
    // The temp file's name taken by a directory: the write ahead fails (EISDIR), the sync lease does not.
    const blocker = join(sub, 'sequence.ahead')
    mkdirSync(blocker)
    s.next() // 6: half the block left -> the lease ahead starts, and fails
    await s.settled()
    t.equal(s.counters.leaseAheadFailures, 1)
    for (let i = 0; i < 4; i++) s.next() // 7..10
    await s.settled()
    t.equal(s.counters.leaseAheadFailures, 1, 'not retried on every alert of the same block')
    t.equal(s.next(), 11)
    t.equal(s.counters.syncLeases, 2, 'the block end leased synchronously')
    t.equal(stored(sub), 20)
  })
})
