/**
 * Result values shared by the BLE advertisement decoders.
 *
 * DESIGN §4 asks codecs to return `{ ok: true, value } | { ok: false, error }`.
 * To keep the hot path allocation-free (DESIGN §4, issue 4 §7: 0 minor GCs
 * over 1,000,000 adverts) the decoders write into a caller-owned,
 * preallocated reading object and return one of these frozen singletons
 * instead of a fresh result object: `OK` on success (the value is the
 * reading the caller passed in), or the one frozen error object for the
 * failure's code. Compare with `r.ok` / `r.error`, never by identity of a
 * copy; never mutate them (they are frozen).
 */

export type BleDecodeErrorCode =
  | 'empty'              // zero-length input
  | 'truncated'          // shorter than the fixed part of the frame, or an object runs past the end
  | 'oversized'          // longer than any legal advertisement payload
  | 'bad_length'         // a length field disagrees with the data (lying length)
  | 'bad_version'        // BTHome device-info version is not 2
  | 'unknown_object'     // BTHome object id not in the table: lengths are implicit, so parsing cannot continue
  | 'too_many_buttons'   // more button events than the reading holds
  | 'no_key'             // encrypted BTHome but no key configured
  | 'bad_key'            // key is not 16 bytes or MAC not 6 bytes
  | 'bad_mic'            // AES-CCM authentication failed (wrong key, tampered or corrupt)
  | 'not_ibeacon'        // Apple manufacturer data that is not an iBeacon frame
  | 'unknown_frame'      // Eddystone frame type not defined by the spec

export interface BleDecodeOk { readonly ok: true }
export interface BleDecodeError {
  readonly ok: false
  readonly error: BleDecodeErrorCode
  /** Constant, human-readable explanation (never built per call). */
  readonly message: string
}
export type BleDecodeResult = BleDecodeOk | BleDecodeError

export const OK: BleDecodeOk = Object.freeze({ ok: true as const })

function err(error: BleDecodeErrorCode, message: string): BleDecodeError {
  return Object.freeze({ ok: false as const, error, message })
}

/** One frozen error object per code. */
export const ERR = Object.freeze({
  empty: err('empty', 'advertisement payload is empty'),
  truncated: err('truncated', 'advertisement payload is shorter than its format requires'),
  oversized: err('oversized', 'advertisement payload is longer than any legal BLE advertisement'),
  bad_length: err('bad_length', 'a length field in the advertisement disagrees with the data'),
  bad_version: err('bad_version', 'BTHome device information says a version other than 2'),
  unknown_object: err('unknown_object', 'BTHome object id is not in the bthome.io table; the packet cannot be parsed further'),
  too_many_buttons: err('too_many_buttons', 'BTHome packet carries more button events than supported'),
  no_key: err('no_key', 'BTHome packet is encrypted but no key is configured for the device'),
  bad_key: err('bad_key', 'encryption key must be 16 bytes and the MAC address 6 bytes'),
  bad_mic: err('bad_mic', 'BTHome AES-CCM message integrity check failed (wrong key or tampered packet)'),
  not_ibeacon: err('not_ibeacon', 'Apple manufacturer data is not an iBeacon frame (type 0x02, length 0x15)'),
  unknown_frame: err('unknown_frame', 'Eddystone frame type is not UID, URL, TLM or EID'),
} satisfies Record<BleDecodeErrorCode, BleDecodeError>)

/**
 * Largest payload any decoder accepts. Legacy advertising PDUs carry at most
 * 31 bytes of AD data; extended advertising (Bluetooth 5) allows up to 255
 * bytes of AD data in one AD structure's length byte. Anything longer is not a
 * real advertisement.
 */
export const MAX_AD_PAYLOAD = 255
