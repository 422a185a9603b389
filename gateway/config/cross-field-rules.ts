/** Rules one field cannot check alone (run after the schema passes). */
import type { Config } from './config-types.js'
import type { ConfigProblem } from './config-error.js'
import { RESERVED_POST } from '../../protocols/mqtt/topics.js'
import { dc09Problems } from './dc09-rules.js'
import { stationProblems } from './station-rules.js'

/**
 * `given(path)`: whether the file itself sets that key (not a schema default); without the
 * file (a config built in code), only values that differ from the default count as given.
 */
export function crossFieldProblems(c: Config, given?: (path: string) => boolean): Omit<ConfigProblem, 'line'>[] {
  const out: Omit<ConfigProblem, 'line'>[] = []
  if (c.post === RESERVED_POST) out.push({ path: 'post', message: `"${RESERVED_POST}" is reserved (the group fan-out topics live under <site>/${RESERVED_POST}/)`, hint: 'choose another post id, e.g. "kiosk-017"' })
  const g = c.group_fanout
  if (g.peers.length && !c.group) out.push({ path: 'group_fanout.peers', message: 'peers are listed but the post has no group', hint: 'set group: <id> (the same on every post of the group), or remove the peers' })
  if (g.peers.length && !g.username) out.push({ path: 'group_fanout.username', message: 'peers are listed but no login for their brokers', hint: 'set group_fanout.username to the neighbour account the peers created for this post (safehouse user add NAME --role neighbour on each peer)' })
  const peerPosts = new Set<string>()
  g.peers.forEach((p, i) => {
    if (p.post === c.post) out.push({ path: `group_fanout.peers[${i}].post`, message: `"${p.post}" is this post itself`, hint: 'list only the other posts of the group' })
    if (peerPosts.has(p.post)) out.push({ path: `group_fanout.peers[${i}].post`, message: `"${p.post}" is listed twice`, hint: 'list each peer once' })
    peerPosts.add(p.post)
  })
  const seen = new Map<string, number>()
  c.devices.forEach((d, i) => {
    if (d.id === 'gateway') out.push({ path: `devices[${i}].id`, message: '"gateway" is reserved for the gateway itself', hint: 'choose another id' })
    const first = seen.get(d.id)
    if (first !== undefined) out.push({ path: `devices[${i}].id`, message: `"${d.id}" is already used by devices[${first}]`, hint: 'device ids must be unique on a post' })
    else seen.set(d.id, i)
  })
  // Panic buttons and their boards: what the drivers would otherwise refuse only at start.
  const boardIds = new Map<string, number>()
  c.boards.forEach((b, i) => {
    const first = boardIds.get(b.id)
    if (first !== undefined) out.push({ path: `boards[${i}].id`, message: `"${b.id}" is already used by boards[${first}]`, hint: 'board ids must be unique' })
    else boardIds.set(b.id, i)
  })
  c.devices.forEach((d, i) => {
    if (d.kind === 'panic-button' && d.driver === 'firmata' && !boardIds.has(d.board)) {
      const known = [...boardIds.keys()]
      out.push({ path: `devices[${i}].board`, message: `board "${d.board}" is not in the boards: section`, hint: known.length ? `known boards: ${known.join(', ')}` : 'add a boards: entry with the board port, e.g. boards: [{ id: main, port: /dev/ttyUSB0 }]' })
    }
    if (d.kind === 'panic-button' && d.driver === 'gpio' && d.wiring === 'eol_supervised') {
      out.push({ path: `devices[${i}].wiring`, message: 'eol_supervised needs an analog input, which the Pi\'s GPIO does not have', hint: 'use driver: firmata for a supervised loop, or wiring: normally_open / normally_closed' })
    }
    // A device has one role (docs/protocol.md §Roll call): a check-in press must never be read as an alarm.
    if ((d.kind === 'panic-button' || d.kind === 'ble-whistle') && d.role === 'check_in') {
      const defaultKind = d.kind === 'panic-button' ? 'panic' : 'whistle'
      const path = `devices[${i}].alert_kind`
      if (given ? given(path) : d.alert_kind !== defaultKind) {
        out.push({ path, message: `is "${d.alert_kind}", but the device has role: check_in (the roll-call button, which never raises an alarm)`, hint: 'remove alert_kind from this device, or drop role: check_in and configure a separate check-in button: one device, one role' })
      }
      if (d.kind === 'ble-whistle' && d.long_press_kind !== 'same' && d.long_press_kind !== 'none') {
        out.push({ path: `devices[${i}].long_press_kind`, message: `is "${d.long_press_kind}", but the device has role: check_in (every press of it is a check-in)`, hint: 'use long_press_kind: same (a long press checks in too) or none' })
      }
    }
    // The BLE transport is chosen once per post (ble.driver); a device cannot pick another one.
    // A device asking for the real radio while the post runs the simulated scanner would never be heard.
    if (d.kind === 'ble-whistle' && d.driver === 'bluez' && c.ble.driver !== 'bluez') {
      out.push({ path: `devices[${i}].driver`, message: 'is bluez, but ble.driver is sim: the post scans with the simulated radio and this device would never be heard', hint: 'set ble: { driver: bluez } (one scanner per post); the device needs no driver: of its own' })
    }
    // A restarted counter is accepted only after counter_reset_silence_s without a valid packet
    // (replay-policy.ts). If that silence were shorter than the burst-dedupe window, the first press
    // after a battery change could carry a packet id still remembered from before the restart and be
    // taken for a repeat: a genuine alarm eaten. Silence >= window means the window has always expired.
    if (d.kind === 'ble-whistle' && d.key_ref && d.counter_reset === 'small_after_silence' && d.counter_reset_silence_s * 1000 < d.dedupe_window_ms) {
      out.push({ path: `devices[${i}].counter_reset_silence_s`, message: `is ${d.counter_reset_silence_s} s, shorter than dedupe_window_ms (${d.dedupe_window_ms} ms): the first press after a counter restart could be taken for a repeat and lost`, hint: `set counter_reset_silence_s to at least ${Math.ceil(d.dedupe_window_ms / 1000)} (the default 60 is safe), or lower dedupe_window_ms` })
    }
  })
  const lamps = c.devices.filter((d) => d.kind === 'lamp-box').length
  if (lamps > 1) out.push({ path: 'devices', message: `${lamps} lamp boxes configured`, hint: 'a post has one lamp box; remove the extra entries' })
  const users = new Set<string>()
  c.broker.users.forEach((u, i) => {
    if (users.has(u.username)) out.push({ path: `broker.users[${i}].username`, message: `"${u.username}" is listed twice`, hint: 'each broker user once' })
    users.add(u.username)
  })
  out.push(...stationProblems(c))
  out.push(...dc09Problems(c))
  return out
}
