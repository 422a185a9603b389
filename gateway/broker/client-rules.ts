/**
 * What the embedded broker accepts as a client id and a topic (issue 12 §4,
 * §8), and who owns a client id.
 *
 * Client ids: 1..64 printable ASCII characters, none of `+ # /` (an id is a
 * topic level in `<post>/cmd-reply/<client id>`). MQTT 3.1.1 requires a
 * server to accept 1..23 of [0-9a-zA-Z] and allows it to refuse others
 * ([MQTT-3.1.3-5]); aedes enforces its 23/64 limit only for MQTT 3.1, so a
 * 10,000-byte id, NUL or invalid UTF-8 got in. mqtt-packet decodes invalid
 * UTF-8 to U+FFFD, which this rule refuses with everything else non-ASCII.
 * An empty id is the server's to assign, and only with a clean session
 * ([MQTT-3.1.3-7], [MQTT-3.1.3-8]).
 *
 * Topics and filters: no NUL ([MQTT-4.7.3-2]), no U+FFFD (the trace of invalid
 * UTF-8, which must close the connection: [MQTT-1.5.3-1]), no other control
 * characters ([MQTT-1.5.3-3]).
 */
export const MAX_CLIENT_ID = 64

export function clientIdProblem(id: string, clean: boolean): string | null {
  if (id === '') return clean ? null : 'an empty client id needs a clean session'
  if (id.length > MAX_CLIENT_ID) return `client id longer than ${MAX_CLIENT_ID} characters`
  // eslint-disable-next-line no-control-regex
  if (!/^[\x21-\x7e]+$/.test(id)) return 'client id with characters outside printable ASCII'
  if (/[+#/]/.test(id)) return 'client id with + # or /'
  return null
}

// eslint-disable-next-line no-control-regex
const BAD_TOPIC_CHARS = /[\u0000-\u001f\u007f-\u009f\ufffd]/

export function topicProblem(topic: string): string | null {
  if (topic.length === 0) return 'empty topic'
  return BAD_TOPIC_CHARS.test(topic) ? 'NUL, control character or invalid UTF-8 in the topic' : null
}

/**
 * Which login owns each client id (issue 12 §4): a client id in use, or held
 * by a persistent session (`clean: false`), belongs to the username that holds
 * it. Another username presenting it is refused (CONNACK 2) instead of
 * displacing the owner ([MQTT-3.1.4-2] takeover stays possible within one
 * login: a reconnecting client replaces its own stale connection) or resuming
 * the owner's session and reading messages queued under the owner's ACL.
 * Sessions live in aedes' memory, so ownership does too; both end with the
 * process. A clean connect by the owner ends the session and its ownership.
 */
export class ClientIdOwners {
  private readonly live = new Map<string, { user: string; holders: number }>()
  private readonly sessions = new Map<string, string>()

  constructor(private readonly maxSessions = 1024) {}

  /** Why `user` may not take `id` now, or null. */
  problem(id: string, user: string, clean: boolean): string | null {
    const l = this.live.get(id)
    if (l !== undefined && l.user !== user) return 'client id in use by another login'
    const s = this.sessions.get(id)
    if (s !== undefined && s !== user) return 'client id holds another login\'s session'
    if (!clean && s === undefined && this.sessions.size >= this.maxSessions) return 'too many persistent sessions'
    return null
  }

  /** Record an accepted login; returns the release to call when its connection closes. */
  take(id: string, user: string, clean: boolean): () => void {
    const l = this.live.get(id)
    if (l === undefined) this.live.set(id, { user, holders: 1 })
    else l.holders++
    if (clean) this.sessions.delete(id)
    else this.sessions.set(id, user)
    let released = false
    return () => {
      if (released) return
      released = true
      const e = this.live.get(id)
      if (e !== undefined && --e.holders <= 0) this.live.delete(id)
    }
  }
}
