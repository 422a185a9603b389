/**
 * Config errors name the line they are about (issue 2 §4): given a parsed
 * YAML document, find the line of a path such as ['devices', 3, 'pin']. The
 * deepest node that exists is named, so a missing key points at its parent.
 * Shared by the gateway's and the station's config loaders (they never import
 * each other; DESIGN §2).
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node as YamlNode } from 'yaml'

export type LineOf = (path: readonly (string | number)[]) => number | null

export function yamlLineLocator(doc: Document, lines: LineCounter): LineOf {
  return (path) => {
    let node: unknown = doc.contents
    let last: YamlNode | null = (doc.contents as YamlNode | null) ?? null
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key))
        if (!pair) break
        last = (pair.key as YamlNode) ?? last
        node = pair.value
      } else if (isSeq(node)) {
        node = node.items[Number(key)]
        last = (node as YamlNode) ?? last
      } else break
    }
    const off = last?.range?.[0]
    return off === undefined ? null : lines.linePos(off).line
  }
}
