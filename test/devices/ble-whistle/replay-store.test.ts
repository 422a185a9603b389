import t from 'tap'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeClock } from '../../../devices/time/clock.js'
import { FileReplayCounterStore } from '../../../devices/ble-whistle/replay-store-file.js'
import { MemoryReplayCounterStore, type ReplayCounterStore } from '../../../devices/ble-whistle/replay-store.js'

/** The part of a tap test these helpers need. */
interface Teardown { teardown(fn: () => unknown): void }

async function tmp(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'safehouse-replay-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

// Conformance suite: every ReplayCounterStore behaves the same through the interface.
const impls: [string, (t: Teardown) => Promise<ReplayCounterStore>][] = [
  ['memory', async () => new MemoryReplayCounterStore()],
  ['file', async (t) => FileReplayCounterStore.open({ dir: await tmp(t), clock: new FakeClock() })],
]
for (const [name, make] of impls) {
  t.test(`${name}: get/set/delete`, async (t) => {
    const s = await make(t)
    t.equal(s.get('AA:BB:CC:DD:EE:FF'), -1)
    s.set('AA:BB:CC:DD:EE:FF', 0)
    t.equal(s.get('AA:BB:CC:DD:EE:FF'), 0)
    s.set('AA:BB:CC:DD:EE:FF', 0xffffffff)
    t.equal(s.get('AA:BB:CC:DD:EE:FF'), 0xffffffff)
    s.delete('AA:BB:CC:DD:EE:FF')
    t.equal(s.get('AA:BB:CC:DD:EE:FF'), -1)
    await s.flush()
    await s.close()
    await s.close()
  })
}

t.test('file: counters survive reopening; file is mode 0600 and no temp file is left', async (t) => {
  const dir = await tmp(t)
  const clock = new FakeClock()
  const a = await FileReplayCounterStore.open({ dir, clock })
  a.set('54:48:E6:8F:80:A5', 1122867)
  a.set('3C:2E:F5:00:00:01', 7)
  await a.close()
  const st = await stat(a.filePath)
  t.equal(st.mode & 0o777, 0o600)
  t.same(await readdir(dir), ['ble-replay-counters.json'])
  t.same(JSON.parse(await readFile(a.filePath, 'utf8')), { version: 1, counters: { '3C:2E:F5:00:00:01': 7, '54:48:E6:8F:80:A5': 1122867 } })
  const b = await FileReplayCounterStore.open({ dir, clock })
  t.equal(b.get('54:48:E6:8F:80:A5'), 1122867)
  t.equal(b.loadWarning, null)
  await b.close()
})

t.test('file: a burst of changes is one debounced write', async (t) => {
  const dir = await tmp(t)
  const clock = new FakeClock()
  const s = await FileReplayCounterStore.open({ dir, clock, debounceMs: 1000 })
  for (let i = 0; i < 500; i++) s.set('54:48:E6:8F:80:A5', i)
  t.equal(s.writes, 0, 'nothing written yet')
  clock.advance(999)
  t.equal(s.writes, 0)
  clock.advance(1)
  await s.flush()
  t.equal(s.writes, 1, 'one write for 500 changes')
  t.equal(JSON.parse(await readFile(s.filePath, 'utf8')).counters['54:48:E6:8F:80:A5'], 499)
  s.set('54:48:E6:8F:80:A5', 499)
  clock.advance(5000)
  await s.flush()
  t.equal(s.writes, 1, 'an unchanged value does not write')
  t.equal(clock.pendingTimers(), 0)
  await s.close()
})

t.test('file: a corrupt file is moved aside, reported, and the store starts empty', async (t) => {
  const dir = await tmp(t)
  await writeFile(join(dir, 'ble-replay-counters.json'), '{"version":1,"coun')
  const s = await FileReplayCounterStore.open({ dir, clock: new FakeClock() })
  t.match(s.loadWarning, /not valid \(moved to .*corrupt/)
  t.equal(s.get('54:48:E6:8F:80:A5'), -1)
  t.equal((await readdir(dir)).filter((f) => f.includes('corrupt')).length, 1)
  await s.close()
})

t.test('file: invalid entries are skipped', async (t) => {
  const dir = await tmp(t)
  await writeFile(join(dir, 'ble-replay-counters.json'), JSON.stringify({ version: 1, counters: { A: -5, B: 1.5, C: 'x', D: 2 ** 32, E: 42 } }))
  const s = await FileReplayCounterStore.open({ dir, clock: new FakeClock() })
  t.same(['A', 'B', 'C', 'D', 'E'].map((k) => s.get(k)), [-1, -1, -1, -1, 42])
  await s.close()
})
