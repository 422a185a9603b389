/**
 * Which alert kinds are standing faults (shown in device state until a
 * `restored` event with value = that kind clears them), and which are alarms.
 */
import { Kind } from '../../protocols/event-kinds.js'

export const ALARM_KINDS: ReadonlySet<number> = new Set([Kind.PANIC, Kind.SILENT_HOLDUP, Kind.DURESS, Kind.WHISTLE, Kind.SOS])

/** Alarms that must not show on the post's own lamp box (a silent hold-up warns nobody at the scene). */
export const SILENT_KINDS: ReadonlySet<number> = new Set([Kind.SILENT_HOLDUP, Kind.DURESS])

/**
 * Alerts the gateway raises ABOUT a device (its silence, an unacknowledged alert's escalation)
 * rather than hears FROM it: they must never count as the device being alive.
 */
export function isRaisedByGateway(kind: number): boolean {
  return kind === Kind.MISSING || kind === Kind.ESCALATION
}

/** Roll-call answers (issue 15) are one-off events, never a standing fault: nothing restores them. */
export function isFaultKind(kind: number): boolean {
  return kind < 32 && !ALARM_KINDS.has(kind) && kind !== Kind.RESTORED && kind !== Kind.TEST && kind !== Kind.CANCEL && kind !== Kind.ESCALATION &&
    kind !== Kind.CHECK_IN && kind !== Kind.ROLL_CALL_MISSED
}
