/**
 * How the command room sorts an alert (station-api AlertRow.cls/priority):
 * an alarm a person raised above trouble, trouble above information
 * (docs/protocol.md §Alert lists the kinds).
 */
import type { AlertClass } from '../station-api.js'

const PRIORITY: Record<string, number> = {
  panic: 0, silent_holdup: 0, duress: 0,
  whistle: 1, sos: 1, check_in: 3,
  tamper: 2, wire_cut: 2, wire_short: 2, stuck: 2, missing: 2, low_battery: 2, mains_lost: 2, lamp_fault: 2,
  lamp_dark: 2, door_open: 2, channel_fault: 2, device_fault: 2, gateway_trouble: 2, escalation: 1, roll_call_missed: 2, path_failure: 2,
}

export function classify(kind: string, test: boolean): { cls: AlertClass; priority: number } {
  const p = test ? 3 : (PRIORITY[kind] ?? 3)
  return { cls: p <= 1 ? 'alarm' : p === 2 ? 'trouble' : 'info', priority: p }
}
