/**
 * udev rules that give each Firmata board and the RS-485 adapter a name that
 * survives a replug and a reboot (issue 7 §5): /dev/safehouse-firmata-<board
 * id> and /dev/safehouse-rs485. /dev/ttyUSB0 and /dev/ttyACM0 are handed out
 * in detection order, so two adapters can swap names after a power cut.
 *
 * A rule matches the USB serial number (with vendor and product id when
 * known). Cheap CH340 boards have no serial number: their rule matches the
 * USB socket instead (ID_PATH), and says so. When the identity is not known,
 * the rule is written commented out, with what the technician should do.
 * The file is named 99-* so udev's 60-serial.rules have set the ID_* values.
 */
import type { Config } from '../../gateway/config/config-types.js'
import type { UsbIdentity } from './usb-identity.js'

export const UDEV_RULES_FILE = '/etc/udev/rules.d/99-safehouse.rules'

export interface SerialTarget {
  kind: 'firmata' | 'rs485'
  /** Board id, or the lamp box's device id. */
  id: string
  /** Where it is in the config, e.g. "boards[0]". */
  where: string
  /** The port the config names now. */
  port: string
  /** Name of the symlink under /dev. */
  link: string
}

export interface TargetIdentity {
  target: SerialTarget
  identity: UsbIdentity | null
  /** Why the identity is unknown (shown in the rule's comment), or a remark. */
  note: string | null
  /** The port is a built-in UART: no rule. */
  notUsb?: boolean
}

/** Every serial port the config uses for real hardware. */
export function serialTargets(c: Readonly<Config>): SerialTarget[] {
  const out: SerialTarget[] = c.boards.map((b, i) => ({ kind: 'firmata' as const, id: b.id, where: `boards[${i}]`, port: b.port, link: `safehouse-firmata-${b.id}` }))
  c.devices.forEach((d, i) => {
    if (d.kind === 'lamp-box' && d.driver === 'modbus') out.push({ kind: 'rs485', id: d.id, where: `devices[${i}]`, port: d.port, link: 'safehouse-rs485' })
  })
  return out
}

function describe(t: SerialTarget): string {
  return t.kind === 'firmata' ? `Firmata board "${t.id}" (${t.where}, port ${t.port})` : `RS-485 adapter of lamp box "${t.id}" (${t.where}, port ${t.port})`
}

function matchKeys(id: UsbIdentity, withPath: boolean): string[] | null {
  const keys = ['SUBSYSTEM=="tty"']
  if (id.vendor) keys.push(`ENV{ID_VENDOR_ID}=="${id.vendor}"`)
  if (id.model) keys.push(`ENV{ID_MODEL_ID}=="${id.model}"`)
  if (id.serial) keys.push(`ENV{ID_SERIAL_SHORT}=="${id.serial}"`)
  if ((withPath || !id.serial) && id.path) keys.push(`ENV{ID_PATH}=="${id.path}"`)
  // Vendor and product alone would also match a second board of the same make.
  if (!id.serial && !id.path) return null
  return keys
}

export function renderUdevRules(items: TargetIdentity[], configFile: string): string {
  const out = [
    `# Stable names for the safehouse gateway's serial devices, from ${configFile}.`,
    '# Written by `safehouse install`; a re-run overwrites this file (re-run it after',
    '# `safehouse pair button` or `pair lamp`, or after replacing a board or adapter).',
    '# Check: ls -l /dev/safehouse-*   Identity of a port: udevadm info --query=property --name=/dev/ttyUSB0',
    '',
  ]
  if (items.length === 0) {
    out.push('# No Firmata boards and no Modbus lamp box in the config yet: nothing to name.', '')
    return out.join('\n')
  }
  // Two boards with the same serial number (some clones share one) also need the USB socket.
  const idKey = (id: UsbIdentity | null) => (id?.serial ? `${id.vendor}:${id.model}:${id.serial}` : null)
  const serialCount = new Map<string, number>()
  for (const it of items) {
    const k = idKey(it.identity)
    if (k) serialCount.set(k, (serialCount.get(k) ?? 0) + 1)
  }
  for (const { target, identity, note, notUsb } of items) {
    out.push(`# ${describe(target)} -> /dev/${target.link}`)
    if (notUsb) {
      out.push(`# ${note ?? 'not a USB device'}`, '')
      continue
    }
    const k = idKey(identity)
    const shared = k !== null && (serialCount.get(k) ?? 0) > 1
    const keys = identity ? matchKeys(identity, shared) : null
    if (identity && keys) {
      out.push(`# identity from ${identity.source}`)
      if (!identity.serial) out.push('# This device has no USB serial number: the name follows the USB SOCKET. Keep it plugged into the same socket.')
      if (shared) out.push('# Another configured device has the same serial number: the USB socket is matched as well.')
      out.push(`${keys.join(', ')}, SYMLINK+="${target.link}"`, '')
      continue
    }
    const flag = target.kind === 'firmata' ? `--firmata-serial ${target.id}=SERIAL` : '--rs485-serial SERIAL'
    out.push(
      `# NOT ACTIVE: the USB identity is unknown${note ? ` (${note})` : ''}.`,
      `# Plug it in and re-run \`sudo safehouse install\` (it asks udevadm), or pass ${flag}`,
      `# with SERIAL from: udevadm info --query=property --name=${target.port} | grep ID_SERIAL_SHORT`,
      `#SUBSYSTEM=="tty", ENV{ID_SERIAL_SHORT}=="SERIAL", SYMLINK+="${target.link}"`,
      '',
    )
  }
  return out.join('\n')
}

/** Whether the rule for this item is active (not a commented placeholder). */
export function ruleActive(it: TargetIdentity): boolean {
  return !it.notUsb && !!it.identity && matchKeys(it.identity, false) !== null
}
