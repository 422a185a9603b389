/**
 * One serial-port listing answers every "port missing" message for a minute (issue 13 §6): a
 * listing spawns `udevadm info -e` and parses the whole udev database, and a post with two
 * adapters unplugged asked for one per retry of each.
 */
import t from 'tap'
import type { PortInfo } from '@serialport/bindings-cpp'
import { FakeClock } from '../../../devices/time/clock.js'
import { SharedPortList, PORT_LIST_TTL_MS } from '../../../devices/host/serial-ports.js'

function lister(): { list: () => Promise<PortInfo[]>; calls: number; answer: (ports: string[]) => void; fail: (e: Error) => void } {
  const pending: { resolve: (p: PortInfo[]) => void; reject: (e: Error) => void }[] = []
  const l = {
    calls: 0,
    list: () => { l.calls++; return new Promise<PortInfo[]>((resolve, reject) => { pending.push({ resolve, reject }) }) },
    answer: (ports: string[]) => pending.shift()!.resolve(ports.map((path) => ({ path }) as PortInfo)),
    fail: (e: Error) => pending.shift()!.reject(e),
  }
  return l
}

const paths = async (p: Promise<PortInfo[]>): Promise<string[]> => (await p).map((x) => x.path)

t.test('callers at the same time share one listing', async (t) => {
  const l = lister()
  const shared = new SharedPortList(l.list, new FakeClock())
  const a = shared.get()
  const b = shared.get()
  t.equal(l.calls, 1, 'one spawn for both absent ports')
  l.answer(['/dev/ttyUSB0'])
  t.same(await paths(a), ['/dev/ttyUSB0'])
  t.same(await paths(b), ['/dev/ttyUSB0'])
})

t.test('a listing answers for PORT_LIST_TTL_MS, then the ports are listed again', async (t) => {
  const l = lister()
  const clock = new FakeClock()
  const shared = new SharedPortList(l.list, clock)
  const first = shared.get()
  l.answer(['/dev/ttyUSB0'])
  await first
  clock.advance(PORT_LIST_TTL_MS - 1)
  t.same(await paths(shared.get()), ['/dev/ttyUSB0'], 'retries within the minute reuse the list')
  t.equal(l.calls, 1)
  clock.advance(1)
  const fresh = shared.get()
  t.equal(l.calls, 2, 'listed again after the minute')
  l.answer(['/dev/ttyUSB0', '/dev/ttyACM0'])
  t.same(await paths(fresh), ['/dev/ttyUSB0', '/dev/ttyACM0'], 'an adapter plugged in meanwhile shows up')
})

t.test('a failed listing is not kept: the next caller lists again', async (t) => {
  const l = lister()
  const shared = new SharedPortList(l.list, new FakeClock())
  const failed = shared.get()
  l.fail(new Error('spawn udevadm ENOENT'))
  await t.rejects(failed, /ENOENT/)
  const again = shared.get()
  t.equal(l.calls, 2)
  l.answer([])
  t.same(await paths(again), [])
})
