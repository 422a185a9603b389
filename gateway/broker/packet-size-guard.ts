/**
 * Refuses oversized MQTT packets before anything buffers them (issue 2 "Bad
 * input"). aedes parses with mqtt-packet without a size limit, and the MQTT
 * Remaining Length allows 256 MB ([MQTT-2.2.3]), so a local client could make
 * the broker hold a huge packet in memory. This wrapper reads only the fixed
 * headers as bytes stream past and cuts the connection as soon as a header
 * announces more than the limit.
 *
 * It sits between the socket and aedes as a Duplex: socket data -> check ->
 * push to aedes; aedes' writes go straight to the socket.
 */
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'

const enum State { TYPE, LENGTH, BODY }

export class PacketSizeGuard extends Duplex {
  private state = State.TYPE
  private remaining = 0
  private multiplier = 1
  private lengthBytes = 0

  constructor(
    private readonly socket: Socket,
    private readonly maxPacketBytes: number,
    private readonly onOversize: (announced: number) => void,
  ) {
    super({ allowHalfOpen: false })
    socket.on('data', (chunk: Buffer) => {
      const announced = this.scan(chunk)
      if (announced >= 0) {
        this.onOversize(announced)
        socket.destroy()
        this.destroy()
        return
      }
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('error', (err) => this.destroy(err))
    socket.on('close', () => this.destroy())
    socket.on('drain', () => this.emit('drain'))
  }

  /** Walk the chunk's packet boundaries; returns the announced size of an oversized packet, or -1. */
  private scan(chunk: Buffer): number {
    let i = 0
    while (i < chunk.length) {
      switch (this.state) {
        case State.TYPE:
          i++
          this.state = State.LENGTH
          this.remaining = 0
          this.multiplier = 1
          this.lengthBytes = 0
          break
        case State.LENGTH: {
          const b = chunk[i++]
          this.remaining += (b & 0x7f) * this.multiplier
          this.multiplier *= 128
          this.lengthBytes++
          if (this.remaining > this.maxPacketBytes) return this.remaining
          if ((b & 0x80) === 0) {
            this.state = this.remaining === 0 ? State.TYPE : State.BODY
          } else if (this.lengthBytes >= 4) {
            return Number.MAX_SAFE_INTEGER // malformed: more than 4 length bytes ([MQTT-2.2.3])
          }
          break
        }
        case State.BODY: {
          const take = Math.min(this.remaining, chunk.length - i)
          i += take
          this.remaining -= take
          if (this.remaining === 0) this.state = State.TYPE
          break
        }
      }
    }
    return -1
  }

  override _read(): void {
    this.socket.resume()
  }

  /**
   * Writes go straight to the socket, past this Duplex's own Writable (issue 13 §4): every
   * delivery to every subscriber is written here, and a second stream layer (its buffering,
   * string-to-Buffer copies, write requests and callbacks per piece) cost broker CPU per
   * delivery for nothing, as only reads need the guard. mqtt-packet corks, writes a PUBLISH
   * in ~6 pieces and uncorks on the next tick: the socket batches them into one writev(2)
   * (with TCP_NODELAY, one segment). The socket's write result and 'drain' are aedes'
   * back-pressure signal.
   */
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (this.socket.destroyed) return true // as a closed connection's writes were dropped before
    return this.socket.write(chunk as Buffer, encoding as BufferEncoding, cb as (err?: Error | null) => void)
  }

  override cork(): void {
    this.socket.cork()
  }

  override uncork(): void {
    this.socket.uncork()
  }

  /** Only end(chunk) comes through the Writable (aedes never does it); passed on as is. */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return cb()
    this.socket.write(chunk, cb)
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb)
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy()
    cb(err)
  }
}
