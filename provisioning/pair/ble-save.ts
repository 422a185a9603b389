/**
 * Writing a paired BLE device: the config entry (YAML edited in place,
 * validated by the gateway's own loader, atomic), its key in the secrets file
 * (ble_keys, mode 0600; the config only names it with key_ref), and the reset
 * of any replay counter the gateway kept for the address.
 *
 * Order: the new config is validated first, without writing; then the key is
 * stored; then the config is written. So a config that references a missing
 * key is never on disk, and a refused config leaves both files untouched.
 *
 * Ownership: the gateway runs as its service user and the files are 0600 (or
 * keep their mode); a technician running this as root would otherwise leave
 * them owned by root, unreadable to the gateway. Each file keeps its previous
 * owner; a new secrets file gets the config file's owner.
 */
import { chownSync, existsSync, statSync, type Stats } from 'node:fs'
import { join } from 'node:path'
import { isMap, isSeq, type Document } from 'yaml'
import { systemClock } from '../../devices/time/clock.js'
import { parseConfig } from '../../gateway/config/load-config.js'
import { emptySecrets, loadSecrets, writeSecrets } from '../../gateway/config/secrets.js'
import { FileReplayCounterStore } from '../../devices/ble-whistle/replay-store-file.js'
import { addDevice, configText, readConfigDocument, writeConfigText } from '../shared/config-file.js'

export const REPLAY_FILE = 'ble-replay-counters.json'

export interface PairedBle {
  id: string
  address: string
  format: 'bthome' | 'ibeacon' | 'eddystone'
  label: string
  location: string
  /** null when the device cannot raise alerts (Eddystone, iBeacon without a press minor): keep the default. */
  alertKind: string | null
  /** 32 hex digits for an encrypted BTHome device, else null. */
  keyHex: string | null
  ibeacon: { uuid: string; major: number; pressMinor: number } | null
}

export interface SaveResult {
  keyRef: string | null
  secretsFile: string | null
  /** The replay counter that was stored for the address and is now cleared; -1 none. */
  clearedCounter: number
  warnings: string[]
}

/** The existing entry with this id as plain data, or null. */
export function existingEntry(doc: Document, id: string): Record<string, unknown> | null {
  const seq = doc.get('devices')
  if (!isSeq(seq)) return null
  const node = seq.items.find((it) => isMap(it) && it.get('id') === id)
  return isMap(node) ? (node.toJSON() as Record<string, unknown>) : null
}

/** key_refs used by devices other than `exceptId`. */
function keyRefsInUse(doc: Document, exceptId: string): Set<string> {
  const seq = doc.get('devices')
  const out = new Set<string>()
  if (!isSeq(seq)) return out
  for (const it of seq.items) {
    if (!isMap(it) || it.get('id') === exceptId) continue
    const ref = it.get('key_ref')
    if (typeof ref === 'string' && ref !== '') out.add(ref)
  }
  return out
}

/** The config entry: a replaced entry keeps its other settings (supervision, long press, counter policy...). */
export function deviceEntry(d: PairedBle, previous: Record<string, unknown> | null, keyRef: string | null): Record<string, unknown> {
  const e: Record<string, unknown> = { ...(previous ?? {}), id: d.id, kind: 'ble-whistle', address: d.address, format: d.format }
  if (d.label !== '') e.label = d.label
  else delete e.label
  if (d.location !== '') e.location = d.location
  else delete e.location
  if (d.alertKind !== null) e.alert_kind = d.alertKind
  if (keyRef !== null) e.key_ref = keyRef
  else delete e.key_ref
  for (const k of ['ibeacon_uuid', 'ibeacon_major', 'ibeacon_press_minor']) delete e[k]
  if (d.ibeacon !== null) {
    e.ibeacon_uuid = d.ibeacon.uuid
    e.ibeacon_major = d.ibeacon.major
    if (d.ibeacon.pressMinor >= 0) e.ibeacon_press_minor = d.ibeacon.pressMinor
  }
  return e
}

export async function saveBleDevice(file: string, d: PairedBle, replace: boolean): Promise<SaveResult> {
  const warnings: string[] = []
  const doc = readConfigDocument(file)
  const old = existingEntry(doc, d.id)
  // --replace over another kind of device starts afresh: its settings do not apply to a BLE device.
  const previous = old?.kind === 'ble-whistle' ? old : null
  let keyRef: string | null = null
  if (d.keyHex !== null) {
    const used = keyRefsInUse(doc, d.id)
    const base = typeof previous?.key_ref === 'string' && previous.key_ref !== '' ? previous.key_ref : d.id
    keyRef = base
    for (let n = 2; used.has(keyRef); n++) keyRef = `${base}-${n}`
  }
  addDevice(doc, deviceEntry(d, previous, keyRef), replace)
  const text = configText(doc)
  const config = parseConfig(text, file) // throws ConfigError listing every problem; nothing written yet
  const configStat = statSync(file)

  let secretsFile: string | null = null
  if (d.keyHex !== null && keyRef !== null) {
    secretsFile = config.secrets_file
    if (secretsFile === null) throw new Error(`${file} has no secrets_file, so the key has nowhere to go: add "secrets_file: /etc/safehouse/secrets.yaml" to the config and pair again`)
    const before = existsSync(secretsFile) ? statSync(secretsFile) : null
    // No environment overrides: they must not end up in the file.
    const secrets = before ? loadSecrets(secretsFile, {}) : emptySecrets()
    secrets.ble_keys[keyRef] = d.keyHex
    writeSecrets(secretsFile, secrets)
    keepOwner(secretsFile, before ?? configStat, warnings)
  }
  writeConfigText(file, text)
  keepOwner(file, configStat, warnings)
  const clearedCounter = await clearReplayCounter(config.data_dir, d.address, warnings)
  return { keyRef, secretsFile, clearedCounter, warnings }
}

/**
 * Forget the gateway's stored replay counter for `address` (docs/devices/ble.md
 * "Keys and replay protection"). A device paired again (new key, factory reset,
 * battery change under `counter_reset: never`) starts its counter low; the old,
 * higher counter would make the gateway reject every packet as a replay.
 * The gateway reads the file when it starts (the in-process equivalent is
 * WhistleReceiver.resetReplayCounter); returns the counter that was cleared, or -1.
 */
export async function clearReplayCounter(dataDir: string, address: string, warnings: string[]): Promise<number> {
  const path = join(dataDir, REPLAY_FILE)
  if (!existsSync(path)) return -1
  try {
    const before = statSync(path)
    const store = await FileReplayCounterStore.open({ dir: dataDir, clock: systemClock, debounceMs: 0 })
    if (store.loadWarning) warnings.push(store.loadWarning)
    const was = store.get(address.toUpperCase())
    if (was >= 0) store.delete(address.toUpperCase())
    await store.close()
    if (store.lastWriteError) throw store.lastWriteError
    if (was >= 0) keepOwner(path, before, warnings)
    return was
  } catch (e) {
    warnings.push(`could not clear the stored replay counter for ${address} in ${path} (${(e as Error).message}); run this as the gateway's service user or root, or the gateway may reject the device's packets as replays`)
    return -1
  }
}

function keepOwner(file: string, want: Stats, warnings: string[]): void {
  const now = statSync(file)
  if (now.uid === want.uid && now.gid === want.gid) return
  try {
    chownSync(file, want.uid, want.gid)
  } catch {
    warnings.push(`${file} now belongs to uid ${now.uid} (it was ${want.uid}): the gateway's service user may not be able to read it; sudo chown ${want.uid}:${want.gid} ${file}`)
  }
}
