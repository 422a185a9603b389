/**
 * ioBroker.sia 2.0.4 (npm, devDependency) as a receiving centre nobody here
 * wrote (issue 17 §4). Its receiver class `build/lib/sia.js` is an
 * EventEmitter over Node's own net/dgram/crypto; it needs nothing of the
 * ioBroker runtime (its helper module pulls axios and node-ssh, which are
 * only required, never called, by the receiver). Loaded through createRequire
 * because the package is CommonJS.
 */
import { createRequire } from 'node:module'
import type { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'

const require = createRequire(import.meta.url)

export interface SiaParsed {
  id: string
  seq: string
  lpref: string
  rpref: string
  act: string
  data_message: string
  data_extended: string
  ts: string
  crc: string
  calc_crc: string
}

export interface SiaAccount {
  accountnumber: string
  password?: string
  aes?: boolean
  hex?: boolean
}

export interface SiaReceiver extends EventEmitter {
  servertcp: import('node:net').Server
  serverudp: import('node:dgram').Socket
  setAccounts(a: SiaAccount[]): void
  serverStartTCP(): void
  serverStartUDP(): void
  parseSIA(data: Buffer): SiaParsed
  createACK(s: SiaParsed): Buffer
  createNACK(data: Buffer): Buffer
  crc16str(s: string | Buffer): number
}

type SiaCtor = new (p: { timeout?: number; host: string; port: number; logger?: unknown; sockend?: boolean }) => SiaReceiver

export function siaClass(): SiaCtor {
  return (require('iobroker.sia/build/lib/sia.js') as { sia: SiaCtor }).sia
}

const quiet = { info: () => {}, debug: () => {}, error: () => {} }

/** A receiver that parses and answers but opens no socket (codec cross-checks). */
export function offlineReceiver(accounts: SiaAccount[], timeoutS = 20): SiaReceiver {
  const Sia = siaClass()
  const r = new Sia({ host: '127.0.0.1', port: 0, timeout: timeoutS, logger: quiet })
  r.setAccounts(accounts)
  // The constructor creates (unbound) sockets; close the UDP one so nothing lingers.
  r.serverudp.close()
  return r
}

export interface RunningReceiver {
  sia: SiaReceiver
  port: number
  /** Messages parsed and ACKed, in order. */
  received: SiaParsed[]
  /** Parse errors (answered with NAK). */
  errors: string[]
  close(): Promise<void>
}

/**
 * Start it on an ephemeral port (TCP or UDP) on 127.0.0.1. The receiver's
 * `listen(0)` port is read back from its server. `sockend` defaults to true
 * (the receiver closes the TCP connection after each ACK, so every message
 * goes over a fresh connection): with sockend false ioBroker.sia keeps each
 * connection up to 30 s with a timer per message that nothing can cancel,
 * which would hold a test process open for 30 s after its last test.
 */
export async function startSiaReceiver(protocol: 'tcp' | 'udp', accounts: SiaAccount[], opts: { sockend?: boolean; port?: number } = {}): Promise<RunningReceiver> {
  const Sia = siaClass()
  const sia = new Sia({ host: '127.0.0.1', port: opts.port ?? 0, timeout: 20, logger: quiet, sockend: opts.sockend ?? true })
  sia.setAccounts(accounts)
  const received: SiaParsed[] = []
  const errors: string[] = []
  sia.on('sia', (s: SiaParsed | undefined, err: string | undefined) => {
    if (s) received.push(s)
    else errors.push(String(err))
  })
  sia.on('error', (e: unknown) => errors.push(`socket: ${String(e)}`))
  const sockets = new Set<import('node:net').Socket>()
  let port: number
  if (protocol === 'tcp') {
    sia.serverudp.close()
    sia.servertcp.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
    const listening = new Promise<void>((res) => sia.servertcp.once('listening', () => res()))
    sia.serverStartTCP()
    await listening
    port = (sia.servertcp.address() as AddressInfo).port
  } else {
    const listening = new Promise<void>((res) => sia.serverudp.once('listening', () => res()))
    sia.serverStartUDP()
    await listening
    port = sia.serverudp.address().port
  }
  return {
    sia, port, received, errors,
    async close() {
      if (protocol === 'tcp') {
        for (const s of sockets) s.destroy()
        await new Promise<void>((res) => sia.servertcp.close(() => res()))
      } else {
        await new Promise<void>((res) => { try { sia.serverudp.close(() => res()) } catch { res() } })
      }
    },
  }
}
