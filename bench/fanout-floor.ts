/**
 * The floor for bench/fanout.ts (issue 13 §4): what Node's net.Socket alone
 * costs for the fan-out's traffic, with no broker behind it. It answers
 * CONNECT, SUBSCRIBE and PINGREQ, acknowledges the publisher's QoS 1
 * PUBLISHes and writes each one to every subscriber (one frame per publish,
 * publish-frame.ts, copied with each subscriber's packet id: one socket write
 * per delivery, as both brokers do), and drops the subscribers' PUBACKs (one
 * socket read each). No logins, no ACL, no aedes: not a broker, a reference.
 *
 *   node --import tsx bench/fanout-floor.ts PORT
 *
 * Prints "listening" on stdout once it accepts connections; runs until killed.
 */
import { createServer, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'
import { PublishFrames } from '../gateway/broker/publish-frame.js'

const port = Number(process.argv[2])
const subscribers = new Set<{ socket: Socket; nextId: number }>()
const frames = new PublishFrames()

createServer((socket) => {
  socket.setNoDelay(true)
  const me = { socket, nextId: 1 }
  const parser = mqttPacket.parser()
  let subscribed = false
  parser.on('packet', (p: mqttPacket.Packet) => {
    if (p.cmd === 'connect') {
      socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }))
    } else if (p.cmd === 'subscribe') {
      subscribers.add(me)
      subscribed = true
      socket.write(mqttPacket.generate({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map((s) => s.qos) }))
    } else if (p.cmd === 'publish') {
      if (p.qos === 1) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId! }))
      const frame = frames.frame(p.topic, p.payload, 1, false, false)!
      for (const s of subscribers) {
        const id = s.nextId
        s.nextId = id >= 65535 ? 1 : id + 1
        s.socket.write(frames.withId(frame, id))
      }
      frames.clear()
    } else if (p.cmd === 'pingreq') {
      socket.write(mqttPacket.generate({ cmd: 'pingresp' }))
    }
  })
  // A subscriber's PUBACK (0x40 0x02 id id, one read each) is read and dropped.
  socket.on('data', (d: Buffer) => { if (!(subscribed && d.length === 4 && d[0] === 0x40)) parser.parse(d) })
  socket.on('error', () => {})
  socket.on('close', () => subscribers.delete(me))
}).listen(port, '127.0.0.1', () => process.stdout.write('listening\n'))
process.on('SIGTERM', () => process.exit(0))
