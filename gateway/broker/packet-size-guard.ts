/**
 * Refuses oversized MQTT packets before anything buffers them (issue 2 "Bad
 * input"). aedes parses with mqtt-packet without a size limit, and the MQTT
 * Remaining Length allows 256 MB ([MQTT-2.2.3]), so a local client could make
 * the broker hold a huge packet in memory. This wrapper reads only the fixed
 * headers as bytes stream past and cuts the connection as soon as a header
 * announces more than the limit.
 *
 * It sits between the socket and aedes as a Duplex, but both directions bypass
 * the Duplex's own buffers (issue 13 §4: every delivery to every subscriber and
 * every PUBACK passes here, and a second stream layer cost broker CPU per
 * delivery for nothing): socket data is checked and handed to aedes' `read()`
 * directly, and the pieces aedes writes while corked go to the socket as one
 * Buffer. The Duplex remains for what aedes needs of a stream: `readable`,
 * `end`, `error`, `close` and `drain` events, `destroy()`, stream.finished().
 */
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'

const enum State { TYPE, LENGTH, BODY }

/** Socket data held for aedes beyond this pauses the socket (a Readable's default high-water mark). */
const READ_HIGH_WATER = 16 * 1024

type WriteCallback = (err?: Error | null) => void

export class PacketSizeGuard extends Duplex {
  private state = State.TYPE
  private remaining = 0
  private multiplier = 1
  private lengthBytes = 0
  /** Checked socket data aedes has not read yet. */
  private unread: Buffer[] = []
  private unreadBytes = 0
  /** Pieces written while corked, sent as one Buffer at the last uncork. */
  private corks = 0
  private pieces: (Buffer | string)[] = []
  private piecesBytes = 0
  private pieceCallbacks: WriteCallback[] | null = null
  /**
   * Offered each chunk that starts a packet while nothing is unread (shared-delivery.ts: a clean
   * session's PUBACKs, issue 13 §4); returning true takes the chunk, which then neither passes the
   * size check nor reaches aedes. Only for chunks of whole packets within the size limit, so the
   * packet boundaries tracked here stay right.
   */
  takeWholePackets: ((chunk: Buffer) => boolean) | null = null

  constructor(
    private readonly socket: Socket,
    private readonly maxPacketBytes: number,
    private readonly onOversize: (announced: number) => void,
  ) {
    super({ allowHalfOpen: false })
    socket.on('data', (chunk: Buffer) => {
      if (this.state === State.TYPE && this.unreadBytes === 0 && this.takeWholePackets?.(chunk) === true) return
      const announced = this.scan(chunk)
      if (announced >= 0) {
        this.onOversize(announced)
        socket.destroy()
        this.destroy()
        return
      }
      this.unread.push(chunk)
      this.unreadBytes += chunk.length
      if (this.unreadBytes >= READ_HIGH_WATER) socket.pause()
      // aedes reads on 'readable' with read(null) (or later, when it has handled what it read);
      // emitted here rather than through the Readable's buffer and its nextTick.
      this.emit('readable')
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

  /**
   * aedes' read(null) takes everything checked so far. read(0) (the Readable's own probe) and the
   * end of the stream go to the Readable, which only ever holds the end.
   */
  override read(size?: number): Buffer | null {
    if (this.unreadBytes === 0 || size === 0) return super.read(size) as Buffer | null
    let out = this.unread.length === 1 ? this.unread[0] : Buffer.concat(this.unread, this.unreadBytes)
    if (size !== undefined && size !== null && size < out.length) {
      this.unread = [out.subarray(size)]
      this.unreadBytes = out.length - size
      out = out.subarray(0, size)
    } else {
      this.unread = []
      this.unreadBytes = 0
    }
    if (this.unreadBytes < READ_HIGH_WATER && this.socket.isPaused()) this.socket.resume()
    return out
  }

  override _read(): void {
    // Nothing to do: data arrives through the socket's 'data' events, never through push().
  }

  /**
   * aedes writes through mqtt-packet, which corks, writes a PUBLISH in ~6 pieces (header, length,
   * topic length, topic, packet id, payload) and uncorks on the next tick. The pieces are gathered
   * here and go to the socket as one Buffer: one write request and one write(2) per packet (with
   * TCP_NODELAY, one segment) instead of six buffered writes and a writev. The result tells aedes
   * whether the socket wants it to wait for 'drain' (re-emitted from the socket).
   */
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (typeof encoding === 'function') {
      cb = encoding
      encoding = undefined
    }
    if (this.socket.destroyed) return true // as a closed connection's writes were dropped before
    if (this.corks === 0) return this.socket.write(chunk as Buffer, (encoding ?? 'utf8') as BufferEncoding, cb as WriteCallback | undefined)
    if (typeof chunk === 'string') {
      const enc = (encoding ?? 'utf8') as BufferEncoding
      this.pieces.push(enc === 'utf8' ? chunk : Buffer.from(chunk, enc))
      this.piecesBytes += Buffer.byteLength(chunk, enc)
    } else {
      this.pieces.push(chunk as Buffer)
      this.piecesBytes += (chunk as Buffer).length
    }
    if (typeof cb === 'function') (this.pieceCallbacks ??= []).push(cb as WriteCallback)
    return !this.socket.writableNeedDrain
  }

  override cork(): void {
    this.corks++
  }

  override uncork(): void {
    if (this.corks > 0 && --this.corks === 0) this.flush()
  }

  private flush(): void {
    const pieces = this.pieces
    const callbacks = this.pieceCallbacks
    const bytes = this.piecesBytes
    this.pieces = []
    this.piecesBytes = 0
    this.pieceCallbacks = null
    if (pieces.length === 0 || this.socket.destroyed) return
    let out: Buffer
    if (pieces.length === 1 && typeof pieces[0] !== 'string') {
      out = pieces[0]
    } else {
      out = Buffer.allocUnsafe(bytes)
      let at = 0
      for (const p of pieces) at += typeof p === 'string' ? out.write(p, at, 'utf8') : p.copy(out, at)
    }
    this.socket.write(out, callbacks === null ? undefined : (err) => { for (const c of callbacks) c(err) })
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
