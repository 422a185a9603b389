/**
 * BLE device addresses as the transport reports them ("AA:BB:CC:DD:EE:FF",
 * most significant byte first) and as bytes in the same order, which is the
 * order bthome.io/encryption puts into the AES-CCM nonce (example: MAC
 * 54:48:E6:8F:80:A5 -> nonce bytes 5448e68f80a5...).
 */

function hexNibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  return -1
}

/** Writes the 6 address bytes into `out`; false (out untouched or partial) when the text is not AA:BB:CC:DD:EE:FF. */
export function parseBleAddress(text: string, out: Uint8Array): boolean {
  if (text.length !== 17 || out.length < 6) return false
  for (let i = 0; i < 6; i++) {
    const p = i * 3
    if (i < 5 && text.charCodeAt(p + 2) !== 0x3a) return false
    const hi = hexNibble(text.charCodeAt(p))
    const lo = hexNibble(text.charCodeAt(p + 1))
    if (hi < 0 || lo < 0) return false
    out[i] = (hi << 4) | lo
  }
  return true
}

/** Upper-case canonical form, or null when not a valid address. */
export function normalizeBleAddress(text: string): string | null {
  const bytes = new Uint8Array(6)
  return parseBleAddress(text, bytes) ? text.toUpperCase() : null
}
