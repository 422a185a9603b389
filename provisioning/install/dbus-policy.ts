/**
 * The D-Bus system bus policy that lets the service user talk to BlueZ
 * (issue 7 §5). The system bus denies method calls by default; Debian's own
 * bluetooth.conf allows the "bluetooth" group, but not every image ships it,
 * and a policy naming the service user does not depend on group membership.
 * Only the interfaces the BLE transport uses (devices/ble-whistle/
 * hw-bluez-discovery.ts: ObjectManager.GetManagedObjects, Properties.Get/Set,
 * Adapter1 discovery) and Device1 are opened, not all of org.bluez
 * (which includes pairing agents and GATT writes).
 * dbus-daemon re-reads /etc/dbus-1/system.d/ by itself when a file changes.
 */

export const BLUEZ_INTERFACES = [
  'org.bluez.Adapter1',
  'org.bluez.Device1',
  'org.freedesktop.DBus.Properties',
  'org.freedesktop.DBus.ObjectManager',
] as const

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function renderDbusPolicy(user: string): string {
  const allows = BLUEZ_INTERFACES.map((i) => `    <allow send_destination="org.bluez" send_interface="${i}"/>`)
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- Written by \`safehouse install\`: the safehouse gateway scans for BLE
     whistles and SOS buttons through BlueZ. A re-run overwrites this file. -->
<busconfig>
  <policy user="${xmlAttr(user)}">
${allows.join('\n')}
  </policy>
</busconfig>
`
}
