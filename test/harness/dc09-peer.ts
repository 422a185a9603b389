/**
 * A DC-09 receiver that misbehaves on purpose (issue 17 §4): a TCP server
 * whose answer to each message is a script. Correct ACKs for alerts come from
 * ioBroker.sia's own createACK (a receiver nobody here wrote); the script can
 * send garbage, oversize frames, NAKs, DUHs, wrong-sequence or wrong-key
 * replies before (or instead of) it, or stay silent like a half-open link.
 */
import { createServer, type Server, type Socket, type AddressInfo } from 'node:net'
import { Dc09Framer } from '../../protocols/dc09/framer.js'
import { buildFrame, parseFrame, type Dc09Message } from '../../protocols/dc09/frame.js'
import { offlineReceiver, type SiaAccount } from './iobroker-sia.js'

export interface PeerMessage { frame: Buffer; msg: Dc09Message; conn: number; at: number }

export type Script = (m: PeerMessage, nth: number, reply: Replies) => void

export interface Replies {
  /** ioBroker.sia's ACK for an alert (our codec's for a NULL poll, which ioBroker.sia cannot ACK). */
  ack(): void
  nak(): void
  duh(): void
  /** A reply built by our codec with fields overridden (wrong seq, wrong account, wrong key...). */
  custom(o: { token: string; seq?: number; account?: string; key?: Buffer | null }): void
  raw(b: Buffer): void
  /** Stay silent on this connection from now on (half-open). */
  hang(): void
}

export interface Peer { port: number; messages: PeerMessage[]; connections: number; close(): Promise<void> }

export async function startPeer(account: SiaAccount, key: Buffer | null, script: Script): Promise<Peer> {
  const sia = offlineReceiver([account], 0)
  const messages: PeerMessage[] = []
  const socks = new Set<Socket>()
  let connections = 0
  const server: Server = createServer((sock) => {
    const conn = ++connections
    socks.add(sock)
    sock.on('close', () => socks.delete(sock))
    sock.on('error', () => {})
    let hung = false
    const framer = new Dc09Framer()
    sock.on('data', (chunk) => {
      if (hung) return
      for (const frame of framer.push(chunk)) {
        const p = parseFrame(frame, () => key)
        if (!p.ok) throw new Error(`peer could not parse our frame: ${p.error}`)
        const m: PeerMessage = { frame, msg: p.value, conn, at: Date.now() }
        messages.push(m)
        const nth = messages.filter((x) => x.msg.seq === m.msg.seq).length
        const own = (o: { token: string; seq?: number; account?: string; key?: Buffer | null }): Buffer => {
          const k = o.key === undefined ? key : o.key
          const b = buildFrame({ token: o.token, encrypted: k !== null, seq: o.seq ?? Number(m.msg.seq), receiver: m.msg.receiver, prefix: m.msg.prefix, account: o.account ?? m.msg.account, data: '', time: Date.now(), key: k })
          if (!b.ok) throw new Error(b.error)
          return b.value
        }
        script(m, nth, {
          ack: () => sock.write(m.msg.token === 'NULL' ? own({ token: 'ACK' }) : sia.createACK(sia.parseSIA(frame))),
          nak: () => sock.write(sia.createNACK(frame)),
          duh: () => sock.write(own({ token: 'DUH' })),
          custom: (o) => sock.write(own(o)),
          raw: (b) => sock.write(b),
          hang: () => { hung = true },
        })
      }
    })
  })
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()))
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    get connections() { return connections },
    async close() {
      for (const s of socks) s.destroy()
      await new Promise<void>((res) => server.close(() => res()))
    },
  }
}
