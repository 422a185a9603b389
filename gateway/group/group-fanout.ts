/**
 * Group fan-out (issue 6 §5): posts of a group (ten shops or kiosks to a unit)
 * answer each other's alarms.
 *
 * Out: every alarm raised at this post goes to the group topic
 * `safehouse/v1/<site>/group/<group>/alert` on BOTH paths, always: the station
 * broker (when connected) and each directly linked peer's embedded broker. The
 * sender cannot know which path a given peer can hear (its own station link
 * may be the broken one), so it uses both and the receiver keeps one copy.
 *
 * In: the same topic, read at the station and in our own broker (where the
 * peers publish). An alert is relayed once, by id. Loops cannot form: only
 * this post's own alarms are ever sent, and a payload that already carries
 * `origin_post` (a relayed copy) is refused. Our own alerts echoed back by the
 * station are ignored; so are other sites, walk-test alerts and stale ones.
 *
 * Order at the station (issue 13 §1): the alert itself goes first. The copy for
 * the station waits until the uplink has put the alert on the wire
 * (alertPublished(), called by the uplink after its publish: both go in one
 * writev, the alert first), and never longer
 * than the rest of this event-loop turn: with the memory outbox the alert is
 * committed and published in a microtask of the same turn, so the copy follows
 * it at once; with the file outbox the alert waits for its fdatasync, and the
 * copy goes at the end of the turn (setImmediate) rather than wait for the disk.
 * Peers get their copy at once: it does not travel to the station.
 *
 * Relayed = published on `<post>/neighbour-alert/<origin post>` for local
 * screens (marked with origin_post) and shown on the lamp box as
 * 'neighbour-alarm'. Off the hot path: alarms between posts are rare, so JSON
 * parse and stringify are fine here.
 */
import type { Logger } from 'pino'
import type { Clock } from '../../devices/time/clock.js'
import type { CoreEvent, EventSink } from '../core/event-core.js'
import { EventClass } from '../../protocols/event-kinds.js'
import { ALARM_KINDS } from '../state/fault-kinds.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import { RecentIds } from './recent-ids.js'

export interface GroupPath {
  readonly connected: boolean
}

export interface StationPath extends GroupPath {
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): void
}

export interface PeerPath extends GroupPath {
  readonly post: string
  readonly state: string
  publish(topic: string, payload: Buffer): boolean
}

/** What a relayed neighbour alert looks like to the rest of the gateway. */
export interface NeighbourAlert {
  id: string
  post: string
  device: string
  kind: string
  /** The alert with origin_post added. */
  payload: Buffer
}

export interface GroupFanoutOptions {
  site: string
  post: string
  topic: string
  maxAgeMs: number
  clock: Clock
  log: Logger
  station: StationPath
  peers: PeerPath[]
  relay: (alert: NeighbourAlert) => void
}

export interface GroupCounters {
  sent: number
  peerSkipped: number
  relayed: number
  repeats: number
  echoes: number
  refused: number
  stale: number
}

interface AlertBody { id: string; site: string; post: string; device: string; kind: string; sent_time: number; test: boolean; origin_post?: string }

export class GroupFanout implements EventSink {
  readonly name = 'group-fanout'
  readonly counters: GroupCounters = { sent: 0, peerSkipped: 0, relayed: 0, repeats: 0, echoes: 0, refused: 0, stale: 0 }
  private readonly seen = new RecentIds()
  /**
   * Station copies waiting for their alert's own publish, in alert order, from `head` on. One array,
   * emptied in place at the end of each turn: no array per alert on the hot path (issue 13 §2).
   */
  private readonly waiting: (Buffer | undefined)[] = []
  private head = 0
  private endOfTurn: NodeJS.Immediate | null = null
  private readonly onEndOfTurn = (): void => { this.endOfTurn = null; this.flushUpTo(this.waiting.length) }

  constructor(private readonly o: GroupFanoutOptions) {}

  /** This post's own alarms go out on both paths; trouble, state and walk-test events stay home. */
  onEvent(ev: CoreEvent): void {
    if (ev.cls !== EventClass.ALERT || ev.test || !ALARM_KINDS.has(ev.kind)) return
    const payload = ev.retainPayload()
    this.counters.sent++
    if (this.o.station.connected) {
      this.waiting.push(payload)
      this.endOfTurn ??= setImmediate(this.onEndOfTurn)
    }
    const peers = this.o.peers
    for (let i = 0; i < peers.length; i++) if (!peers[i].publish(this.o.topic, payload)) this.counters.peerSkipped++
  }

  /**
   * The uplink has just published the alert whose payload is `payload` (its outbox entry
   * carries the very Buffer the core handed every sink, event-core.ts retainPayload()): its
   * group copy, and any waiting before it, go to the station now.
   */
  alertPublished(payload: Buffer): void {
    const i = this.waiting.indexOf(payload, this.head)
    // At once: mqtt-packet corks the socket until the next tick, so the copy rides in the same
    // writev, behind the alert. (Built on the next tick instead, it cost a second writev per alert:
    // in the gateway child's profile 1,000 ms of writev against 372 ms, for ~10 µs earlier bytes.)
    if (i >= 0) this.flushUpTo(i + 1)
  }

  /** Stop (gateway stop): copies still waiting go now, while the station link is still up. */
  stop(): void {
    if (this.endOfTurn) { clearImmediate(this.endOfTurn); this.endOfTurn = null }
    this.flushUpTo(this.waiting.length)
  }

  /** Send the waiting copies before index `end`, each once, even if a publish re-enters. */
  private flushUpTo(end: number): void {
    // Still connected? A copy is never queued for later: it would arrive stale (see onEvent's test).
    const send = this.o.station.connected
    const w = this.waiting
    // `head < w.length` too: a publish that re-entered and sent the rest has emptied the array.
    while (this.head < end && this.head < w.length) {
      const payload = w[this.head] as Buffer
      w[this.head++] = undefined
      if (send) this.o.station.publish(this.o.topic, payload, 1, false)
    }
    if (this.head === w.length) { w.length = 0; this.head = 0 }
  }

  /** A message on the group topic, from the station or from a peer. */
  receive(payload: Buffer, via: 'station' | 'peer'): void {
    const r = checkPayload<AlertBody>('alert', payload)
    if (!r.ok) return this.refuse(via, r.error)
    const a = r.value
    if (a.post === this.o.post) {
      this.counters.echoes++ // our own alert, back from the station
      return
    }
    if (a.site !== this.o.site) return this.refuse(via, `alert of site "${a.site}" on this site's group topic`)
    if (a.origin_post !== undefined) return this.refuse(via, 'a relayed copy (origin_post set) is never relayed again')
    if (a.test) return this.refuse(via, 'walk-test alerts stay at their post')
    if (!this.seen.add(a.id)) {
      this.counters.repeats++
      return
    }
    const age = this.o.clock.now() - a.sent_time
    if (Math.abs(age) > this.o.maxAgeMs) {
      this.counters.stale++
      this.o.log.warn({ id: a.id, from: a.post, via, age_ms: age }, 'neighbour alert too old (or the posts\' clocks differ: check NTP); not relayed')
      return
    }
    this.counters.relayed++
    this.o.log.info({ id: a.id, from: a.post, device: a.device, kind: a.kind, via }, 'neighbour alert relayed')
    this.o.relay({ id: a.id, post: a.post, device: a.device, kind: a.kind, payload: Buffer.from(JSON.stringify({ ...a, origin_post: a.post })) })
  }

  /** Peer link states for the retained gateway state. */
  peerStates(): { post: string; state: string }[] {
    return this.o.peers.map((p) => ({ post: p.post, state: p.state }))
  }

  private refuse(via: string, why: string): void {
    this.counters.refused++
    this.o.log.warn({ via, problem: why }, 'group alert refused')
  }
}
