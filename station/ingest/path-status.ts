/**
 * Dual-path posts (issue 16 §1; docs/protocol.md "Several endpoints and dual
 * path"): each path's connection has its own Last Will on
 * `…/<post>/path/<path>/status`, and `…/status` has none (a will there would
 * mark the post offline whenever one path died while the other worked). So
 * the station marks such a post offline itself when every path it has heard
 * of is offline: a gateway that hung, or lost all its paths, is not left
 * showing "online". Back online comes from `…/status`, as for any post.
 */
export class PathStatus {
  private readonly posts = new Map<string, Map<string, boolean>>()

  /** Records one path's status; true when every path heard of for this post is now offline. */
  update(site: string, post: string, path: string, online: boolean): boolean {
    const key = `${site}/${post}`
    let paths = this.posts.get(key)
    if (!paths) this.posts.set(key, (paths = new Map()))
    paths.set(path, online)
    if (online) return false
    for (const up of paths.values()) if (up) return false
    return true
  }
}
