/**
 * The BTHome AES key a technician types in (bthome.io/encryption: 16 bytes,
 * shown as 32 hex digits by the Shelly app), checked against a real
 * advertisement of the device before anything is written: the gateway's own
 * decoder decrypts the device's packet with the key and the device's MAC, and
 * the 4-byte MIC must match. Messages never contain the key.
 */
import { BTHomeReading, decodeBTHome } from '../../protocols/ble/bthome.js'
import { parseBleAddress } from '../../protocols/ble/ble-address.js'

/** "23 1d 39 ..." / "23:1D:..." / "231d39..." -> 32 lower-case hex digits, or null. */
export function normalizeKey(text: string): string | null {
  const hex = text.replace(/[\s:-]/g, '').toLowerCase()
  return /^[0-9a-f]{32}$/.test(hex) ? hex : null
}

/**
 * null when `keyHex` decrypts and authenticates `serviceData` (BTHome service
 * data of the device at `address`), else what is wrong, for the technician.
 */
export function keyProblem(keyHex: string, serviceData: Buffer, address: string): string | null {
  const mac = new Uint8Array(6)
  if (!parseBleAddress(address, mac)) return `the address ${address} is not AA:BB:CC:DD:EE:FF`
  const r = decodeBTHome(serviceData, new BTHomeReading(), Buffer.from(keyHex, 'hex'), mac)
  if (r.ok) return null
  if (r.error === 'bad_mic') return `this key does not decrypt ${address}'s advertisement (wrong key, or the key of another device); copy it again from the device's app`
  return `${address}'s advertisement could not be read with this key (${r.message})`
}
