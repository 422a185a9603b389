/**
 * PUBACKs past mqtt-packet's parser and, for clean sessions, past aedes'
 * handler (issue 13 §4: at 100 QoS 1 subscribers reading each PUBACK was 46 %
 * of the broker's user time, bench/RESULTS.md helper i13f2).
 *
 * What aedes 1.2.0 does with a PUBACK (lib/handlers/index.js `handle`,
 * puback.js): refreshes the client's keepalive timer, asks the persistence to
 * remove the outgoing packet with that id (`outgoingClearMessageId`, a Promise
 * and, in aedes-persistence's memory store, a Map entry created for the client
 * if it had none), emits 'ack' (the packet removed, or undefined) on the broker,
 * then reads on (`nextBatch`). For a clean session the outgoing store holds
 * nothing of ours to remove: aedes writes a clean client's QoS 1 deliveries
 * without `outgoingUpdate` (lib/client.js `deliverQoS`: `that.clean ||
 * packet.retain`), and the messages queued for a persistent session of the same
 * client id are cleared, never written, when a clean session takes it over
 * (connect.js `emptyQueue`, with ids of their own from `_nextId`). So for a
 * clean session the PUBACK's only effects are the keepalive and 'ack'.
 *
 * `takePubacks` does exactly that part, synchronously, for a chunk made only of
 * whole MQTT 3.1.1 PUBACKs (0x40 0x02 id id, [MQTT-3.4]) from a connected
 * clean-session client that has nothing else in hand (no packet being handled,
 * the parser empty, not paused), and only while nothing listens to the
 * broker's 'ack' event (nothing in the gateway does; a listener turns it off,
 * so whoever listens gets every 'ack' from aedes). A PUBACK for an id never
 * sent is as harmless as in aedes (there: nothing removed, 'ack' with
 * undefined). Anything else goes the way it went: persistent sessions, PUBACKs
 * split across reads or sharing one with other packets, garbage.
 *
 * `installPubackFastPath` is the older half: a whole-PUBACK chunk that reaches
 * the parser anyway is emitted packet by packet as mqtt-packet's parser would
 * (same object shape, same 'packet' listener, synchronously) without its `bl`
 * list and debug calls, and aedes handles each.
 */
import type { AedesClient, MqttParser } from './aedes-internals.js'

/** PUBACKs handled without aedes' handler, since start (tests and benchmarks read it). */
export interface PubackCounts { taken: number }

/** True if the chunk is only whole PUBACKs (length a multiple of 4, each 0x40 0x02 id id). */
function onlyPubacks(buf: Buffer): boolean {
  const n = buf.length
  if (n === 0 || (n & 3) !== 0) return false
  for (let i = 0; i < n; i += 4) if (buf[i] !== 0x40 || buf[i + 1] !== 0x02) return false
  return true
}

function parserIdle(p: MqttParser): boolean {
  return p.error === null && p._list.length === 0 && p._stateCounter === 0 && p.packet.length === -1 && p.settings.protocolVersion !== 5
}

/** Handles the chunk's PUBACKs as aedes would for a clean session and returns true, or returns false and leaves the chunk alone. */
export function takePubacks(client: AedesClient, chunk: Buffer, counts: PubackCounts): boolean {
  if (!client.clean || !client.connected || !client.connackSent || client.closed || client._paused === true || client._parsingBatch !== 0) return false
  if (!onlyPubacks(chunk) || !parserIdle(client._parser) || client.broker.listenerCount('ack') !== 0) return false
  // aedes' handle(): every packet from a connected client restarts its keepalive ([MQTT-3.1.2-24]).
  if (client._keepaliveInterval > 0) client._keepaliveTimer?.refresh()
  counts.taken += chunk.length >> 2
  return true
}

/** Replaces the parser's parse() with one that takes or emits whole-PUBACK chunks itself. */
export function installPubackFastPath(parser: MqttParser, client: AedesClient, counts: PubackCounts): void {
  const parse = parser.parse
  parser.parse = function fastParse(this: MqttParser, buf: Buffer): number {
    if (!onlyPubacks(buf) || !parserIdle(this)) return parse.call(this, buf)
    if (takePubacks(client, buf, counts)) return 0
    const Packet = this.packet.constructor
    for (let i = 0; i < buf.length; i += 4) {
      const packet = new Packet()
      packet.cmd = 'puback'
      packet.length = 2
      packet.messageId = (buf[i + 2] << 8) | buf[i + 3]
      this.emit('packet', packet)
    }
    return 0
  }
}
