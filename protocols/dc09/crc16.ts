/**
 * CRC-16/ARC (poly 0xA001 reflected, init 0), the CRC ANSI/SIA DC-09 §5.4.1
 * puts in front of every frame: computed over the message from the opening
 * quote of the id token to the last byte before the <CR>.
 */
const TABLE = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1
    t[i] = c
  }
  return t
})()

export function crc16Arc(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ buf[i]) & 0xff]
  return crc
}
