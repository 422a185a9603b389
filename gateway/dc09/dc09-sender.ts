/**
 * The DC-09 path's state machine (issue 17 §3), stop-and-wait as DC-09 §5.6:
 *
 *   queue (own outbox) ──oldest──▶ frame (seq 0001-9999, fresh timestamp) ──▶ receiver
 *   ACK (same seq + account) ──▶ outbox.ack (the alert leaves the queue) ──▶ next
 *   NAK ──▶ same seq again, fresh timestamp, after a pause
 *   DUH ──▶ counted and reported; the receiver refused this message for good: it leaves the queue
 *   no answer ──▶ repeat (fresh TCP connection) `attempts` times ──▶ the other receiver
 *   nothing else sent for null_poll_s ──▶ NULL (supervision poll), ACKed like an alert
 *
 * Replies that do not parse (garbage, CRC, wrong key) or do not match what is
 * out (wrong sequence or account) are counted and ignored: only a matching ACK
 * ever removes an alert. Never throws at its caller.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../devices/time/clock.js'
import type { Outbox, OutboxEntry } from '../outbox/outbox.js'
import type { Dc09Config } from '../config/dc09-schema.js'
import { buildFrame, parseFrame } from '../../protocols/dc09/frame.js'
import { parseEndpoint, type Dc09Endpoint, type Dc09Transport, type Dc09TransportEvents } from './dc09-transport.js'

export interface Dc09Counters {
  sent: number
  acked: number
  nak: number
  duh: number
  retries: number
  failovers: number
  garbage: number
  oversize: number
  mismatched: number
  polls: number
  poll_acks: number
  unmapped: number
  socket_errors: number
}

export interface Dc09SenderOptions {
  config: Dc09Config
  key: Buffer | null
  outbox: Outbox
  transport: (ev: Dc09TransportEvents) => Dc09Transport
  clock: Clock
  log: Logger
  /** The data field for a queued alert, or null if it cannot be mapped. */
  data: (entry: OutboxEntry) => string | null
  /** Called on each alert ACK with the ms from acceptance (benchmarks, state). */
  onAcked?: (entry: OutboxEntry, ms: number) => void
  onStateChange?: () => void
}

interface InFlight { entry: OutboxEntry | null; data: string; seq: number; tries: number }

export class Dc09Sender {
  readonly counters: Dc09Counters = { sent: 0, acked: 0, nak: 0, duh: 0, retries: 0, failovers: 0, garbage: 0, oversize: 0, mismatched: 0, polls: 0, poll_acks: 0, unmapped: 0, socket_errors: 0 }
  /** 'up' after an ACK, 'down' after every receiver failed, 'unknown' until the first answer. */
  state: 'unknown' | 'up' | 'down' = 'unknown'
  lastAckAt: number | null = null
  lastDuh: string | null = null
  private readonly endpoints: Dc09Endpoint[]
  private current = 0
  private onBackupSince = 0
  private transport: Dc09Transport | null = null
  private inFlight: InFlight | null = null
  private ackTimer: TimerHandle | null = null
  private pauseTimer: TimerHandle | null = null
  private pollTimer: TimerHandle | null = null
  /** Receivers that failed in a row (a full round = all of them). */
  private failedInRow = 0
  private seq: number
  private running = false

  constructor(private readonly o: Dc09SenderOptions) {
    const c = o.config
    this.endpoints = [parseEndpoint(c.primary ?? '', 'primary')]
    if (c.backup) this.endpoints.push(parseEndpoint(c.backup, 'backup'))
    // A random first sequence number: a receiver that filters repeats by sequence
    // must not take our first alerts after a restart for repeats of the last run's.
    this.seq = 1 + (randomBytes(2).readUInt16BE(0) % 9999)
  }

  get endpoint(): 'primary' | 'backup' { return this.endpoints[this.current].name }
  get depth(): number { return this.o.outbox.stats().depth }

  start(): void {
    this.running = true
    this.transport = this.o.transport({
      onFrame: (from, f) => this.onFrame(from, f),
      onGarbage: () => { this.counters.garbage++ },
      onOversize: () => { this.counters.oversize++ },
      onError: (at, e) => { this.counters.socket_errors++; this.o.log.debug({ receiver: at.name, err: e.message }, 'dc09 socket error') },
    })
    this.o.outbox.onCommitted(() => this.pump())
    this.schedulePoll()
    this.pump()
  }

  async stop(): Promise<void> {
    this.running = false
    for (const t of [this.ackTimer, this.pauseTimer, this.pollTimer]) if (t) this.o.clock.clearTimeout(t)
    this.ackTimer = this.pauseTimer = this.pollTimer = null
    this.inFlight = null
    await this.transport?.close()
  }

  private nextSeq(): number {
    const s = this.seq
    this.seq = (this.seq % 9999) + 1
    return s
  }

  /** Send the oldest queued alert when nothing is out. */
  private pump(): void {
    while (this.running && !this.inFlight && !this.pauseTimer) {
      const entry = this.o.outbox.oldest(1)[0]
      if (!entry) return
      const data = this.o.data(entry)
      if (data === null) {
        // A kind with no code (or a record we cannot read) would block the queue for ever.
        this.counters.unmapped++
        this.o.log.warn({ id: entry.id }, 'dc09 alert has no event code; not sent on this path')
        this.o.outbox.ack(entry.id)
        continue
      }
      this.maybeRevert()
      this.inFlight = { entry, data, seq: this.nextSeq(), tries: 0 }
      this.transmit()
    }
  }

  private maybeRevert(): void {
    if (this.current !== 0 && this.o.clock.monotonic() - this.onBackupSince >= this.o.config.revert_s * 1000) this.current = 0
  }

  private transmit(): void {
    const f = this.inFlight
    if (!f || !this.transport) return
    const c = this.o.config
    const token = f.entry ? c.token : 'NULL'
    const built = buildFrame({ token, encrypted: this.o.key !== null, seq: f.seq, receiver: c.receiver, prefix: c.prefix, account: c.account ?? '', data: f.data, time: this.o.clock.now(), key: this.o.key, random: randomBytes(16) })
    if (!built.ok) {
      // Only an over-long data field gets here (a mapping override cannot make one); do not block the queue.
      this.o.log.error({ id: f.entry?.id, err: built.error }, 'dc09 frame could not be built')
      this.counters.unmapped++
      if (f.entry) this.o.outbox.ack(f.entry.id)
      this.complete()
      return
    }
    f.tries++
    if (f.entry) { f.entry.attempts++; f.entry.lastSentAt = this.o.clock.now() }
    this.counters.sent++
    // The timer first: whatever the send does, an unanswered message is repeated.
    this.ackTimer = this.o.clock.setTimeout(() => { this.ackTimer = null; this.noAnswer() }, c.ack_timeout_ms)
    this.transport.send(this.endpoints[this.current], built.value)
  }

  private onFrame(from: Dc09Endpoint, frame: Buffer): void {
    const c = this.o.config
    const p = parseFrame(frame, () => this.o.key)
    if (!p.ok) {
      this.counters.garbage++
      this.o.log.debug({ receiver: from.name, err: p.error }, 'dc09 reply dropped')
      return
    }
    const m = p.value
    const f = this.inFlight
    if (m.token === 'NAK') {
      this.counters.nak++
      if (!f || from.name !== this.endpoints[this.current].name) return
      // A NAK to a poll still proves the path and the receiver are alive (ioBroker.sia NAKs every NULL: docs/dc09.md).
      if (!f.entry) { this.pathUp(); this.complete(); return }
      this.clearAck()
      this.o.log.warn({ id: f.entry.id, seq: f.seq, receiver: from.name, receiver_time: m.timestamp }, 'dc09 NAK; repeating with a fresh timestamp')
      this.failedTry(false)
      return
    }
    const ours = f !== null && Number(m.seq) === f.seq && m.account.toUpperCase() === (c.account ?? '').toUpperCase() && m.encrypted === (this.o.key !== null) && from.name === this.endpoints[this.current].name
    if (!ours || !f) {
      this.counters.mismatched++
      this.o.log.debug({ token: m.token, seq: m.seq, receiver: from.name }, 'dc09 reply does not match the message out')
      return
    }
    if (m.token === 'ACK') {
      this.clearAck()
      this.pathUp()
      if (f.entry) {
        this.counters.acked++
        this.o.outbox.ack(f.entry.id)
        this.o.onAcked?.(f.entry, this.o.clock.now() - f.entry.acceptedAt)
      } else {
        this.counters.poll_acks++
      }
      this.complete()
    } else if (m.token === 'DUH') {
      this.clearAck()
      this.pathUp()
      this.counters.duh++
      if (f.entry) {
        this.lastDuh = f.entry.id
        this.o.log.error({ id: f.entry.id, seq: f.seq, receiver: from.name }, 'dc09 receiver answered DUH (cannot handle this message); it leaves the DC-09 queue')
        this.o.outbox.ack(f.entry.id)
      }
      this.complete()
    } else {
      this.counters.mismatched++
    }
  }

  private pathUp(): void {
    this.failedInRow = 0
    this.lastAckAt = this.o.clock.now()
    if (this.state !== 'up') { this.state = 'up'; this.o.onStateChange?.() }
  }

  private clearAck(): void {
    if (this.ackTimer) this.o.clock.clearTimeout(this.ackTimer)
    this.ackTimer = null
  }

  private complete(): void {
    this.inFlight = null
    if (!this.o.config.tcp_keep_open) this.transport?.release(this.endpoints[this.current])
    this.schedulePoll()
    this.pump()
  }

  private noAnswer(): void {
    const f = this.inFlight
    if (!f) return
    // A half-open TCP connection accepts writes and never answers: the repeat goes over a fresh one.
    this.transport?.reset(this.endpoints[this.current])
    this.failedTry(true)
  }

  /** A try failed (no answer, or NAK): repeat here, or switch receivers, or pause after a full round. */
  private failedTry(timedOut: boolean): void {
    const f = this.inFlight
    if (!f) return
    const c = this.o.config
    if (f.tries < c.attempts) {
      this.counters.retries++
      if (timedOut) this.transmit()
      else this.pauseThen(Math.min(1000, c.retry_pause_ms))
      return
    }
    f.tries = 0
    this.failedInRow++
    if (this.endpoints.length > 1) {
      this.counters.failovers++
      this.current = (this.current + 1) % this.endpoints.length
      if (this.current !== 0) this.onBackupSince = this.o.clock.monotonic()
      this.o.log.warn({ receiver: this.endpoints[this.current].name, seq: f.seq }, 'dc09 switching receiver')
    }
    if (this.failedInRow >= this.endpoints.length) {
      this.failedInRow = 0
      if (this.state !== 'down') { this.state = 'down'; this.o.onStateChange?.(); this.o.log.error({ depth: this.depth }, 'dc09 no receiver answers; alerts stay queued') }
      // A poll that failed everywhere has done its job (the path is down); queued alerts go first after the pause.
      if (!f.entry) this.inFlight = null
      this.pauseThen(c.retry_pause_ms)
    } else {
      this.transmit()
    }
  }

  private pauseThen(ms: number): void {
    this.pauseTimer = this.o.clock.setTimeout(() => {
      this.pauseTimer = null
      if (this.inFlight) this.transmit()
      else { this.schedulePoll(); this.pump() }
    }, ms)
  }

  private schedulePoll(): void {
    if (this.pollTimer) this.o.clock.clearTimeout(this.pollTimer)
    this.pollTimer = null
    const every = this.o.config.null_poll_s * 1000
    if (!every || !this.running) return
    this.pollTimer = this.o.clock.setTimeout(() => {
      this.pollTimer = null
      if (this.inFlight || this.pauseTimer) { this.schedulePoll(); return }
      this.maybeRevert()
      this.counters.polls++
      this.inFlight = { entry: null, data: '', seq: this.nextSeq(), tries: 0 }
      this.transmit()
    }, every)
  }
}
