/**
 * The packet-size guard between a broker socket and aedes (issue 2 "Bad
 * input", issue 13 §4) over a real loopback TCP pair: what aedes writes while
 * corked reaches the socket as one write with every byte in order; what the
 * peer sends reaches read() in order, read(0) takes nothing, the end
 * arrives after the data; unread data beyond 16 KiB pauses the socket until
 * it is read; an oversized header cuts the connection; a chunk that starts a
 * packet with nothing unread is offered to takeWholePackets first (issue 13 §4).
 */
import t, { type Test } from 'tap'
import { createServer, connect, type Socket } from 'node:net'
import { PacketSizeGuard } from '../../../gateway/broker/packet-size-guard.js'

async function socketPair(t: Test): Promise<{ server: Socket; peer: Socket }> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  const accepted = new Promise<Socket>((r) => srv.once('connection', r))
  const peer = connect((srv.address() as { port: number }).port, '127.0.0.1')
  const server = await accepted
  t.teardown(() => { peer.destroy(); server.destroy(); srv.close() })
  return { server, peer }
}

/** A guard as the broker makes one: its errors are the socket's, handled by closing (embedded-broker.ts). */
function guard(socket: Socket, max: number, onOversize: (n: number) => void): PacketSizeGuard {
  const g = new PacketSizeGuard(socket, max, onOversize)
  g.on('error', () => {})
  return g
}

/** Collects what the guard hands to read() on 'readable', as aedes does (read(null)). */
function reader(g: PacketSizeGuard): { bytes: () => Buffer } {
  const got: Buffer[] = []
  g.on('readable', () => {
    for (let b = g.read() as Buffer | null; b !== null; b = g.read() as Buffer | null) got.push(b)
  })
  return { bytes: () => Buffer.concat(got) }
}

t.test('pieces written while corked go to the socket as one write, in order', async (t) => {
  const { server, peer } = await socketPair(t)
  const g = guard(server, 1024, () => t.fail('not oversized'))
  let socketWrites = 0
  const write = server.write.bind(server) as (...a: unknown[]) => boolean
  server.write = ((...a: unknown[]) => { socketWrites++; return write(...a) }) as typeof server.write
  const received: Buffer[] = []
  peer.on('data', (b: Buffer) => received.push(b))

  // As mqtt-packet writes a PUBLISH: cork, header, length, topic length, topic (a string), id, payload, uncork.
  g.cork()
  t.equal(g.write(Buffer.from([0x32])), true, 'a corked write asks for no drain on an idle socket')
  g.write(Buffer.from([13]))
  g.write(Buffer.from([0, 4]))
  g.write('a/é')
  g.write(Buffer.from([0, 7]))
  let written = false
  g.write(Buffer.from('hi!'), () => { written = true })
  t.equal(socketWrites, 0, 'nothing written while corked')
  g.uncork()
  t.equal(socketWrites, 1, 'one write at the uncork')
  const want = Buffer.concat([Buffer.from([0x32, 13, 0, 4]), Buffer.from('a/é'), Buffer.from([0, 7]), Buffer.from('hi!')])
  while (Buffer.concat(received).length < want.length) await new Promise((r) => peer.once('data', r))
  t.same(Buffer.concat(received), want, 'every byte in order, the string as UTF-8')
  t.equal(written, true, 'the write callback ran')

  g.write(Buffer.from([0xc0, 0]))
  t.equal(socketWrites, 2, 'an uncorked write goes straight to the socket')
})

t.test('reads: everything in order through read(), read(0) takes nothing, then the end', async (t) => {
  const { server, peer } = await socketPair(t)
  const g = guard(server, 1024, () => t.fail('not oversized'))
  const ended = new Promise<void>((res) => g.once('end', () => res()))
  const arrived = new Promise<void>((res) => server.once('data', () => setImmediate(res)))
  peer.write(Buffer.from([0x40, 2, 0, 1])) // PUBACK 1
  await arrived
  t.equal(g.read(0), null, 'read(0) takes nothing')
  const r = reader(g) // reads at the next 'readable': PUBACK 1 is still held
  peer.end(Buffer.from([0x40, 2, 0, 2, 0xc0, 0])) // PUBACK 2, PINGREQ
  await ended
  t.same(r.bytes(), Buffer.from([0x40, 2, 0, 1, 0x40, 2, 0, 2, 0xc0, 0]), 'every byte, once, in order, before the end')
})

t.test('unread data beyond 16 KiB pauses the socket until it is read', async (t) => {
  const { server, peer } = await socketPair(t)
  const g = guard(server, 1 << 20, () => t.fail('not oversized'))
  // One PUBLISH announcing 40,000 bytes (within the limit), its body sent in pieces.
  const body = Buffer.alloc(40_000, 0x61)
  const packet = Buffer.concat([Buffer.from([0x30, 0xc0, 0xb8, 0x02]), body])
  peer.write(packet)
  while (!server.isPaused()) await new Promise((r) => setTimeout(r, 5))
  t.ok(server.isPaused(), 'paused while nothing reads')
  const first = g.read() as Buffer
  t.ok(first.length >= 16 * 1024, 'what was held is handed over')
  t.notOk(server.isPaused(), 'reading resumes the socket')
  const got = [first]
  g.on('readable', () => { for (let b = g.read() as Buffer | null; b; b = g.read() as Buffer | null) got.push(b) })
  while (Buffer.concat(got).length < packet.length) await new Promise((r) => setTimeout(r, 5))
  t.same(Buffer.concat(got), packet, 'the whole packet, in order')
})

t.test('a header announcing more than the limit cuts the connection before its body', async (t) => {
  const { server, peer } = await socketPair(t)
  let announced = -1
  const g = guard(server, 1000, (n) => { announced = n })
  const r = reader(g)
  const puback = new Promise<void>((res) => g.once('readable', () => setImmediate(res)))
  peer.write(Buffer.from([0x40, 2, 0, 1]))
  await puback
  const closed = new Promise<void>((res) => peer.once('close', () => res()))
  peer.on('error', () => {})
  peer.write(Buffer.from([0x30, 0xe9, 0x07])) // a PUBLISH announcing 1001 bytes
  await closed
  t.equal(announced, 1001)
  t.ok(g.destroyed, 'the guard is destroyed')
  t.same(r.bytes(), Buffer.from([0x40, 2, 0, 1]), 'the packet before it reached the reader, nothing of the oversized one')
})

t.test('takeWholePackets is offered only chunks that start a packet with nothing unread; what it takes reaches no reader', async (t) => {
  const { server, peer } = await socketPair(t)
  const g = guard(server, 1024, () => t.fail('not oversized'))
  const offered: number[][] = []
  g.takeWholePackets = (chunk) => {
    offered.push([...chunk])
    return chunk.length === 4 && chunk[0] === 0x40
  }
  const r = reader(g)
  const sent = async (bytes: number[], check: () => boolean, what: string): Promise<void> => {
    peer.write(Buffer.from(bytes))
    while (!check()) await new Promise((res) => setTimeout(res, 5))
    t.pass(what)
  }
  await sent([0x40, 2, 0, 1], () => offered.length === 1, 'a PUBACK is offered')
  await sent([0x30, 5, 0], () => r.bytes().length === 3, 'the start of a PUBLISH, declined, reaches the reader')
  await sent([1, 0x61, 0x62, 0x63], () => r.bytes().length === 7, 'the rest of the PUBLISH reaches the reader')
  await sent([0x40, 2, 0, 2], () => offered.length === 3, 'the next PUBACK is offered')
  t.same(offered, [[0x40, 2, 0, 1], [0x30, 5, 0], [0x40, 2, 0, 2]], 'the middle of the PUBLISH was never offered')
  t.same(r.bytes(), Buffer.from([0x30, 5, 0, 1, 0x61, 0x62, 0x63]), 'the reader got the PUBLISH and nothing that was taken')
})
