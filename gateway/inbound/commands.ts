/**
 * The commands a station or technician can send (docs/protocol.md §Commands).
 *   lamp-test            lamp box shows the test pattern
 *   silence              lamp box back to normal (the alert stays open until acked)
 *   walk-test {on:bool}  alerts are marked test while on (issue 7)
 *   status               replies with the gateway state
 */
import type { Gateway } from '../gateway.js'

export function registerCommands(gw: Gateway): void {
  gw.commands.register('status', () => ({ ok: true, result: gw.gatewayState() }))
  gw.commands.register('lamp-test', (_a, by) => {
    if (!gw.lamp) return { ok: false, error: 'this post has no lamp box configured' }
    gw.lamp.set('test', `lamp test by ${by}`)
    return { ok: true, result: { pattern: 'test' } }
  })
  gw.commands.register('silence', (_a, by) => {
    if (!gw.lamp) return { ok: false, error: 'this post has no lamp box configured' }
    gw.lamp.set('normal', `silenced by ${by}`)
    return { ok: true, result: { pattern: 'normal' } }
  })
  gw.commands.register('walk-test', (args) => {
    if (typeof args.on !== 'boolean') return { ok: false, error: 'walk-test needs args.on = true or false' }
    gw.core.testMode = args.on
    gw.state.gatewayDirty = true
    return { ok: true, result: { mode: args.on ? 'walk_test' : 'normal' } }
  })
}
