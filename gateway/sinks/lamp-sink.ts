/**
 * Drives the lamp box from events (DESIGN §2 "actuators", issue 5): an alarm
 * at this post -> 'alarm'; a neighbour's alarm -> 'neighbour-alarm'; the
 * station's ack -> 'acknowledged'. Silent hold-up and duress never light the
 * post's own lamp (that would warn the attacker); they still reach the station.
 *
 * "acknowledged" (blue steady, "help is coming") belongs to an alarm a person
 * raised here and the lamp showed: an ack of a trouble alert (door open,
 * restored, missing, escalation...) or of a silent alarm leaves the lamp as it
 * is (issue 11 §6; docs/devices/lamp-box.md "What the lamp means").
 */
import type { CoreEvent, EventSink } from '../core/event-core.js'
import { EventClass, kindFromName } from '../../protocols/event-kinds.js'
import type { LampActuator, LampPattern } from '../../devices/device-driver.js'
import { ALARM_KINDS, SILENT_KINDS } from '../state/fault-kinds.js'

export class LampSink implements EventSink {
  readonly name = 'lamp'
  constructor(private readonly lamp: LampActuator, private readonly onPattern: (p: LampPattern) => void = () => {}) {}

  onEvent(ev: CoreEvent): void {
    if (ev.cls !== EventClass.ALERT || !ALARM_KINDS.has(ev.kind) || SILENT_KINDS.has(ev.kind)) return
    if (ev.test) return this.set('test', 'walk test')
    this.set('alarm', 'alert at this post')
  }

  /**
   * A group neighbour's alarm (issue 6 §5). It never covers this post's own
   * alarm: the lamp says "alarm here" until the station acknowledges it.
   */
  neighbourAlarm(kind: number): void {
    if (!ALARM_KINDS.has(kind) || SILENT_KINDS.has(kind) || this.lamp.pattern === 'alarm') return
    this.set('neighbour-alarm', 'neighbour alert')
  }

  /** The station acknowledged an alert of `kind` (wire name): only an alarm the lamp shows turns it "acknowledged". */
  acknowledged(kind: string): boolean {
    const k = kindFromName(kind)
    if (k === undefined || !ALARM_KINDS.has(k) || SILENT_KINDS.has(k)) return false
    this.set('acknowledged', 'station acknowledged')
    return true
  }

  set(p: LampPattern, reason: string): void {
    const before = this.lamp.pattern
    this.lamp.setPattern(p, reason)
    // Another alert of a storm leaves the pattern as it was: the lamp's retained state is not republished.
    if (this.lamp.pattern !== before) this.onPattern(p)
  }
}
