/**
 * Turn what D-Bus / BlueZ throws into a message a technician can act on
 * (DESIGN §4: "every error a user can cause says what is wrong, where, and
 * what to do"). Pure: no dbus-next import; works on the error's name/code.
 * The fixes named here are described in docs/devices/ble.md "BlueZ setup on the Pi".
 */
import { userInfo } from 'node:os'

export type BluezFaultKind =
  | 'no-bus' | 'bus-denied' | 'no-bluetoothd' | 'policy-denied' | 'no-adapter'
  | 'rfkill' | 'not-ready' | 'timeout' | 'other'

export interface BluezFault {
  kind: BluezFaultKind
  /** One line: what is wrong, where, what to do. */
  message: string
}

function serviceUser(): string {
  try { return userInfo().username } catch { return 'the service user' }
}

/** Name of a DBusError (dbus-next puts it in `type`) or a Node errno code. */
export function errorName(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const o = e as { type?: unknown; code?: unknown; name?: unknown }
    if (typeof o.type === 'string') return o.type
    if (typeof o.code === 'string') return o.code
  }
  return ''
}

export function errorText(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const o = e as { text?: unknown; message?: unknown }
    if (typeof o.text === 'string' && o.text) return o.text
    if (typeof o.message === 'string') return o.message
  }
  return String(e)
}

/** A failure to open or authenticate on the bus itself. */
export function explainConnectError(e: unknown, busAddress: string): BluezFault {
  const code = errorName(e)
  const where = busAddress || 'the system bus'
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return { kind: 'no-bus', message: `cannot reach the D-Bus system bus at ${where} (${code}): is dbus running (systemctl status dbus)? In a container, mount /run/dbus/system_bus_socket; or set ble.bus_address` }
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return { kind: 'bus-denied', message: `permission denied opening ${where} (${code}): user ${serviceUser()} may not use the bus socket; check its file mode and the service's sandboxing (systemd ProtectSystem/PrivateDevices)` }
  }
  return { kind: 'no-bus', message: `D-Bus connection to ${where} failed: ${errorText(e)}` }
}

/** A failed call to org.bluez (or to the bus daemon about org.bluez). */
export function explainBluezError(e: unknown, adapter: string): BluezFault {
  const name = errorName(e)
  const text = errorText(e)
  switch (name) {
    case 'org.freedesktop.DBus.Error.ServiceUnknown':
    case 'org.freedesktop.DBus.Error.NameHasNoOwner':
      return { kind: 'no-bluetoothd', message: 'bluetoothd is not running (no owner of org.bluez on the system bus): sudo systemctl enable --now bluetooth' }
    case 'org.freedesktop.DBus.Error.AccessDenied':
    case 'org.bluez.Error.NotPermitted':
    case 'org.bluez.Error.NotAuthorized':
      return { kind: 'policy-denied', message: `D-Bus policy denies user ${serviceUser()} access to org.bluez (${text}): install the policy file from docs/devices/ble.md as /etc/dbus-1/system.d/safehouse-bluez.conf (or add the user to group bluetooth) and run sudo systemctl reload dbus` }
    case 'org.bluez.Error.Blocked':
    case 'org.bluez.Error.NotReady':
      if (name === 'org.bluez.Error.Blocked' || /rfkill|blocked/i.test(text)) {
        return { kind: 'rfkill', message: `adapter ${adapter} is blocked by rfkill: sudo rfkill unblock bluetooth (and check no other service powers it off)` }
      }
      return { kind: 'not-ready', message: `adapter ${adapter} is not ready (${text}): it may be powering up; retrying` }
    case 'org.freedesktop.DBus.Error.NoReply':
    case 'ETIMEDOUT':
      return { kind: 'timeout', message: `bluetoothd did not answer in time (${text}): it may be stuck; sudo systemctl restart bluetooth` }
    default:
      if (/blocked|rfkill/i.test(text)) return { kind: 'rfkill', message: `adapter ${adapter} is blocked by rfkill (${text}): sudo rfkill unblock bluetooth` }
      return { kind: 'other', message: `BlueZ call failed on ${adapter}: ${name || 'error'}: ${text}` }
  }
}

/** The configured adapter is not among BlueZ's adapters. */
export function explainNoAdapter(adapter: string, found: readonly string[]): BluezFault {
  const list = found.length ? `found: ${found.join(', ')}; set ble.adapter to one of them` : 'BlueZ reports no adapter at all'
  return {
    kind: 'no-adapter',
    message: `Bluetooth adapter ${adapter} not found on org.bluez (${list}). Check bluetoothctl list, rfkill list, that dtoverlay=disable-bt is not set on the Pi, and that hciuart/the USB dongle is up; waiting for it to appear`,
  }
}
