/**
 * Issue 13 §4: the PUBLISH frame built once per (topic, payload, header byte)
 * is byte for byte what mqtt-packet (the writer aedes uses) generates for MQTT
 * 3.1 and 3.1.1, for QoS 0, 1 and 2, dup and retain, UTF-8 topics, string and
 * Buffer payloads and every Remaining Length width; each delivery's packet id
 * lands in its own copy. MQTT 5 adds a properties length the frame does not
 * hold: shown here, and the reason the shared path is for 3.1/3.1.1 only
 * (aedes 1.2.0 refuses an MQTT 5 CONNECT: shared-delivery.test.ts).
 */
import t from 'tap'
import mqttPacket from 'mqtt-packet'
import { PublishFrames } from '../../../gateway/broker/publish-frame.js'

function mqttPacketBytes(topic: string, payload: Buffer | string, qos: 0 | 1 | 2, dup: boolean, retain: boolean, messageId: number | undefined, protocolVersion: 3 | 4 | 5): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos, dup, retain, messageId } as mqttPacket.IPublishPacket, { protocolVersion })
}

/** Payload sizes putting the Remaining Length at the edges of its 1, 2, 3 and 4 byte forms ([MQTT-2.2.3]). */
const topic = 'safehouse/v1/city/kiosk-001/alert'
const overhead = 2 + Buffer.byteLength(topic)
const sizes = [0, 1, 256, 127 - overhead - 2, 128 - overhead - 2, 127 - overhead, 128 - overhead, 16_383 - overhead - 2, 16_384 - overhead - 2, 2_097_151 - overhead - 2, 2_097_152 - overhead - 2]

t.test('the same bytes as mqtt-packet for MQTT 3.1 and 3.1.1, every flag, every length width', async (t) => {
  const frames = new PublishFrames()
  let compared = 0
  for (const size of sizes) {
    const payload = Buffer.alloc(size, 0x61)
    if (size > 0) payload[0] = 0x7b
    for (const qos of [0, 1, 2] as const) {
      for (const dup of [false, true]) {
        for (const retain of [false, true]) {
          const frame = frames.frame(topic, payload, qos, dup, retain)
          if (frame === null) { t.fail('a frame'); continue }
          for (const id of qos === 0 ? [undefined] : [1, 0x1234, 65535]) {
            const mine = id === undefined ? frame : frames.withId(frame, id)
            for (const v of [3, 4] as const) {
              if (!mine.equals(mqttPacketBytes(topic, payload, qos, dup, retain, id, v))) t.fail(`differs: size ${size} qos ${qos} dup ${dup} retain ${retain} id ${id} v${v}`)
              compared++
            }
          }
        }
      }
    }
  }
  t.equal(compared, sizes.length * 4 * (1 + 3 + 3) * 2, `${compared} frames compared, all equal`)
})

t.test('UTF-8 topics, string and empty payloads', async (t) => {
  const frames = new PublishFrames()
  const cases: [string, Buffer | string][] = [['a/é/北京', 'hé 北'], ['t', ''], ['t/x', Buffer.alloc(0)], ['x', 'plain']]
  for (const [tp, payload] of cases) {
    for (const qos of [0, 1] as const) {
      const f = frames.frame(tp, payload, qos, false, false)
      t.ok(f !== null)
      const mine = qos === 0 ? f! : frames.withId(f!, 42)
      t.same(mine, mqttPacketBytes(tp, payload, qos, false, false, qos === 0 ? undefined : 42, 4), `${tp} ${JSON.stringify(payload)} QoS ${qos}`)
    }
  }
  const f = frames.frame('t', undefined, 0, false, false)
  t.same(f, mqttPacketBytes('t', Buffer.alloc(0), 0, false, false, undefined, 4), 'no payload: as mqtt-packet, an empty one')
})

t.test('one frame per header byte, shared; each QoS 1 delivery its own copy with its own id', async (t) => {
  const frames = new PublishFrames()
  const payload = Buffer.from('{"kind":"panic"}')
  const a = frames.frame(topic, payload, 1, false, false)!
  t.equal(frames.frame(topic, payload, 1, false, false), a, 'the same frame for the next subscriber')
  const retained = frames.frame(topic, payload, 1, false, true)!
  t.not(retained, a, 'the retained form is its own frame')
  t.equal(retained[0], 0x33)
  const ids = [7, 8, 300]
  const copies = ids.map((id) => frames.withId(a, id))
  copies.forEach((c, i) => t.same(c, mqttPacketBytes(topic, payload, 1, false, false, ids[i], 4), `id ${ids[i]}`))
  t.same(a, mqttPacketBytes(topic, payload, 1, false, false, 0, 4), 'the shared frame is untouched by the copies')
  const other = Buffer.from('{"kind":"panic"}')
  t.not(frames.frame(topic, other, 1, false, false), a, 'another payload object: a new frame (keyed by identity, never by content)')
  frames.clear()
  t.not(frames.frame(topic, other, 1, false, false), a, 'cleared')
})

t.test('what the frame cannot hold is left to mqtt-packet', async (t) => {
  const frames = new PublishFrames()
  t.equal(frames.frame(Buffer.from('t'), 'x', 0, false, false), null, 'a Buffer topic')
  t.equal(frames.frame('t', 42, 0, false, false), null, 'a number payload')
  t.equal(frames.frame('t', 'x', 3, false, false), null, 'QoS 3')
  t.equal(frames.frame('t'.repeat(65_536), 'x', 0, false, false), null, 'a topic over 65,535 bytes')
})

t.test('MQTT 5 differs (a properties length after the id): the frame is never used for it', async (t) => {
  const frames = new PublishFrames()
  const f = frames.withId(frames.frame(topic, 'x', 1, false, false)!, 9)
  const v5 = mqttPacketBytes(topic, 'x', 1, false, false, 9, 5)
  t.equal(v5.length, f.length + 1, 'MQTT 5 carries one more byte (an empty property list)')
  t.notSame(f, v5)
})
