import t from 'tap'
import pino from 'pino'
import { CommandHandler, type ReplyChannel } from '../../../gateway/inbound/command-handler.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'

interface Reply { topic: string; body: Record<string, unknown>; correlationData: Buffer | undefined }

function setup() {
  const h = new CommandHandler(pino({ level: 'silent' }))
  const replies: Reply[] = []
  const via: ReplyChannel = {
    reply: (topic, payload, correlationData) => {
      const r = checkPayload<Record<string, unknown>>('commandResponse', payload)
      if (!r.ok) throw new Error(`reply does not match command-response.schema.json: ${r.error}`)
      replies.push({ topic, body: r.value, correlationData })
    },
  }
  const calls: Array<[Record<string, unknown>, string]> = []
  h.register('status', (args, by) => { calls.push([args, by]); return { ok: true, result: { mode: 'normal' } } })
  h.register('walk-test', (args) => (typeof args.on === 'boolean' ? { ok: true, result: { on: args.on } } : { ok: false, error: 'walk-test needs args.on = true or false' }))
  h.register('lamp-test', () => ({ ok: true }))
  h.register('explode', () => { throw new Error('lamp box unplugged') })
  h.register('explode-oddly', () => { throw 'a string' }) // eslint-disable-line no-throw-literal
  return { h, via, replies, calls }
}
const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o))

t.test('MQTT 5: reply on the response topic with the correlation data', async (t) => {
  const { h, via, replies, calls } = setup()
  const corr = Buffer.from('req-42')
  h.handle('status', json({ by: 'tech-wang', args: { verbose: true } }), via, { responseTopic: 'clients/tech/replies', correlationData: corr })
  t.equal(replies.length, 1)
  t.equal(replies[0].topic, 'clients/tech/replies')
  t.equal(replies[0].correlationData, corr, 'the same correlation data goes back as the MQTT 5 property')
  t.same(replies[0].body, { v: 1, command: 'status', correlation_id: 'req-42', ok: true, result: { mode: 'normal' } })
  t.same(calls, [[{ verbose: true }, 'tech-wang']])
  t.equal(h.handled, 1)
  t.equal(h.rejected, 0)
})

t.test('MQTT 3.1.1: response_topic and correlation_id in the payload', async (t) => {
  const { h, via, replies } = setup()
  h.handle('walk-test', json({ response_topic: 'p/cmd-reply/tech-1', correlation_id: 'abc', args: { on: true } }), via, {})
  t.equal(replies.length, 1)
  t.equal(replies[0].topic, 'p/cmd-reply/tech-1')
  t.equal(replies[0].correlationData, undefined)
  t.same(replies[0].body, { v: 1, command: 'walk-test', correlation_id: 'abc', ok: true, result: { on: true } })
})

t.test('MQTT 5 properties win over payload fields', async (t) => {
  const { h, via, replies } = setup()
  h.handle('lamp-test', json({ response_topic: 'payload/topic', correlation_id: 'payload-id' }), via, { responseTopic: 'prop/topic', correlationData: Buffer.from('prop-id') })
  t.equal(replies[0].topic, 'prop/topic')
  t.equal(replies[0].body.correlation_id, 'prop-id')
  t.same(replies[0].body.result, {}, 'ok without a result gives an empty result object')
})

t.test('an empty payload is a request without arguments', async (t) => {
  const { h, via, replies, calls } = setup()
  h.handle('status', Buffer.alloc(0), via, { responseTopic: 'r' })
  t.same(calls, [[{}, 'unknown']])
  t.equal(replies[0].body.ok, true)
  t.equal(replies[0].body.correlation_id, null, 'no correlation id: null')
})

const errors: Array<{ name: string; command: string; payload: Buffer; error: RegExp }> = [
  { name: 'unknown command lists the known ones', command: 'self-destruct', payload: json({}), error: /unknown command "self-destruct"; known: status, walk-test, lamp-test, explode/ },
  { name: 'malformed JSON', command: 'status', payload: Buffer.from('{"by": '), error: /bad request payload: not JSON/ },
  { name: 'JSON that is not an object', command: 'status', payload: Buffer.from('[1,2]'), error: /bad request payload: .*object/ },
  { name: 'unknown field', command: 'status', payload: json({ argz: {} }), error: /bad request payload: .*additional properties/ },
  { name: 'args not an object', command: 'status', payload: json({ args: 'on' }), error: /bad request payload: \/args must be object/ },
  { name: 'bad arguments', command: 'walk-test', payload: json({ args: { on: 'yes' } }), error: /^walk-test needs args\.on = true or false$/ },
  { name: 'a throwing command', command: 'explode', payload: json({}), error: /^command failed: lamp box unplugged$/ },
  { name: 'a command throwing a non-Error', command: 'explode-oddly', payload: json({}), error: /^command failed: a string$/ },
]
t.test('errors are replies that say what is wrong (nothing throws)', async (t) => {
  for (const c of errors) {
    const { h, via, replies } = setup()
    t.doesNotThrow(() => h.handle(c.command, c.payload, via, { responseTopic: 'r/t', correlationData: Buffer.from('c-1') }), c.name)
    t.equal(replies.length, 1, `${c.name}: one reply`)
    t.match(replies[0]?.body, { v: 1, command: c.command, correlation_id: 'c-1', ok: false }, c.name)
    t.match(replies[0]?.body.error as string, c.error, c.name)
    t.notOk('result' in (replies[0]?.body ?? {}), `${c.name}: no result on an error`)
    t.equal(h.rejected, 1)
    t.equal(h.handled, 0)
  }
})

t.test('MQTT 3.1.1 requester with a schema error in its payload still gets the error reply', async (t) => {
  const { h, via, replies } = setup()
  h.handle('walk-test', json({ response_topic: 'p/cmd-reply/t', correlation_id: 'x1', args: { on: true }, typo: 1 }), via, {})
  t.equal(replies.length, 1, 'reply sent to the payload\'s response_topic')
  t.equal(replies[0]?.topic, 'p/cmd-reply/t')
  t.match(replies[0]?.body, { correlation_id: 'x1', ok: false, error: /bad request payload/ })
})

t.test('no response topic: handled, but no reply', async (t) => {
  const { h, via, replies, calls } = setup()
  h.handle('status', json({}), via, {})
  h.handle('nope', json({}), via, {})
  h.handle('status', Buffer.from('not json'), via, {})
  t.equal(replies.length, 0)
  t.equal(calls.length, 1, 'the command still ran')
  t.equal(h.handled, 1)
  t.equal(h.rejected, 2)
})
