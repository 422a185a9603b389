/**
 * What `safehouse pair ble` has heard: one entry per BLE address, decoded with
 * the gateway's own pairing view (describeForPairing: BTHome v2, iBeacon,
 * Eddystone), and the rule that picks out the device the technician pressed.
 *
 * A press is a *change* in what the device sends, compared with what it sent
 * before (BlueZ's cached copy at start counts as "before"):
 *  - BTHome plaintext: a button event (not 0x00 "none") in a packet whose
 *    packet id differs from the previous one (bthome.io/format: a new packet id
 *    is a new event; the repeats of one burst share it). Without a packet id,
 *    different bytes.
 *  - BTHome encrypted: the encryption counter changed. The content cannot be
 *    read without the key, but a trigger device sends a new counter only for a
 *    new event (the repeats of a burst are the same bytes). A device that is not
 *    trigger-based and changes its counter within PERIODIC_MS of its previous
 *    change (or of being first heard) is a sensor advertising on a timer, not a
 *    press. A wrong pick of an encrypted device is still caught: its key check fails.
 *  - iBeacon button tags: the minor moved away from the tag's normal minor
 *    (the tag advertises a "press" minor while pressed); going back is not a press.
 *  - The first packet ever heard from a device counts only when the device
 *    says it is trigger-based (BTHome device info bit 2: it advertises only on
 *    a trigger such as a press), else it is the baseline: a beacon's periodic
 *    re-send of its last event must not look like a press.
 *  - Eddystone and unrecognised adverts never press; pick them with --address.
 * Not a hot path (a technician watches for a minute): plain objects, copies.
 */
import { BTHomeReading } from '../../protocols/ble/bthome.js'
import { EddystoneReading } from '../../protocols/ble/eddystone.js'
import { IBeaconReading } from '../../protocols/ble/ibeacon.js'
import { BTHOME_UUID, type AdvertHandler, type RawAdvert } from '../../devices/ble-whistle/raw-advert.js'
import { describeForPairing, type PairingAdvert } from '../../devices/ble-whistle/whistle-receiver-pairing.js'

/** Encrypted, not trigger-based: counter changes closer together than this are a timer, not a press. */
export const PERIODIC_MS = 10_000

export type AdvertFormat = 'bthome' | 'ibeacon' | 'eddystone' | 'raw'

/** What the gateway's pairing decoder says about the last advert, plus what the pairing command tracks. */
export interface Candidate extends Omit<PairingAdvert, 'format' | 'time'> {
  /** BlueZ's Name for the device ('' until known or when it sends none). */
  name: string
  /** Includes adverts the gateway's decoders do not recognise. */
  format: AdvertFormat
  triggerBased: boolean
  /** BTHome plaintext packet id, -1 none. */
  packetId: number
  /** iBeacon: the minor the tag sends when idle (first one heard). */
  normalMinor: number
  /** iBeacon: the minor seen at the last press, -1 none. */
  pressMinor: number
  /** Wall ms of the last encryption counter change (or of the first encrypted packet). */
  counterChangedAt: number
  /** Copy of the last BTHome service data (key check for encrypted devices). */
  bthome: Buffer | null
  /** Heard over the air since we started (not only from BlueZ's cache). */
  live: boolean
  lastSeen: number
  /** Wall ms of the last press, 0 = never; `pressWhy` says what changed. */
  pressedAt: number
  pressWhy: string
  /** Id in the config when the address is configured already, else null. */
  configuredAs: string | null
}

export interface CandidateEvents {
  /** Something about `c` changed (new device, RSSI, data). */
  onChange?(c: Candidate, isNew: boolean): void
  /** `c` was pressed (see the rule above). */
  onPress?(c: Candidate): void
}

const BUTTON_NAMES: Record<number, string> = {
  0x01: 'press', 0x02: 'double press', 0x03: 'triple press', 0x04: 'long press',
  0x05: 'long double', 0x06: 'long triple', 0x80: 'hold', 0xfe: 'hold',
}

export function buttonName(ev: number): string {
  return BUTTON_NAMES[ev] ?? `event 0x${ev.toString(16).padStart(2, '0')}`
}

export class CandidateTable implements AdvertHandler {
  readonly byAddress = new Map<string, Candidate>()
  events: CandidateEvents = {}
  /** Called once per new address (the CLI looks its name up). */
  onNewAddress: ((address: string) => void) | null = null
  private readonly view: PairingAdvert = {
    address: '', rssi: NaN, time: 0, format: 'bthome', encrypted: false, counter: -1,
    buttonEvent: -1, battery: -1, ibeaconUuid: '', ibeaconMajor: -1, ibeaconMinor: -1,
  }
  private readonly bt = new BTHomeReading()
  private readonly ib = new IBeaconReading()
  private readonly ed = new EddystoneReading()

  /** `configured`: address (upper case) -> device id already in the config. */
  constructor(private readonly configured: ReadonlyMap<string, string> = new Map()) {}

  onAdvert(a: RawAdvert): void {
    const known = describeForPairing(a, this.view, this.bt, this.ib, this.ed)
    let c = this.byAddress.get(a.address)
    const isNew = c === undefined
    if (c === undefined) {
      c = blank(a.address, this.configured.get(a.address) ?? null)
      this.byAddress.set(a.address, c)
      this.onNewAddress?.(a.address)
    }
    if (Number.isFinite(a.rssi)) c.rssi = a.rssi
    c.lastSeen = a.time
    const becameLive = !a.cached && !c.live
    if (!a.cached) c.live = true
    let pressed = ''
    if (known) pressed = this.update(c, a)
    else if (c.format === 'raw' || isNew) c.format = 'raw' // a scan response without data does not erase what we know
    if (pressed !== '' && !a.cached) {
      c.pressedAt = a.time
      c.pressWhy = pressed
    }
    this.events.onChange?.(c, isNew || becameLive)
    if (pressed !== '' && !a.cached) this.events.onPress?.(c)
  }

  /** Copy the decoded view into `c`; returns what makes it a press, or ''. */
  private update(c: Candidate, a: RawAdvert): string {
    const v = this.view
    const first = c.format !== v.format // first packet of this format from the device
    c.format = v.format
    c.encrypted = v.encrypted
    if (v.battery >= 0) c.battery = v.battery
    if (v.format === 'bthome') {
      const sd = a.serviceData!.get(BTHOME_UUID)!
      const trigger = this.bt.triggerBased
      const prevId = c.packetId
      const prevCounter = c.counter
      const sameBytes = c.bthome !== null && c.bthome.equals(sd)
      c.triggerBased = trigger
      c.bthome = Buffer.from(sd)
      c.counter = v.counter
      c.packetId = v.encrypted ? -1 : this.bt.packetId
      c.buttonEvent = v.buttonEvent
      if (v.encrypted) {
        if (first) {
          c.counterChangedAt = a.time
          return trigger ? 'sent (a trigger device)' : ''
        }
        if (v.counter === prevCounter) return ''
        const periodic = !trigger && a.time - c.counterChangedAt < PERIODIC_MS
        c.counterChangedAt = a.time
        return periodic ? '' : 'counter changed'
      }
      if (v.buttonEvent <= 0) return ''
      if (first) return trigger ? buttonName(v.buttonEvent) : ''
      if (c.packetId >= 0) return c.packetId !== prevId ? buttonName(v.buttonEvent) : ''
      return sameBytes ? '' : buttonName(v.buttonEvent)
    }
    if (v.format === 'ibeacon') {
      const prevMinor = c.ibeaconMinor
      c.ibeaconUuid = v.ibeaconUuid
      c.ibeaconMajor = v.ibeaconMajor
      c.ibeaconMinor = v.ibeaconMinor
      if (first || c.normalMinor < 0) {
        c.normalMinor = v.ibeaconMinor
        return ''
      }
      if (v.ibeaconMinor !== c.normalMinor && v.ibeaconMinor !== prevMinor) {
        c.pressMinor = v.ibeaconMinor
        return `minor ${c.normalMinor} -> ${v.ibeaconMinor}`
      }
      return ''
    }
    return ''
  }

  setName(address: string, name: string): void {
    const c = this.byAddress.get(address)
    if (c === undefined || name === '' || c.name === name) return
    c.name = name
    this.events.onChange?.(c, false)
  }
}

function blank(address: string, configuredAs: string | null): Candidate {
  return {
    address, name: '', rssi: NaN, format: 'raw', encrypted: false, triggerBased: false,
    packetId: -1, counter: -1, buttonEvent: -1, battery: -1,
    ibeaconUuid: '', ibeaconMajor: -1, ibeaconMinor: -1, normalMinor: -1, pressMinor: -1,
    counterChangedAt: 0, bthome: null, live: false, lastSeen: 0, pressedAt: 0, pressWhy: '', configuredAs,
  }
}

/** "BTHome v2 encrypted", "iBeacon", ... for the list and messages. */
export function formatLabel(c: Candidate): string {
  switch (c.format) {
    case 'bthome': return c.encrypted ? 'BTHome v2 encrypted' : 'BTHome v2'
    case 'ibeacon': return 'iBeacon'
    case 'eddystone': return 'Eddystone'
    default: return 'raw'
  }
}

/** Short detail column: the button event, counter, minor, battery. */
export function detailOf(c: Candidate): string {
  const parts: string[] = []
  if (c.format === 'bthome') {
    if (c.encrypted) parts.push(`counter ${c.counter}`)
    else {
      if (c.packetId >= 0) parts.push(`packet ${c.packetId}`)
      if (c.buttonEvent > 0) parts.push(buttonName(c.buttonEvent))
    }
  } else if (c.format === 'ibeacon') {
    parts.push(`major ${c.ibeaconMajor} minor ${c.ibeaconMinor}`)
  }
  if (c.battery >= 0) parts.push(`battery ${c.battery}%`)
  return parts.join(', ')
}
