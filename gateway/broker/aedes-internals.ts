/**
 * The parts of aedes 1.2.0's Client (lib/client.js) and mqtt-packet 9.0.2's
 * Parser that the shared delivery (shared-delivery.ts) and the PUBACK fast
 * path (puback-fast-path.ts) read or replace (issue 13 §4). None of it is in
 * aedes' typings: these are the fields aedes sets on its own objects, pinned
 * to the release checked at start (AEDES_VERSION).
 */

/** The aedes release whose internals these modules were written against and tested with. */
export const AEDES_VERSION = '1.2.0'

export type Callback = (err?: Error | null) => void
export type Deliver = (packet: ForwardPacket, cb: Callback) => void

/** An aedes-packet Packet as mqemitter hands it to a subscription. */
export interface ForwardPacket {
  cmd?: string
  topic: unknown
  payload: unknown
  qos: number
  retain: boolean
  dup: boolean
  messageId?: number
  brokerId?: string | null
  brokerCounter?: number
  clientId?: string
  nl?: boolean
  properties?: unknown
}

export interface AedesClient {
  id: string | null
  clean: boolean
  connecting: boolean
  connected: boolean
  connackSent: boolean
  closed: boolean
  errored: boolean
  conn: { write(chunk: Buffer): boolean }
  broker: {
    authorizeForward(client: AedesClient, packet: ForwardPacket): ForwardPacket | null | undefined | false
    listenerCount(event: string): number
  }
  subscriptions: Record<string, { qos?: number } | undefined>
  duplicates: Record<string, number>
  _nextId: number
  _parser: MqttParser
  /** Packets read and not yet handled (lib/client.js `enqueue`/`nextBatch`); 0 when idle. */
  _parsingBatch: number
  _paused?: boolean
  _keepaliveInterval: number
  _keepaliveTimer: { refresh(): unknown } | null
  deliver0: Deliver
  deliverQoS: Deliver
  _onError(err?: Error | null): void
  emit(event: 'error', err: Error): boolean
  waitForDrain(cb: Callback): void
}

/** mqtt-packet 9.0.2's Parser, as far as the PUBACK fast path needs it (aedes sets `client`). */
export interface MqttParser {
  parse(buf: Buffer): number
  emit(event: 'packet', packet: object): boolean
  client?: AedesClient
  error: Error | null
  packet: { length: number; constructor: new () => { cmd: string | null; length: number; messageId?: number } }
  settings: { protocolVersion?: number }
  _list: { length: number }
  _stateCounter: number
}
