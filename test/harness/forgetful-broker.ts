/**
 * A relay in front of a real broker that "forgets" one subscription of its
 * client, the way a NATS 2.9 cluster did after a node was killed
 * (docs/city.md): the session stays up, keepalive works, but messages on the
 * forgotten topic never reach the client, until it sends SUBSCRIBE again.
 * Bytes client -> broker pass unchanged (watched for SUBSCRIBE); broker ->
 * client is parsed (mqtt-packet, MQTT 5) and re-generated, PUBLISHes on the
 * forgotten topic dropped.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

export class ForgetfulBroker {
  port = 0
  private server: Server | null = null
  private readonly sockets = new Set<Socket>()
  /** The topic whose deliveries are dropped; null: nothing forgotten. */
  forgotten: string | null = null
  /** PUBLISHes dropped, and SUBSCRIBEs seen from the client. */
  dropped = 0
  subscribes = 0

  constructor(private readonly targetPort: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1')
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('error', () => {})
        s.on('close', () => { this.sockets.delete(s); client.destroy(); upstream.destroy() })
      }
      const fromClient = mqttPacket.parser({ protocolVersion: 5 })
      fromClient.on('packet', (p) => {
        if (p.cmd !== 'subscribe') return
        this.subscribes++
        // A new SUBSCRIBE for the forgotten topic: the broker has it again.
        if (p.subscriptions.some((s) => s.topic === this.forgotten)) this.forgotten = null
      })
      client.on('data', (b: Buffer) => { fromClient.parse(b); upstream.write(b) })
      const fromBroker = mqttPacket.parser({ protocolVersion: 5 })
      fromBroker.on('packet', (p) => {
        if (p.cmd === 'publish' && p.topic === this.forgotten) {
          this.dropped++
          return
        }
        client.write(mqttPacket.generate(p, { protocolVersion: 5 }))
      })
      upstream.on('data', (b: Buffer) => fromBroker.parse(b))
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()))
    this.port = (this.server.address() as { port: number }).port
    return this
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }
}
