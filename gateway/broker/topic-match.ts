/**
 * MQTT topic matching for the ACL ([MQTT-4.7]): `+` one level, `#` the rest
 * (including the parent level, [MQTT-4.7.1-2]). Topics starting with `$` are
 * never matched by a wildcard at the first level ([MQTT-4.7.2-1]).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/**
 * True when every topic the subscription `requested` could match is also
 * matched by `allowed` — so a client cannot widen its reach with wildcards
 * (a panel subscribing to `safehouse/#` is refused even though it may read
 * its own post).
 */
export function filterWithin(requested: string, allowed: string): boolean {
  const r = requested.split('/')
  const a = allowed.split('/')
  for (let i = 0; i < r.length; i++) {
    if (a[i] === '#') return true
    if (i >= a.length) return false
    if (r[i] === '#') return false
    if (a[i] === '+') continue
    if (r[i] === '+' || r[i] !== a[i]) return false
  }
  // `a/#` also matches the parent `a` itself ([MQTT-4.7.1-2]).
  return r.length === a.length || (a.length === r.length + 1 && a[r.length] === '#')
}
