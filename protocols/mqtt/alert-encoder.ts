/**
 * Encodes an alert (protocols/mqtt/schemas/alert.schema.json) into a pooled
 * Buffer without allocating: everything that depends only on the device is
 * JSON-encoded once at start (`internDevice`), per event only numbers are
 * written. JSON.stringify is used at intern time so labels are escaped right.
 */
import { JsonBytes } from './json-bytes.js'
import { KIND_COUNT, KIND_NAMES, Kind } from '../event-kinds.js'

export interface AlertIdentity {
  site: string
  post: string
  postType: 'safety_house' | 'lookout'
}

export interface AlertDeviceInfo {
  id: string
  kind: 'panic-button' | 'ble-whistle' | 'lamp-box' | 'gateway'
  label: string
  location: string
}

/** The numbers of one alert; a reused object, filled per event. */
export interface AlertFields {
  device: number
  kind: number
  seq: number
  value: number
  rssi: number
  hwTime: number
  sentTime: number
  test: boolean
  /** Written only when true (issue 12 §5). */
  unverified?: boolean
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8')

/** A roll call id (command `roll-call`, alert.schema.json `roll_call`): safe in JSON without escaping. */
export const ROLL_CALL_ID = /^[A-Za-z0-9_-]{1,64}$/
/** `,"roll_call":""` plus the longest id. */
const ROLL_CALL_MAX = 16 + 64
const Q = JSON.stringify

export class AlertEncoder {
  private readonly idPrefix: Buffer
  private readonly devicePart: Buffer[] = []
  private readonly kindPart: Buffer[] = []
  private readonly seqKey = b('","seq":')
  private readonly valueKey = b(',"value":')
  private readonly rssiKey = b(',"rssi":')
  private readonly hwKey = b(',"hw_time":')
  private readonly sentKey = b(',"sent_time":')
  private readonly testKey = b(',"test":')
  private readonly unverifiedPart = b(',"unverified":true')
  private readonly close = b('}')
  /**
   * `,"roll_call":"<id>"` of the current (or last) roll call; written only for the two
   * roll-call kinds. The id belongs to the roll call, not the event, so it is encoded once
   * per roll call (setRollCall) and every other kind's path stays as it was.
   */
  private rollCallPart: Buffer | null = null
  /** `,"path":"<name>"` per station path (issue 16 §1), by index; written for path_failure and its restore. */
  private pathParts: Buffer[] = []
  private readonly w = new JsonBytes(Buffer.alloc(0))
  /** Upper bound of one encoded alert for `device` (for pool sizing). */
  maxLength = 0

  constructor(private readonly who: AlertIdentity) {
    this.idPrefix = b(`{"v":1,"id":"${who.site}:${who.post}:`)
    for (let k = 0; k < KIND_COUNT; k++) this.kindPart[k] = b(KIND_NAMES[k] || 'unknown')
  }

  /** Pre-encode a device; returns its index for encode(). */
  internDevice(d: AlertDeviceInfo): number {
    const part = b(
      `","site":${Q(this.who.site)},"post":${Q(this.who.post)},"post_type":${Q(this.who.postType)}` +
        `,"device":${Q(d.id)},"device_kind":${Q(d.kind)},"label":${Q(d.label)},"location":${Q(d.location)},"kind":"`,
    )
    this.devicePart.push(part)
    // id prefix + 16 seq digits + device part + kind + numbers (6 × 24) + slack.
    this.maxLength = Math.max(this.maxLength, this.idPrefix.length + 16 + part.length + 32 + 6 * 24 + 80 + ROLL_CALL_MAX)
    return this.devicePart.length - 1
  }

  /** Write the alert into `out` from offset 0; returns its length. `out` must hold maxLength bytes. */
  encode(f: AlertFields, out: Buffer): number {
    const w = this.w.reset(out)
    w.raw(this.idPrefix).int(f.seq).raw(this.devicePart[f.device]).raw(this.kindPart[f.kind])
    w.raw(this.seqKey).int(f.seq)
    w.raw(this.valueKey).num(f.value)
    w.raw(this.rssiKey).intOrNull(f.rssi)
    w.raw(this.hwKey).int(f.hwTime)
    w.raw(this.sentKey).int(f.sentTime)
    w.raw(this.testKey).bool(f.test)
    if (f.unverified === true) w.raw(this.unverifiedPart)
    if ((f.kind === Kind.CHECK_IN || f.kind === Kind.ROLL_CALL_MISSED) && this.rollCallPart !== null) w.raw(this.rollCallPart)
    else if (f.kind === Kind.PATH_FAILURE) this.writePath(f.value)
    else if (f.kind === Kind.RESTORED && f.value % 256 === Kind.PATH_FAILURE) this.writePath((f.value - Kind.PATH_FAILURE) / 256)
    w.raw(this.close)
    return w.pos
  }

  /**
   * The roll call check_in / roll_call_missed alerts answer (docs/protocol.md §Roll call).
   * Kept after the roll call ends, so an alert still in the lane is encoded with its id;
   * a new roll call replaces it. Returns false (and changes nothing) for an id the schema refuses.
   */
  setRollCall(id: string): boolean {
    if (!ROLL_CALL_ID.test(id)) return false
    this.rollCallPart = b(`,"roll_call":"${id}"`)
    return true
  }

  /**
   * The station paths' names, in config order (station.paths; issue 16 §1): path_failure carries the
   * index of the failed path as its value and its name as `path`. Names are topic levels (safe in JSON).
   */
  setPathNames(names: readonly string[]): void {
    // At most 43 bytes (a name is one topic level, <= 32 characters): within the ROLL_CALL_MAX slack of
    // maxLength, which it shares, as an alert carries either a roll call or a path, never both.
    this.pathParts = names.map((n) => b(`,"path":${Q(n)}`))
  }

  private writePath(index: number): void {
    const part = this.pathParts[index]
    if (part !== undefined) this.w.raw(part)
  }

  /** The id string of an alert (allocates: used off the hot path, e.g. for the outbox and logs). */
  id(seq: number): string {
    return `${this.who.site}:${this.who.post}:${seq}`
  }
}
