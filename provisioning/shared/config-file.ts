/**
 * Edit the site config the way a technician would by hand (issue 7 §1-2):
 * the YAML document is changed in place so comments and order survive, the
 * result is validated with the gateway's own loader before anything is
 * written, and the write is atomic (a power cut leaves the old file or the
 * new one).
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import { isMap, isSeq, parseDocument, type Document } from 'yaml'
import { loadConfig, parseConfig } from '../../gateway/config/load-config.js'
import { ConfigError } from '../../gateway/config/config-error.js'
import type { Config } from '../../gateway/config/config-types.js'
import { writeFileAtomic } from '../../gateway/config/atomic-file.js'

export { DEFAULT_CONFIG } from './defaults.js'

/** The validated config a command works from; a broken one says how to fix it first. */
export function loadConfigForCommand(file: string): Readonly<Config> {
  try {
    return loadConfig(file)
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new Error(`${e.message}\nFix the config first (safehouse config check ${file}), or create it with \`safehouse init --config ${file}\`.`)
    }
    throw e
  }
}

/** Parse a config file for editing; throws with what to do when it is missing or not YAML. */
export function readConfigDocument(file: string): Document {
  if (!existsSync(file)) throw new Error(`${file} does not exist: create it first with \`safehouse init --config ${file}\``)
  const doc = parseDocument(readFileSync(file, 'utf8'))
  if (doc.errors.length) throw new Error(`${file} is not valid YAML (${doc.errors[0].message.split('\n')[0]}); run \`safehouse config check ${file}\``)
  return doc
}

/**
 * Validate `text` as a config and write it atomically; throws ConfigError (every
 * problem listed) without touching the file when it is not valid.
 */
export function writeConfigText(file: string, text: string): Readonly<Config> {
  const config = parseConfig(text, file)
  // The config holds no secrets (they live in secrets_file), so it stays readable: keep an existing mode.
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644
  writeFileAtomic(file, text, mode)
  return config
}

/**
 * The text of an edited document. No line folding: the yaml default (80 columns)
 * would re-wrap long values elsewhere in the technician's file.
 */
export function configText(doc: Document): string {
  return doc.toString({ lineWidth: 0 })
}

/** Apply `change` to the config file's document, validate, and write it. */
export function editConfigFile(file: string, change: (doc: Document) => void): Readonly<Config> {
  const doc = readConfigDocument(file)
  change(doc)
  return writeConfigText(file, configText(doc))
}

/** Ids of the devices already in the document. */
export function deviceIds(doc: Document): string[] {
  const seq = doc.get('devices')
  if (!isSeq(seq)) return []
  return seq.items.flatMap((it) => (isMap(it) && typeof it.get('id') === 'string' ? [it.get('id') as string] : []))
}

/**
 * Add a device entry; with `replace`, an entry with the same id is replaced in place.
 * Throws when the id is taken and `replace` is not set.
 */
export function addDevice(doc: Document, device: Record<string, unknown>, replace = false): void {
  const id = String(device.id)
  const seq = doc.get('devices')
  if (!isSeq(seq)) {
    doc.set('devices', doc.createNode([device]))
    return
  }
  const at = seq.items.findIndex((it) => isMap(it) && it.get('id') === id)
  if (at >= 0 && !replace) throw new Error(`a device with id "${id}" is already in the config: choose another id, or pass --replace to overwrite it`)
  // `safehouse init` writes `devices: []`, a flow sequence: items added to it stayed flow style, and
  // lineWidth 0 then put every device on one line (1,265 characters for five devices, issue 14 §2).
  // A block list keeps one device per block; entries written by hand in flow style stay one per line.
  seq.flow = false
  const node = doc.createNode(device)
  if (isMap(node)) node.flow = false
  if (at >= 0) seq.items[at] = node
  else seq.items.push(node)
}
