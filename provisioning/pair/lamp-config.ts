/**
 * Write the lamp box found by `safehouse pair lamp` into the config (issue 7
 * §2): a post has one lamp box, so an existing `kind: lamp-box` entry is
 * updated in place (its other settings and comments kept), else one is added.
 * Validated and atomic (editConfigFile).
 */
import { isMap, isSeq, type YAMLMap } from 'yaml'
import { isTopicLevel } from '../../protocols/mqtt/topics.js'
import { lampBoxDefaults } from '../../devices/lamp-box/config.js'
import { addDevice, deviceIds, editConfigFile } from '../shared/config-file.js'

export const DEFAULT_LAMP_ID = 'lamp-box'

export interface LampLine {
  port: string
  baud: number
  parity: 'even' | 'odd' | 'none'
  stop_bits: 1 | 2
}

export interface LampWrite extends LampLine {
  unit: number
  /** New id, or rename of the existing lamp box; undefined keeps it (or DEFAULT_LAMP_ID for a new one). */
  id?: string
  /** Set when the scan recognised the device. */
  profile?: 'safehouse' | 'generic-dido'
}

export interface LampWritten { id: string; updated: boolean }

export function writeLamp(file: string, w: LampWrite): LampWritten {
  const d = lampBoxDefaults({ id: 'x' })
  let result: LampWritten = { id: '', updated: false }
  editConfigFile(file, (doc) => {
    const seq = doc.get('devices')
    const node = isSeq(seq) ? (seq.items.find((it) => isMap(it) && it.get('kind') === 'lamp-box') as YAMLMap | undefined) : undefined
    if (w.id !== undefined && !isTopicLevel(w.id)) throw new Error(`--id "${w.id}": use lower-case letters, digits and dashes, 1-32 characters`)
    if (!node) {
      const id = w.id ?? DEFAULT_LAMP_ID
      const entry: Record<string, unknown> = { id, kind: 'lamp-box', driver: 'modbus', port: w.port, baud: w.baud }
      if (w.parity !== d.parity) entry.parity = w.parity
      if (w.stop_bits !== d.stop_bits) entry.stop_bits = w.stop_bits
      entry.unit_id = w.unit
      if (w.profile && w.profile !== d.profile) entry.profile = w.profile
      addDevice(doc, entry)
      result = { id, updated: false }
      return
    }
    const old = String(node.get('id'))
    if (w.id !== undefined && w.id !== old) {
      if (deviceIds(doc).includes(w.id)) throw new Error(`a device with id "${w.id}" is already in the config: choose another --id`)
      node.set('id', w.id)
    }
    node.set('driver', 'modbus')
    node.set('port', w.port)
    node.set('baud', w.baud)
    // parity and stop bits: written when they differ from the Modbus defaults or are in the file already
    if (w.parity !== d.parity || node.has('parity')) node.set('parity', w.parity)
    if (w.stop_bits !== d.stop_bits || node.has('stop_bits')) node.set('stop_bits', w.stop_bits)
    node.set('unit_id', w.unit)
    if (w.profile && (w.profile !== d.profile || node.has('profile'))) node.set('profile', w.profile)
    result = { id: w.id ?? old, updated: true }
  })
  return result
}
