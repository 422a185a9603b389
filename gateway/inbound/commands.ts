/**
 * The commands a station or technician can send (docs/protocol.md §Commands).
 *   lamp-test                         lamp box shows the test pattern
 *   silence                           lamp box back to normal (the alert stays open until acked)
 *   walk-test {on:true, minutes?:N}   alerts are marked test until switched off or N minutes pass (issue 7)
 *   walk-test {on:false}              back to normal
 *   walk-test-report {report:{…}}     publish a commissioning report, retained, locally and to the station
 *   roll-call {id, deadline_s}        the post waits for a check-in until the deadline (issue 15)
 *   status                            replies with the gateway state
 */
import { hasStation } from '../config/station-paths.js'
import type { GatewayParts } from '../gateway-parts.js'

/** What the commands use of the gateway (issue 18: a narrow view, not the class). */
type CommandHost = Pick<GatewayParts, 'broker' | 'clock' | 'commands' | 'config' | 'core' | 'gatewayState' | 'lamp' | 'log' | 'rollCall' | 'state' | 'statePublisher' | 'topics' | 'uplink'>
import type { TimerHandle } from '../../devices/time/clock.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

/**
 * A walk test always ends by itself: a technician's laptop that dies or walks
 * away must not leave real alerts marked `test` (which a station shows as "not
 * an emergency") for ever. 30 min covers a post; 4 h a large lookout platform.
 */
export const WALK_TEST_DEFAULT_MIN = 30
export const WALK_TEST_MAX_MIN = 240

export function registerCommands(gw: CommandHost): void {
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
  // docs/protocol.md §Roll call. No lamp pattern: the lamp box has no free pattern code for it
  // (protocols/lamp-box/lamp-pattern.ts), so the roll call is shown on the retained …/roll-call only.
  gw.commands.register('roll-call', (args, by) => {
    const r = gw.rollCall.start(args, by)
    return r.ok ? { ok: true, result: { roll_call: r.id, deadline: r.deadline } } : r
  })
  registerWalkTest(gw)
}

function registerWalkTest(gw: CommandHost): void {
  let autoOff: TimerHandle | null = null

  const changed = (): void => {
    gw.state.gatewayDirty = true
    gw.statePublisher.flushSoon()
  }
  const end = (why: string): void => {
    if (autoOff) gw.clock.clearTimeout(autoOff)
    autoOff = null
    const was = gw.core.testMode
    gw.core.testMode = false
    // Test alerts put the lamp box on its test pattern; a real alarm's pattern is left alone.
    if (gw.lamp && gw.state.lampPattern === 'test') gw.lamp.set('normal', 'walk test ended')
    if (was) gw.log.info({ why }, 'walk test ended')
    changed()
  }

  gw.commands.register('walk-test', (args, by) => {
    if (typeof args.on !== 'boolean') return { ok: false, error: 'walk-test needs args.on = true or false' }
    if (!args.on) {
      end(`switched off by ${by}`)
      return { ok: true, result: { mode: 'normal' } }
    }
    const minutes = args.minutes ?? WALK_TEST_DEFAULT_MIN
    if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0 || minutes > WALK_TEST_MAX_MIN) {
      return { ok: false, error: `walk-test args.minutes must be a number of minutes above 0 and at most ${WALK_TEST_MAX_MIN} (default ${WALK_TEST_DEFAULT_MIN})` }
    }
    const ms = Math.round(minutes * 60_000)
    // Switching on again (a second technician, a re-run) restarts the time limit.
    if (autoOff) gw.clock.clearTimeout(autoOff)
    autoOff = gw.clock.setTimeout(() => {
      autoOff = null
      end('time limit reached')
    }, ms)
    if (!gw.core.testMode) gw.log.info({ by, minutes }, 'walk test started')
    gw.core.testMode = true
    changed()
    return { ok: true, result: { mode: 'walk_test', minutes, ends_at: gw.clock.now() + ms } }
  })

  gw.commands.register('walk-test-report', (args, by) => {
    if (args.report === undefined) return { ok: false, error: 'walk-test-report needs args.report (protocols/mqtt/schemas/walk-test-report.schema.json)' }
    const text = JSON.stringify(args.report)
    const r = checkPayload<{ site: string; post: string }>('walkTestReport', text)
    if (!r.ok) return { ok: false, error: `args.report does not match walk-test-report.schema.json: ${r.error}` }
    const { site, post } = r.value
    if (site !== gw.config.site || post !== gw.config.post) {
      return { ok: false, error: `the report is for ${site}/${post} but this gateway is ${gw.config.site}/${gw.config.post}: run the walk test with this post's config file` }
    }
    const payload = Buffer.from(text)
    const topic = gw.topics.walkTestReport
    gw.broker.publish(topic, payload, 1, true)
    // Retained and latest-value: sent now, or held until the station is back (never in the alert outbox).
    gw.uplink.publish(topic, payload, 1, true)
    gw.log.info({ by, bytes: payload.length }, 'walk-test report published')
    const station = !hasStation(gw.config.station) ? 'none' : gw.uplink.connected ? 'sent' : 'queued'
    return { ok: true, result: { topic, station } }
  })
}
