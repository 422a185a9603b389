/**
 * One MQTT 3.1.1 PUBLISH serialised once and reused for every subscriber
 * (issue 13 §4: aedes serialises each forwarded PUBLISH again for each
 * subscriber, in ~6 corked pieces through mqtt-packet's writeToStream).
 *
 * The layout is fixed ([MQTT-3.3]): fixed header byte (0x30 | dup << 3 |
 * qos << 1 | retain), Remaining Length (1-4 bytes, [MQTT-2.2.3]), topic length
 * (2 bytes) and UTF-8 topic, the 2-byte Packet Identifier when QoS > 0, and the
 * payload. So one PUBLISH differs between subscribers only in its header byte
 * (the QoS granted, the retain flag as the subscription asks) and its packet
 * id; a frame is cached per header byte and a QoS > 0 delivery copies it and
 * writes its own id at `idAt`. The bytes are those mqtt-packet 9.0.2 writes for
 * protocol version 3 and 4 (the only versions aedes 1.2.0 accepts: it answers an
 * MQTT 5 CONNECT with CONNACK 1, so no MQTT 5 PUBLISH, with its properties and
 * topic aliases, is ever written); test/gateway/broker/publish-frame.test.ts
 * compares them byte for byte.
 */

/** Remaining Length above this cannot be encoded ([MQTT-2.2.3]); mqtt-packet refuses it. */
const MAX_REMAINING = 268_435_455

export class PublishFrames {
  private topic: string | null = null
  private payload: Buffer | string | null = null
  /** Frames of the current (topic, payload) by the low nibble of their header byte. */
  private readonly frames: (Buffer | undefined)[] = new Array<Buffer | undefined>(16).fill(undefined)
  /** Offset of the packet id in the QoS > 0 frames of the current (topic, payload). */
  idAt = 0

  /**
   * The frame of this PUBLISH, or null where the fast path does not apply (a topic that is not a
   * string, a payload that is neither Buffer nor string, QoS other than 0-2, too long): the caller
   * then writes it with mqtt-packet as aedes would. The Buffer is shared: QoS 0 frames are written
   * as they are; a QoS > 0 frame must be copied before its id is set (`withId`).
   */
  frame(topic: unknown, payload: unknown, qos: number, dup: boolean, retain: boolean): Buffer | null {
    if (typeof topic !== 'string' || (qos !== 0 && qos !== 1 && qos !== 2)) return null
    if (payload === undefined || payload === null || payload === '') payload = EMPTY // mqtt-packet: `payload || empty`
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return null
    if (topic !== this.topic || payload !== this.payload) {
      this.topic = topic
      this.payload = payload
      this.frames.fill(undefined)
    }
    const header = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 0x01 : 0)
    let f = this.frames[header & 0x0f]
    if (f === undefined) {
      const built = build(header, topic, payload, qos > 0)
      if (built === null) return null
      f = built.bytes
      if (qos > 0) this.idAt = built.idAt // the same for every QoS > 0 frame of this (topic, payload)
      this.frames[header & 0x0f] = f
    }
    return f
  }

  /** A copy of a QoS > 0 frame with this delivery's packet id. */
  withId(frame: Buffer, messageId: number): Buffer {
    const out = Buffer.allocUnsafe(frame.length)
    frame.copy(out, 0)
    out[this.idAt] = messageId >> 8
    out[this.idAt + 1] = messageId & 0xff
    return out
  }

  /** Drops the cached frames (their payload may be large; called when a batch of deliveries is done). */
  clear(): void {
    if (this.topic === null) return
    this.topic = null
    this.payload = null
    this.frames.fill(undefined)
  }
}

const EMPTY = Buffer.alloc(0)

function varIntLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4
}

function build(header: number, topic: string, payload: Buffer | string, withId: boolean): { bytes: Buffer; idAt: number } | null {
  const topicBytes = Buffer.byteLength(topic)
  const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  const remaining = 2 + topicBytes + (withId ? 2 : 0) + payloadBytes
  if (remaining > MAX_REMAINING || topicBytes > 0xffff) return null
  const out = Buffer.allocUnsafe(1 + varIntLength(remaining) + remaining)
  let at = 0
  out[at++] = header
  let n = remaining
  do {
    let digit = n % 128
    n = Math.floor(n / 128)
    if (n > 0) digit |= 0x80
    out[at++] = digit
  } while (n > 0)
  out[at++] = topicBytes >> 8
  out[at++] = topicBytes & 0xff
  at += out.write(topic, at, 'utf8')
  const idAt = at
  if (withId) {
    out[at++] = 0
    out[at++] = 0
  }
  if (typeof payload === 'string') out.write(payload, at, 'utf8')
  else payload.copy(out, at)
  return { bytes: out, idAt }
}
