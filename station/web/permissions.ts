/**
 * Who may do what (issue 15). Nothing is anonymous: every API route names a
 * permission; no session -> 401, wrong role -> 403.
 *  - operator: the alarm desk (queue, ack, roll call, commands, history)
 *  - supervisor: all of that, plus users and the audit log
 *  - maintainer: read-only fleet health (posts, devices, rejected payloads)
 */
import type { Role } from '../station-api.js'

export type Permission =
  | 'fleet:read' // posts, devices, rejected, health
  | 'alarms:read' // queue, history, roll calls
  | 'alarms:act' // ack, roll call, commands
  | 'users:manage' // operators, audit log

const GRANTS: Record<Role, readonly Permission[]> = {
  operator: ['fleet:read', 'alarms:read', 'alarms:act'],
  supervisor: ['fleet:read', 'alarms:read', 'alarms:act', 'users:manage'],
  maintainer: ['fleet:read'],
}

export function can(role: Role, p: Permission): boolean {
  return GRANTS[role]?.includes(p) ?? false
}

export function permissionsOf(role: Role): Permission[] {
  return [...(GRANTS[role] ?? [])]
}
