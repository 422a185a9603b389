/**
 * Issue 13 §4: ImmediateBatch hands over what was added in one turn of the
 * event loop, in order, in one later setImmediate; what is added while it
 * runs waits for the next one.
 */
import t from 'tap'
import { ImmediateBatch } from '../../../gateway/broker/immediate-batch.js'

const nextImmediate = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('one run per turn, in order, never inside the caller', async (t) => {
  const runs: number[][] = []
  const b = new ImmediateBatch<number>((items) => { runs.push([...items]) })
  b.add(1)
  b.add(2)
  b.add(3)
  t.same(runs, [], 'nothing runs in the caller\'s stack')
  t.equal(b.size, 3)
  await nextImmediate()
  t.same(runs, [[1, 2, 3]], 'one run with every item, in order')
  t.equal(b.size, 0)
  b.add(4)
  await nextImmediate()
  t.same(runs, [[1, 2, 3], [4]], 'a later item starts a new batch')
  await nextImmediate()
  t.equal(runs.length, 2, 'no run without items')
})

t.test('items added while a batch runs go to the next immediate', async (t) => {
  const runs: string[][] = []
  const b = new ImmediateBatch<string>((items) => {
    runs.push([...items])
    if (items.includes('a')) b.add('from run')
  })
  b.add('a')
  await nextImmediate()
  t.same(runs, [['a']], 'the batch it ran')
  t.equal(b.size, 1, 'the added item waits')
  await nextImmediate()
  t.same(runs, [['a'], ['from run']])
})
