/**
 * Alerts to the embedded broker, in process (issue 2 §6: "the gateway
 * publishes in process"): local screens, lamp-box panels and technicians get
 * every alert first, before and regardless of the station uplink.
 */
import type { CoreEvent, EventSink } from '../core/event-core.js'
import { EventClass } from '../../protocols/event-kinds.js'
import type { EmbeddedBroker } from '../broker/embedded-broker.js'

export class LocalFanoutSink implements EventSink {
  readonly name = 'local-broker'
  constructor(private readonly broker: EmbeddedBroker, private readonly alertTopics: readonly string[]) {}

  onEvent(ev: CoreEvent): void {
    if (ev.cls !== EventClass.ALERT) return
    // aedes keeps the payload until every subscriber has it: hand it the event's stable copy.
    this.broker.publish(this.alertTopics[ev.device], ev.retainPayload(), 1, false)
  }
}
