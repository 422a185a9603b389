/** 1-based line of a key path in YAML text (for errors in files without a schema pass), or null. */
import { LineCounter, parseDocument, isMap, isScalar, type Node as YamlNode } from 'yaml'

export function lineOfKey(text: string, path: string[]): number | null {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines })
  let node: unknown = doc.contents
  let last: YamlNode | null = null
  for (const key of path) {
    if (!isMap(node)) return null
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key)
    if (!pair) return null
    last = pair.key as YamlNode
    node = pair.value
  }
  const off = last?.range?.[0]
  return off === undefined ? null : lines.linePos(off).line
}
