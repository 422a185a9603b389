/**
 * Own alerts into the DC-09 queue (issue 17 §3): a second outbox beside the
 * station's, so each path's acks are independent (docs/decisions.md). The
 * record keeps what the receiving centre's codes are made from (kind, value,
 * zone = device index); the codes are chosen at send time from the mapping.
 */
import type { CoreEvent, EventSink } from '../core/event-core.js'
import { EventClass, KIND_NAMES } from '../../protocols/event-kinds.js'
import type { Outbox } from '../outbox/outbox.js'
import type { DeviceTable } from '../core/device-table.js'

export interface Dc09Record {
  kind: string
  /** Kind-specific value (for `restored`: the cleared kind's code + 256 × detail); null for NaN. */
  value: number | null
  zone: number
  hw_time: number
  test: boolean
}

export class Dc09Sink implements EventSink {
  readonly name = 'dc09'
  constructor(
    private readonly outbox: Outbox,
    private readonly devices: DeviceTable,
    private readonly idOf: (seq: number) => string,
  ) {}

  onEvent(ev: CoreEvent): void {
    if (ev.cls !== EventClass.ALERT) return
    const rec: Dc09Record = { kind: KIND_NAMES[ev.kind], value: Number.isFinite(ev.value) ? ev.value : null, zone: ev.device, hw_time: ev.hwTime, test: ev.test }
    this.outbox.append({
      id: this.idOf(ev.seq),
      device: this.devices.get(ev.device).id,
      topic: 'dc09',
      payload: Buffer.from(JSON.stringify(rec)),
      acceptedAt: ev.sentTime,
    })
  }
}
