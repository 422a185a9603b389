/**
 * The demo's station console (provisioning/demo/station-console.ts) shows a
 * repeat of an alert once, and remembers only the last 10,000 ids to do so:
 * it held every alert it was shown before, the largest growth the one-hour
 * soak (bench/memory.ts --soak-hour) found in a demo's heap.
 */
import t from 'tap'
import { StationConsole } from '../../provisioning/demo/station-console.js'

t.test('a repeat is shown once; the ids remembered stay bounded', async (t) => {
  const lines: string[] = []
  const c = new StationConsole({ url: 'mqtt://127.0.0.1:1', username: '', password: '', operator: 'desk', autoAckMs: null, print: (l) => lines.push(l) })
  const deliver = (id: string) => (c as unknown as { onMessage(topic: string, p: Buffer): void })
    .onMessage('safehouse/v1/s/p/alert/panic', Buffer.from(JSON.stringify({ id, kind: 'panic', post: 'p', site: 's', device: 'b', hw_time: Date.now() })))
  deliver('s:p:1')
  deliver('s:p:1')
  t.equal(lines.filter((l) => l.includes('ALERT PANIC')).length, 1, 'shown once')
  t.match(lines.join('\n'), /repeat of s:p:1, same id: shown once/)
  for (let i = 2; i <= 10_001; i++) deliver(`s:p:${i}`)
  const seen = (c as unknown as { seen: Set<string> }).seen
  t.equal(seen.size, 10_000, 'the last 10,000 ids')
  t.notOk(seen.has('s:p:1'), 'the oldest forgotten first')
  t.ok(seen.has('s:p:10001'))
  deliver('s:p:10001')
  t.match(lines[lines.length - 1], /repeat of s:p:10001/)
})
