/**
 * The Outbox contract (gateway/outbox/outbox.ts), as one suite every
 * implementation runs (the mqtt.js store pattern, DESIGN §7). pending() is
 * checked once the batch is committed: an implementation may list an alert
 * before that (MemoryOutbox does) or only after (FileOutbox: not before it is
 * on disk), and the uplink works either way.
 */
import t from 'tap'
import type { NewOutboxEntry, Outbox, OutboxEntry } from '../../../gateway/outbox/outbox.js'

export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

/** Make a fresh, opened outbox; the suite closes it. */
export type OutboxFactory = (t: TapTest) => Promise<Outbox>

export function alert(seq: number, device = `dev-${seq % 3}`): NewOutboxEntry {
  return {
    id: `site1:post1:${seq}`,
    device,
    topic: `safehouse/v1/site1/alert/${device}`,
    payload: Buffer.from(JSON.stringify({ id: `site1:post1:${seq}`, kind: 'panic', seq })),
    acceptedAt: 1_790_000_000_000 + seq,
  }
}

export interface Collected { ids: string[]; batches: number; entries: OutboxEntry[] }

/** Install the committed listener; waitFor(n) resolves once n entries have been committed. */
export function collect(o: Outbox): Collected & { waitFor(n: number, ms?: number): Promise<void> } {
  const c: Collected = { ids: [], batches: 0, entries: [] }
  let wake: (() => void) | null = null
  o.onCommitted((batch) => {
    c.batches++
    for (const e of batch) { c.ids.push(e.id); c.entries.push(e) }
    wake?.()
  })
  return Object.assign(c, {
    async waitFor(n: number, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms
      while (c.ids.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${c.ids.length} of ${n} committed within ${ms} ms`)
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, 50).unref()
        })
      }
    },
  })
}

export function outboxConformance(t: TapTest, name: string, factory: OutboxFactory): void {
  const use = async (tt: TapTest): Promise<Outbox> => {
    const o = await factory(tt)
    tt.teardown(() => o.close())
    return o
  }

  t.test(`${name}: append -> committed in append order`, async (tt) => {
    const o = await use(tt)
    const c = collect(o)
    for (let i = 1; i <= 20; i++) o.append(alert(i))
    await c.waitFor(20)
    tt.same(c.ids, Array.from({ length: 20 }, (_, i) => alert(i + 1).id))
    tt.ok(c.batches >= 1 && c.batches <= 20, 'batched')
    const e = c.entries[4]
    tt.equal(e.device, alert(5).device)
    tt.equal(e.topic, alert(5).topic)
    tt.equal(e.acceptedAt, alert(5).acceptedAt)
    tt.same(e.payload, alert(5).payload)
    tt.equal(e.attempts, 0)
    tt.equal(o.stats().appended, 20)
    tt.equal(o.stats().depth, 20)
  })

  t.test(`${name}: appends in later ticks keep order`, async (tt) => {
    const o = await use(tt)
    const c = collect(o)
    for (let i = 1; i <= 30; i++) {
      o.append(alert(i))
      if (i % 7 === 0) await new Promise((r) => setImmediate(r))
    }
    await c.waitFor(30)
    tt.same(c.ids, Array.from({ length: 30 }, (_, i) => alert(i + 1).id))
    tt.same(o.pending().map((e) => e.id), c.ids, 'pending in acceptance order')
  })

  t.test(`${name}: ack removes; unknown ack is counted`, async (tt) => {
    const o = await use(tt)
    const c = collect(o)
    for (let i = 1; i <= 5; i++) o.append(alert(i))
    await c.waitFor(5)
    tt.equal(o.ack(alert(2).id), true)
    tt.equal(o.ack(alert(4).id), true)
    tt.equal(o.ack(alert(2).id), false, 'second ack of the same id is unknown')
    tt.equal(o.ack('site9:post9:999'), false)
    tt.same(o.pending().map((e) => e.id), [1, 3, 5].map((i) => alert(i).id))
    tt.same(o.oldest(2).map((e) => e.id), [1, 3].map((i) => alert(i).id), 'oldest(n): the first n of pending()')
    tt.same(o.oldest(10).map((e) => e.id), [1, 3, 5].map((i) => alert(i).id))
    const s = o.stats()
    tt.equal(s.acked, 2)
    tt.equal(s.unknownAcks, 2)
    tt.equal(s.depth, 3)
  })

  t.test(`${name}: pending keeps per-device order across interleaved devices`, async (tt) => {
    const o = await use(tt)
    const c = collect(o)
    const devices = ['btn-a', 'whistle-b', 'btn-a', 'lamp', 'whistle-b', 'btn-a']
    devices.forEach((d, i) => o.append(alert(i + 1, d)))
    await c.waitFor(devices.length)
    o.ack(alert(4).id)
    const byDev = (d: string): string[] => o.pending().filter((e) => e.device === d).map((e) => e.id)
    tt.same(byDev('btn-a'), [1, 3, 6].map((i) => alert(i).id))
    tt.same(byDev('whistle-b'), [2, 5].map((i) => alert(i).id))
    tt.same(byDev('lamp'), [])
  })

  t.test(`${name}: a repeated id replaces, never duplicates`, async (tt) => {
    const o = await use(tt)
    const c = collect(o)
    o.append(alert(1))
    o.append(alert(2))
    await c.waitFor(2)
    o.append({ ...alert(1), payload: Buffer.from('{"again":true}') })
    await c.waitFor(3)
    tt.same(c.ids, [alert(1).id, alert(2).id, alert(1).id], 'the listener sees the repeat (it is sent again)')
    const p = o.pending()
    tt.same(p.map((e) => e.id), [alert(1).id, alert(2).id], 'one entry, in its first place')
    tt.equal(p[0].payload.toString(), '{"again":true}')
    tt.equal(o.stats().depth, 2)
    tt.equal(o.ack(alert(1).id), true)
    tt.same(o.pending().map((e) => e.id), [alert(2).id])
  })

  t.test(`${name}: close commits what was appended`, async (tt) => {
    const o = await factory(tt)
    const c = collect(o)
    for (let i = 1; i <= 3; i++) o.append(alert(i))
    await o.close()
    tt.same(c.ids, [1, 2, 3].map((i) => alert(i).id), 'listener called before close resolved')
  })
}
