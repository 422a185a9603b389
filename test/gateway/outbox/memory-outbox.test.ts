import t from 'tap'
import { MemoryOutbox } from '../../../gateway/outbox/memory-outbox.js'
import { outboxConformance } from './conformance.js'

outboxConformance(t, 'MemoryOutbox', async () => {
  const o = new MemoryOutbox()
  await o.open()
  return o
})
