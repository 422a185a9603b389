import t from 'tap'
import { BoundedQueue, type QueuedMessage } from '../../../gateway/uplink/bounded-queue.js'

const msg = (topic: string, text: string, retain = false, qos: 0 | 1 = 1): QueuedMessage => ({ topic, payload: Buffer.from(text), qos, retain })
const texts = (ms: QueuedMessage[]): string[] => ms.map((m) => `${m.topic}=${m.payload.toString()}`)

t.test('retained state: latest value per topic, never queued', async (t) => {
  const q = new BoundedQueue(10)
  for (let i = 0; i < 100; i++) q.put(msg('p/state', `s${i}`, true))
  q.put(msg('p/device/a/state', 'a1', true))
  q.put(msg('p/device/a/state', 'a2', true))
  t.equal(q.size, 2)
  t.equal(q.dropped, 0, 'replacing a retained value is not a drop')
  t.same(texts(q.drain()), ['p/state=s99', 'p/device/a/state=a2'])
})

t.test('FIFO bounded: oldest dropped and counted', async (t) => {
  const q = new BoundedQueue(3)
  for (let i = 1; i <= 5; i++) q.put(msg('p/cmd-reply/x', `r${i}`))
  t.equal(q.size, 3)
  t.equal(q.dropped, 2)
  t.same(texts(q.drain()), ['p/cmd-reply/x=r3', 'p/cmd-reply/x=r4', 'p/cmd-reply/x=r5'], 'the newest kept, in order')
})

t.test('drain: retained first, then the FIFO in order; empties the queue', async (t) => {
  const q = new BoundedQueue(5)
  q.put(msg('a', '1'))
  q.put(msg('s', 'x', true))
  q.put(msg('b', '2'))
  q.put(msg('s', 'y', true))
  const m = q.drain()
  t.same(texts(m), ['s=y', 'a=1', 'b=2'])
  t.same(m.map((x) => x.retain), [true, false, false])
  t.equal(q.size, 0)
  t.same(q.drain(), [])
  q.put(msg('c', '3'))
  t.same(texts(q.drain()), ['c=3'], 'usable after a drain')
})

t.test('retained messages do not count against the FIFO limit', async (t) => {
  const q = new BoundedQueue(2)
  for (let i = 0; i < 5; i++) q.put(msg(`d/${i}/state`, 'x', true))
  q.put(msg('r', '1'))
  q.put(msg('r', '2'))
  t.equal(q.size, 7)
  t.equal(q.dropped, 0)
})

t.test('limit 0: every non-retained message is dropped and counted; retained still kept', async (t) => {
  const q = new BoundedQueue(0)
  for (let i = 0; i < 4; i++) q.put(msg('r', String(i)))
  q.put(msg('s', 'kept', true))
  t.equal(q.dropped, 4)
  t.same(texts(q.drain()), ['s=kept'])
})

t.test('a large limit keeps everything in order (drop counting stays exact)', async (t) => {
  const q = new BoundedQueue(1000)
  for (let i = 0; i < 1500; i++) q.put(msg('t', String(i)))
  t.equal(q.dropped, 500)
  const out = q.drain()
  t.equal(out.length, 1000)
  t.equal(out[0].payload.toString(), '500')
  t.equal(out[999].payload.toString(), '1499')
})
