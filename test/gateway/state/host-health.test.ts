import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { FakeClock } from '../../../devices/time/clock.js'
import { HostHealth, type FsSpace } from '../../../gateway/state/host-health.js'

const silent = pino({ level: 'silent' })
const enoent = (): Promise<never> => Promise.reject(Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }))

/** A fake host: a temperature file and a file system whose values the test changes. */
function fakeHost() {
  const host = {
    temp: '48312\n' as string | null,
    space: { bavail: 50_000, bsize: 4096 } as FsSpace | null,
    reads: 0,
    readText: async (path: string): Promise<string> => {
      host.reads++
      if (path !== '/thermal') throw new Error(`unexpected path ${path}`)
      return host.temp === null ? enoent() : host.temp
    },
    statfs: async (path: string): Promise<FsSpace> => {
      if (path !== '/data') throw new Error(`unexpected path ${path}`)
      if (host.space === null) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })
      return host.space
    },
  }
  return host
}

function rig(extra: { lowDiskMb?: number } = {}) {
  const clock = new FakeClock()
  const host = fakeHost()
  const changes: boolean[] = []
  const h = new HostHealth({
    clock, dataDir: '/data', log: silent, thermalPath: '/thermal', readText: host.readText, statfs: host.statfs,
    onLowDiskChange: (low) => changes.push(low), ...extra,
  })
  return { clock, host, h, changes }
}

/** Let the asynchronous reads a timer started settle. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('start samples at once: temperature in °C (0.1 resolution), free MB for the service user', async (t) => {
  const { h, changes } = rig()
  t.equal(h.cpuTempC, null, 'nothing known before the first sample')
  t.equal(h.diskFreeMb, null)
  h.start()
  t.teardown(() => h.stop())
  await settle()
  t.equal(h.cpuTempC, 48.3)
  t.equal(h.diskFreeMb, Math.floor((50_000 * 4096) / 1048576), 'bavail × bsize in MiB, rounded down')
  t.equal(h.lowDisk, false)
  t.equal(h.samples, 1)
  t.same(changes, [], 'plenty of space: no low-disk change to report')
})

t.test('samples every 30 s on the injected clock, never in between', async (t) => {
  const { clock, host, h } = rig()
  h.start()
  t.teardown(() => h.stop())
  await settle()
  t.equal(host.reads, 1)
  clock.advance(29_999)
  await settle()
  t.equal(host.reads, 1, 'not before the interval')
  host.temp = '71050'
  clock.advance(1)
  await settle()
  t.equal(host.reads, 2)
  t.equal(h.cpuTempC, 71.1, 'rounded to 0.1 °C')
  clock.advance(30_000)
  await settle()
  t.equal(host.reads, 3)
  t.equal(h.samples, 3)
  h.stop()
  clock.advance(120_000)
  await settle()
  t.equal(host.reads, 3, 'stopped: no more samples')
  t.equal(clock.pendingTimers(), 0, 'and no timer left behind')
})

t.test('no thermal zone (not a Pi): null, not an error; the disk is still read', async (t) => {
  const { h, host } = rig()
  host.temp = null
  await h.sample()
  t.equal(h.cpuTempC, null)
  t.ok(h.diskFreeMb !== null && h.diskFreeMb > 0)
})

t.test('garbage in the temperature file or a failing statfs: null', async (t) => {
  const { h, host } = rig()
  host.temp = 'hot\n'
  host.space = null
  await h.sample()
  t.equal(h.cpuTempC, null)
  t.equal(h.diskFreeMb, null)
  t.equal(h.lowDisk, false, 'unknown space is not reported as low')
  host.temp = '-5000'
  host.space = { bavail: 10n, bsize: 1048576n }
  await h.sample()
  t.equal(h.cpuTempC, -5, 'below zero (an outdoor box in winter)')
  t.equal(h.diskFreeMb, 10, 'bigint statfs fields are accepted')
})

t.test('low disk flag flips below the threshold and back, reporting each change', async (t) => {
  const { h, host, changes } = rig({ lowDiskMb: 100 })
  host.space = { bavail: 99 * 256, bsize: 4096 } // 99 MiB
  await h.sample()
  t.equal(h.diskFreeMb, 99)
  t.equal(h.lowDisk, true)
  host.space = { bavail: 100 * 256, bsize: 4096 } // 100 MiB
  await h.sample()
  t.equal(h.lowDisk, false, 'at the threshold is not low')
  t.same(changes, [true, false], 'each flip reported once')
  await h.sample()
  t.same(changes, [true, false], 'not again while it stays')
  host.space = { bavail: 1, bsize: 4096 }
  await h.sample()
  host.space = null
  await h.sample()
  t.equal(h.diskFreeMb, null)
  t.equal(h.lowDisk, true, 'space unknown after being low: still flagged low, not "ok again"')
  t.same(changes, [true, false, true])
})

t.test('a throwing listener does not make a timer-driven sample reject', async (t) => {
  const clock = new FakeClock()
  const h = new HostHealth({
    clock, dataDir: '/data', log: silent, thermalPath: null,
    statfs: async () => ({ bavail: 1, bsize: 4096 }),
    onLowDiskChange: () => { throw new Error('boom') },
  })
  await h.sample()
  t.equal(h.lowDisk, true, 'the value is still updated')
})

t.test('a slow read is not doubled by the next tick', async (t) => {
  const clock = new FakeClock()
  let release: () => void = () => {}
  let calls = 0
  const h = new HostHealth({
    clock, dataDir: '/data', log: silent, thermalPath: null, intervalMs: 1000,
    statfs: () => { calls++; return new Promise<FsSpace>((r) => { release = () => r({ bavail: 1000, bsize: 1048576 }) }) },
  })
  h.start()
  t.teardown(() => h.stop())
  clock.advance(5000)
  await settle()
  t.equal(calls, 1, 'five ticks while the first statfs hangs: still one read')
  release()
  await settle()
  t.equal(h.diskFreeMb, 1000)
  t.equal(h.cpuTempC, null, 'thermalPath null: temperature not read')
  clock.advance(1000)
  await settle()
  t.equal(calls, 2, 'the next tick reads again')
})

t.test('the real file system: a real data_dir gives a number, this machine has no Pi thermal zone or has one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-hh-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const h = new HostHealth({ clock: new FakeClock(), dataDir: dir, log: silent })
  await h.sample()
  t.type(h.diskFreeMb, 'number')
  t.ok(Number.isInteger(h.diskFreeMb), 'an integer, as gateway-state.schema.json wants')
  t.ok(h.cpuTempC === null || (h.cpuTempC > -40 && h.cpuTempC < 150), `temperature null or plausible (${h.cpuTempC})`)
  const missing = new HostHealth({ clock: new FakeClock(), dataDir: join(dir, 'nope'), log: silent, thermalPath: join(dir, 'no-thermal') })
  await missing.sample()
  t.equal(missing.diskFreeMb, null, 'a data_dir that does not exist yet: null')
  t.equal(missing.cpuTempC, null)
})
