/**
 * Refuses oversized MQTT packets before anything buffers them (issue 2 "Bad
 * input"). aedes parses with mqtt-packet without a size limit, and the MQTT
 * Remaining Length allows 256 MB ([MQTT-2.2.3]), so a local client could make
 * the broker hold a huge packet in memory. This wrapper reads only the fixed
 * headers as bytes stream past and cuts the connection as soon as a header
 * announces more than the limit.
 *
 * It sits between the socket and aedes as a Duplex: socket data -> check ->
 * push to aedes; aedes writes -> socket.
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

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return cb()
    this.socket.write(chunk, cb)
  }

  /**
   * mqtt-packet corks the stream and writes one PUBLISH in ~6 pieces; without
   * _writev each piece became its own write(2) (and, with TCP_NODELAY, its own
   * segment), measured in bench/latency.ts. Pass them to the socket in one batch.
   */
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) return cb()
    this.socket.cork()
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i].chunk)
    this.socket.write(chunks[chunks.length - 1].chunk, cb)
    this.socket.uncork()
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb)
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy()
    cb(err)
  }
}
