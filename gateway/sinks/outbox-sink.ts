/**
 * Own alerts into the outbox (DESIGN §4 "Never lose an alert"): the uplink
 * sends them once they are durable and deletes them on the station's ack.
 * Neighbours' alerts are not ours to deliver to the station: their own post does.
 */
import type { CoreEvent, EventSink } from '../core/event-core.js'
import { EventClass } from '../../protocols/event-kinds.js'
import type { Outbox } from '../outbox/outbox.js'
import type { DeviceTable } from '../core/device-table.js'

export class OutboxSink implements EventSink {
  readonly name = 'outbox'
  constructor(
    private readonly outbox: Outbox,
    private readonly devices: DeviceTable,
    private readonly alertTopics: readonly string[],
    private readonly idOf: (seq: number) => string,
  ) {}

  onEvent(ev: CoreEvent): void {
    if (ev.cls !== EventClass.ALERT) return
    this.outbox.append({
      id: this.idOf(ev.seq),
      device: this.devices.get(ev.device).id,
      topic: this.alertTopics[ev.device],
      payload: ev.retainPayload(),
      acceptedAt: ev.sentTime,
    })
  }
}
