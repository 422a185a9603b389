/**
 * Pairing view of adverts from devices that are not configured. Outside
 * pairing mode such adverts are only counted; while pairing, each one that
 * decodes as BTHome, iBeacon or Eddystone is reported to a hook, so the
 * provisioning CLI (`safehouse pair`) can list candidates with their address,
 * signal and format and the technician can press the button to pick one.
 * Not a hot path: pairing runs for a minute with a technician watching.
 */
import { readBTHomeHeader, decodeBTHome, type BTHomeReading } from '../../protocols/ble/bthome.js'
import { decodeEddystone, type EddystoneReading } from '../../protocols/ble/eddystone.js'
import { decodeIBeacon, type IBeaconReading } from '../../protocols/ble/ibeacon.js'
import { APPLE_COMPANY_ID, BTHOME_UUID, EDDYSTONE_UUID, type RawAdvert } from './raw-advert.js'

/** One candidate advert. The receiver reuses one object: copy what you keep. */
export interface PairingAdvert {
  address: string
  rssi: number
  time: number
  format: 'bthome' | 'ibeacon' | 'eddystone'
  /** BTHome encryption flag (the technician then needs the device's key). */
  encrypted: boolean
  /** BTHome: encryption counter, -1 when plaintext. */
  counter: number
  /** BTHome plaintext: first real button event id (0x01 press ...), -1 none. Lets the CLI say "this one was pressed". */
  buttonEvent: number
  /** Battery %, -1 unknown. */
  battery: number
  /** iBeacon only: UUID as 32 hex digits, major, minor; '' / -1 otherwise. */
  ibeaconUuid: string
  ibeaconMajor: number
  ibeaconMinor: number
}

export type PairingHook = (advert: PairingAdvert) => void

export function describeForPairing(
  a: RawAdvert,
  out: PairingAdvert,
  bt: BTHomeReading,
  ib: IBeaconReading,
  ed: EddystoneReading,
): boolean {
  out.address = a.address
  out.rssi = a.rssi
  out.time = a.time
  out.encrypted = false
  out.counter = -1
  out.buttonEvent = -1
  out.battery = -1
  out.ibeaconUuid = ''
  out.ibeaconMajor = -1
  out.ibeaconMinor = -1
  const sd = a.serviceData?.get(BTHOME_UUID)
  if (sd !== undefined && readBTHomeHeader(sd, bt).ok) {
    out.format = 'bthome'
    out.encrypted = bt.encrypted
    out.counter = bt.counter
    if (!bt.encrypted && decodeBTHome(sd, bt, null, null).ok) {
      out.battery = bt.battery
      for (let i = 0; i < bt.buttonCount; i++) if (bt.buttons[i] !== 0) { out.buttonEvent = bt.buttons[i]; break }
    }
    return true
  }
  const md = a.manufacturerData?.get(APPLE_COMPANY_ID)
  if (md !== undefined && decodeIBeacon(md, ib).ok) {
    out.format = 'ibeacon'
    out.ibeaconUuid = Buffer.from(ib.uuid).toString('hex')
    out.ibeaconMajor = ib.major
    out.ibeaconMinor = ib.minor
    return true
  }
  const ed2 = a.serviceData?.get(EDDYSTONE_UUID)
  if (ed2 !== undefined && decodeEddystone(ed2, ed).ok) {
    out.format = 'eddystone'
    return true
  }
  return false
}
