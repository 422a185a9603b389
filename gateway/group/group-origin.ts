/**
 * Who may speak for which post on the group topic of our embedded broker
 * (issue 12 §6). A neighbour logs in with the `neighbour` role under its own
 * post id as username (docs/group-fanout.md: on kiosk-017, the login of
 * kiosk-018 is `kiosk-018`), so the origin of a group alert is the login, not
 * the payload: an alert must name our site and, as its post, the login that
 * publishes it. A login can no longer claim a post outside the group (there
 * is no login for it) or another site; a relayed copy (`origin_post` set) is
 * refused as before. Group alerts read from the station broker are the
 * station's to vouch for (its own ACL binds logins to posts).
 */
import { checkPayload } from '../../protocols/mqtt/schemas.js'

interface GroupAlertHead { site: string; post: string; origin_post?: string }

/** Why `login` may not publish this group alert, or null. */
export function groupAlertOriginProblem(payload: Buffer, site: string, login: string): string | null {
  const r = checkPayload<GroupAlertHead>('alert', payload)
  if (!r.ok) return r.error
  const a = r.value
  if (a.site !== site) return `a group alert of site "${a.site}" on site "${site}"'s broker`
  if (a.post !== login) return `login "${login}" may only send its own post's alerts (the alert names post "${a.post}")`
  if (a.origin_post !== undefined) return 'a relayed copy (origin_post set) is never relayed again'
  return null
}
