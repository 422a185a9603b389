/**
 * Who a serial port is, as udev sees it: USB vendor and product id, serial
 * number, and the physical socket path. Read with `udevadm info` (the values
 * udev's usb_id and path_id builtins set in 60-serial.rules, which the
 * generated rules then match), so the rule matches exactly what udev knows.
 */
import { existsSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

export interface UsbIdentity {
  /** ID_VENDOR_ID, 4 hex digits. */
  vendor: string | null
  /** ID_MODEL_ID, 4 hex digits. */
  model: string | null
  /** ID_SERIAL_SHORT; CH340 clones have none. */
  serial: string | null
  /** ID_PATH: the USB socket the device is plugged into. */
  path: string | null
  /** Where the identity came from, for the rule's comment. */
  source: string
}

export type IdentityLookup =
  | { ok: true; value: UsbIdentity }
  | { ok: false; notUsb: boolean; error: string }

/** udev property values the rules may quote: what udev's own sanitizer lets through, nothing that ends a string. */
export const UDEV_VALUE = /^[A-Za-z0-9._:#+=@/-]{1,200}$/

export function parseUdevProperties(text: string): Map<string, string> {
  const props = new Map<string, string>()
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim())
  }
  return props
}

export function identityFromProperties(props: Map<string, string>, source: string): IdentityLookup {
  const bus = props.get('ID_BUS')
  if (bus !== 'usb') {
    return { ok: false, notUsb: true, error: `not a USB device (ID_BUS=${bus ?? 'unset'}); a built-in UART keeps its name, no rule is needed` }
  }
  const pick = (k: string): string | null => {
    const v = props.get(k)
    return v && UDEV_VALUE.test(v) ? v : null
  }
  return { ok: true, value: { vendor: pick('ID_VENDOR_ID'), model: pick('ID_MODEL_ID'), serial: pick('ID_SERIAL_SHORT'), path: pick('ID_PATH'), source } }
}

/** Ask udev about `port` (a device node or a symlink to one). Never throws. */
export function readUsbIdentity(port: string): IdentityLookup {
  if (!existsSync(port)) return { ok: false, notUsb: false, error: `${port} is not plugged in now` }
  const r = spawnSync('udevadm', ['info', '--query=property', `--name=${port}`], { encoding: 'utf8', timeout: 10_000 })
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code
    return { ok: false, notUsb: false, error: code === 'ENOENT' ? 'udevadm is not installed here' : `udevadm failed (${code})` }
  }
  if (r.status !== 0) return { ok: false, notUsb: false, error: `udevadm info ${port} failed: ${(r.stderr || '').trim().split('\n')[0]}` }
  return identityFromProperties(parseUdevProperties(r.stdout), `udevadm info ${port}`)
}
