/**
 * Acks seen on the station broker (`…/<post>/ack`): ours come back as an
 * echo; another instance's (or another station console's) are recorded and
 * shown live, so every console shows an ack within a second whoever made it.
 * Recording someone else's ack is not acknowledging on anyone's behalf: the
 * ack was already sent to the gateway by whoever made it.
 */
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import { PROTOCOL_ROOT } from '../../protocols/mqtt/topics.js'
import type { StationDb } from '../store/station-db.js'
import type { LiveFeed } from '../live/live-feed.js'
import type { StoreWriter } from './store-writer.js'
import type { Counters } from './counters.js'

export class AckEcho {
  static filters(sites: readonly string[]): string[] {
    return (sites.length ? sites : ['+']).map((s) => `${PROTOCOL_ROOT}/${s}/+/ack`)
  }

  static matches(topic: string): boolean {
    return topic.endsWith('/ack') && topic.startsWith(PROTOCOL_ROOT + '/') && topic.split('/').length === 5
  }

  constructor(private readonly db: StationDb, private readonly writer: StoreWriter, private readonly live: LiveFeed, private readonly own: Set<string>, private readonly counters: Counters) {}

  handle(_topic: string, payload: Buffer): void {
    const r = checkPayload<{ id: string; by: string; at: number }>('ack', payload)
    if (!r.ok) return this.counters.inc('bad_acks_seen')
    const { id, by, at } = r.value
    if (this.own.delete(id)) return
    if (!this.writer.dbOk) return void this.live.publish({ type: 'ack', id, by, at, note: null })
    void this.db.acknowledge(id, by, at, null).then((res) => {
      if (res !== 'unknown') this.live.publish({ type: 'ack', id, by, at, note: null })
    }, (e: Error) => this.writer.reportFailure(e))
  }
}
