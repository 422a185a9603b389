/**
 * Waiting for the technician's device: the first press (see ble-candidates.ts
 * for what counts), or the device named by --address. Presses that arrive
 * within SETTLE_MS of the first are gathered, so two people pressing at once
 * (or a neighbour's button) lead to a question instead of a wrong pick.
 */
import type { Prompter } from '../shared/prompter.js'
import { formatLabel, type Candidate, type CandidateTable } from './ble-candidates.js'
import { candidateLine, type LiveList } from './ble-display.js'

/** Time after the first press during which further presses count as "at the same time". */
export const SETTLE_MS = 1500

export interface PickOptions {
  /** Pick this address without a press (upper case), or null. */
  address: string | null
  seconds: number
  /** Configured devices may be picked (re-pairing). */
  replace: boolean
  /** Resolves the wait early, e.g. on Ctrl-C. */
  cancel: AbortSignal
}

export class PickError extends Error {}

/** Wait for a press (or --address); resolves with the chosen candidates before any question. */
export function waitForPick(table: CandidateTable, list: LiveList, o: PickOptions): Promise<Candidate[]> {
  return new Promise((resolve, reject) => {
    const pressed: Candidate[] = []
    const ignored = new Set<string>()
    let settle: NodeJS.Timeout | null = null
    const done = (err: Error | null, result: Candidate[] = []): void => {
      clearTimeout(timer)
      if (settle !== null) clearTimeout(settle)
      table.events = { onChange: (c, isNew) => list.changed(c, isNew) }
      o.cancel.removeEventListener('abort', onAbort)
      if (err) reject(err)
      else resolve(result)
    }
    const onAbort = (): void => done(new PickError('cancelled; nothing was written'))
    const timer = setTimeout(() => {
      if (o.address !== null) {
        const c = table.byAddress.get(o.address)
        return done(new PickError(c
          ? `${o.address} was heard, but none of its advertisements is BTHome v2, iBeacon or Eddystone (only ${formatLabel(c)} data): the gateway cannot use it`
          : `${o.address} was not heard within ${o.seconds} s: check the address (bluetoothctl devices), that the device is on and near, and press its button (a button advertises only when pressed)`))
      }
      done(new PickError(`nothing was pressed within ${o.seconds} s. Press the device's button while the list is shown (hold it near the gateway), give more time with --seconds, or pick it with --address AA:BB:CC:DD:EE:FF`))
    }, o.seconds * 1000)
    if (o.cancel.aborted) return onAbort()
    o.cancel.addEventListener('abort', onAbort)

    const addressReady = (c: Candidate): boolean => c.address === o.address && c.format !== 'raw'
    table.events = {
      onChange: (c, isNew) => {
        list.changed(c, isNew)
        if (o.address !== null && addressReady(c)) done(null, [c])
      },
      onPress: (c) => {
        if (o.address !== null) return
        if (c.configuredAs !== null && !o.replace) {
          if (!ignored.has(c.address)) list.note(`  (${c.address} is configured as "${c.configuredAs}" and was pressed: ignored; to pair it again, run with --replace)`)
          ignored.add(c.address)
          return
        }
        list.pressed(c)
        if (!pressed.includes(c)) pressed.push(c)
        if (settle === null) settle = setTimeout(() => done(null, pressed), SETTLE_MS)
      },
    }
    // --address: BlueZ may already have it cached (delivered during start, before we listened).
    if (o.address !== null) {
      const c = table.byAddress.get(o.address)
      if (c !== undefined && addressReady(c)) done(null, [c])
    }
  })
}

/** One candidate: that one; several: ask which (strongest signal first). */
export async function chooseOne(p: Prompter, pressed: Candidate[], say: (s: string) => void): Promise<Candidate> {
  if (pressed.length === 1) return pressed[0]
  const sorted = [...pressed].sort((a, b) => (Number.isFinite(b.rssi) ? b.rssi : -999) - (Number.isFinite(a.rssi) ? a.rssi : -999))
  say(`${sorted.length} devices were pressed at the same time:`)
  sorted.forEach((c, i) => say(`  ${i + 1}) ${candidateLine(c)}`))
  const n = await p.ask(`Which one is yours (1-${sorted.length})`, {
    default: '1',
    validate: (a) => (/^\d+$/.test(a) && +a >= 1 && +a <= sorted.length ? null : `answer a number from 1 to ${sorted.length}`),
  })
  return sorted[+n - 1]
}
