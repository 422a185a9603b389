/**
 * "Who is on this line?" (issue 5, bad input: a wrong unit id -> a clear error
 * that says what answered and what did not). Reads one register/input from
 * each id; any reply, even a Modbus exception, means a device with that id is
 * there. Garbled replies (CRC) count as "something answered, unreadably".
 */
import type { LampBoxConfig } from './config.js'
import { LampBoxTxError, type ModbusTransport } from './modbus-transport.js'

export interface ProbeResult {
  answered: number[]
  silent: number[]
  /** Ids whose reply was garbled (CRC/length): a device is there, the line is bad or settings differ. */
  garbled: number[]
}

export async function probeUnits(t: ModbusTransport, ids: readonly number[], profile: LampBoxConfig['profile']): Promise<ProbeResult> {
  const out: ProbeResult = { answered: [], silent: [], garbled: [] }
  for (const id of ids) {
    try {
      if (profile === 'safehouse') await t.readInputRegisters(id, 0, 1)
      else await t.readDiscreteInputs(id, 0, 1)
      out.answered.push(id)
    } catch (e) {
      const kind = e instanceof LampBoxTxError ? e.kind : 'io'
      if (kind === 'exception') out.answered.push(id)
      else if (kind === 'crc' || kind === 'bad_frame') out.garbled.push(id)
      else if (kind === 'timeout') out.silent.push(id)
      else break // the port itself failed: the driver's next transaction reports it
    }
  }
  return out
}

/** One sentence an installer can act on, e.g. "unit 3 did not answer; unit 1 answered". */
export function describeProbe(device: string, line: string, unit: number, r: ProbeResult): string {
  const ids = (a: number[]): string => (a.length === 1 ? `unit ${a[0]}` : `units ${a.join(', ')}`)
  const head = `lamp box "${device}" on ${line}: unit ${unit} did not answer`
  if (r.answered.length > 0) {
    return `${head}; ${ids(r.answered)} answered. Set unit_id to the controller's id (docs/devices/lamp-box.md#unit-ids).`
  }
  if (r.garbled.length > 0) {
    return `${head}; ${ids(r.garbled)} sent garbled replies: check baud, parity and stop bits against the controller, and termination (docs/devices/lamp-box.md#troubleshooting).`
  }
  const probed = r.silent.length > 0 ? `; nothing answered on ${ids(r.silent)} either` : ''
  return `${head}${probed}. Check power, A/B wiring, baud and parity (docs/devices/lamp-box.md#troubleshooting).`
}
