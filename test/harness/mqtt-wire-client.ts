/**
 * An MQTT client on a plain socket that keeps every byte the broker sent
 * (issue 13 §4: comparing the broker's output byte for byte), built on
 * mqtt-packet's generate() and parser for MQTT 3.1, 3.1.1 and 5. It answers
 * QoS 1 PUBLISHes with PUBACKs, each in its own write or several in one.
 */
import { connect, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'
import { until } from './until.js'

export interface WireOptions {
  clientId: string
  protocolVersion: 3 | 4 | 5
  /** How QoS 1 PUBLISHes are acknowledged: one write each, or all of one read in one write. */
  acks?: 'each' | 'together' | 'none'
  /** CONNECT's clean session flag (default true). */
  clean?: boolean
  /** CONNECT's keepalive in seconds (default 60). */
  keepalive?: number
}

export class WireClient {
  readonly chunks: Buffer[] = []
  readonly packets: mqttPacket.Packet[] = []
  closed = false
  private readonly parser: mqttPacket.Parser

  private constructor(readonly socket: Socket, private readonly o: WireOptions) {
    this.parser = mqttPacket.parser({ protocolVersion: o.protocolVersion })
    this.parser.on('packet', (p) => this.packets.push(p))
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d)
      const before = this.packets.length
      this.parser.parse(d)
      if ((o.acks ?? 'each') === 'none') return
      const acks: Buffer[] = []
      for (const p of this.packets.slice(before)) {
        if (p.cmd === 'publish' && p.qos === 1) acks.push(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId! }, { protocolVersion: o.protocolVersion }))
      }
      if (o.acks === 'together') { if (acks.length > 0) socket.write(Buffer.concat(acks)) } else for (const a of acks) socket.write(a)
    })
    socket.on('error', () => {})
    socket.on('close', () => { this.closed = true })
  }

  /** Connects and sends CONNECT; resolves with the client and the CONNACK (or null if the broker closed first). */
  static async open(port: number, o: WireOptions): Promise<{ client: WireClient; connack: mqttPacket.IConnackPacket | null }> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    const c = new WireClient(socket, o)
    c.send({ cmd: 'connect', protocolId: o.protocolVersion === 3 ? 'MQIsdp' : 'MQTT', protocolVersion: o.protocolVersion, clientId: o.clientId, clean: o.clean ?? true, keepalive: o.keepalive ?? 60 } as mqttPacket.IConnectPacket)
    await until(() => c.closed || c.packets.some((p) => p.cmd === 'connack'), `${o.clientId}: CONNACK`)
    return { client: c, connack: (c.packets.find((p) => p.cmd === 'connack') as mqttPacket.IConnackPacket | undefined) ?? null }
  }

  send(p: mqttPacket.Packet): void {
    this.socket.write(mqttPacket.generate(p, { protocolVersion: this.o.protocolVersion }))
  }

  async subscribe(messageId: number, subscriptions: { topic: string; qos: 0 | 1 | 2 }[]): Promise<void> {
    this.send({ cmd: 'subscribe', messageId, subscriptions } as mqttPacket.ISubscribePacket)
    await until(() => this.packets.some((p) => p.cmd === 'suback' && p.messageId === messageId), `${this.o.clientId}: SUBACK`)
  }

  publishes(): mqttPacket.IPublishPacket[] {
    return this.packets.filter((p): p is mqttPacket.IPublishPacket => p.cmd === 'publish')
  }

  /** Every byte received, in order. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks)
  }

  end(): void {
    this.socket.destroy()
  }
}

/** Splits a byte stream into whole MQTT packets by their fixed headers ([MQTT-2.2]). */
export function frames(stream: Buffer): Buffer[] {
  const out: Buffer[] = []
  let at = 0
  while (at < stream.length) {
    let len = 0
    let mul = 1
    let i = at + 1
    for (;;) {
      const b = stream[i++]
      len += (b & 0x7f) * mul
      mul *= 128
      if ((b & 0x80) === 0) break
    }
    out.push(stream.subarray(at, i + len))
    at = i + len
  }
  return out
}
