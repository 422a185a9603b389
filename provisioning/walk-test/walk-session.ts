/**
 * The running part of `safehouse walk-test`: listen to the post's alerts and
 * device states, switch walk-test mode on, check the lamp box with the
 * technician, tick devices as their test alerts arrive, and end when every
 * device passed, at the time limit, or on Ctrl-C. Progress goes to stderr.
 * Test mode is switched off at the end, however it ended; the caller writes the report.
 */
import type { MqttClient } from 'mqtt'
import type { PostTopics } from '../../protocols/mqtt/topics.js'
import type { Prompter } from '../shared/prompter.js'
import { CommandTimeout, type CommandChannel } from './command-channel.js'
import type { CheckItem, Checklist } from './checklist.js'
import { formatDuration, formatLeft, localTime, type WalkTestReport } from './report.js'

export type LampMode = 'ask' | 'ok' | 'skip'

export interface SessionOptions {
  client: MqttClient
  topics: PostTopics
  channel: CommandChannel
  list: Checklist
  prompter: Prompter
  timeLimitMs: number
  lamp: LampMode
  /** Seconds between "still waiting for" reminders. */
  remindEveryMs?: number
}

export interface SessionResult {
  startedAt: number
  endedAt: number
  endedBy: WalkTestReport['ended_by']
  /** Why test mode could not be switched off at the end (null: it is off). */
  offError: string | null
}

/** Lines for the technician; held back while a question is on screen so they do not garble it. */
class Progress {
  private held: string[] | null = null
  say(line: string): void {
    if (this.held) this.held.push(line)
    else process.stderr.write(line + '\n')
  }
  hold(): void { this.held ??= [] }
  /** Print now, ahead of anything held back. */
  first(lines: string[]): void {
    for (const l of lines) process.stderr.write(l + '\n')
  }
  release(): void {
    const lines = this.held ?? []
    this.held = null
    for (const l of lines) this.say(l)
  }
}

const describe = (i: CheckItem): string => [i.label, i.location].filter(Boolean).join(', ')

export async function runSession(o: SessionOptions): Promise<SessionResult> {
  const { client, topics, channel, list } = o
  const out = new Progress()
  const alertPrefix = `${topics.root}/alert/`
  const devicePrefix = `${topics.root}/device/`
  let deadline = Number.POSITIVE_INFINITY
  let sawTestMode = false
  let ending = false
  let warnedMode = false
  let endNow: (why: SessionResult['endedBy']) => void = () => {}
  const ended = new Promise<SessionResult['endedBy']>((resolve) => { endNow = resolve })
  const left = (): string => `${formatLeft(deadline - Date.now())} left`
  const progress = (): string => {
    const alertItems = list.items.filter((i) => i.check === 'alert')
    return `${alertItems.length - list.waiting().length} of ${alertItems.length} triggered, ${left()}`
  }
  const checkDone = (): void => { if (list.done()) endNow('all_passed') }

  let normalSeen: (() => void) | null = null
  // A retained copy (sent because we just subscribed, [MQTT-3.3.1-8]) may arrive after live
  // messages: it says nothing about a change, and must not overwrite newer device states.
  const onMessage = (topic: string, payload: Buffer, packet: { retain?: boolean }): void => {
    const retained = packet.retain === true
    if (topic.startsWith(alertPrefix)) {
      if (ending) return // the result is settled; a late press does not change the report
      const r = list.onAlert(payload)
      if (r.type === 'passed') {
        const rssi = r.item.alert_rssi === null ? '' : `, RSSI ${r.item.alert_rssi} dBm`
        out.say(`  ✓ ${r.item.id} (${describe(r.item) || r.item.kind}): ${r.item.alert_kind}${rssi} — ${progress()}`)
        checkDone()
      } else if (r.type === 'not-test') {
        out.say(`  ! ${r.item.id} raised a REAL ${r.kind} alert (not marked test): the gateway is not in walk-test mode; not counted`)
      } else if (r.type === 'trouble') {
        out.say(`  ! ${r.item.id} reported ${r.kind}`)
      }
    } else if (topic.startsWith(devicePrefix) && topic.endsWith('/state')) {
      const id = topic.slice(devicePrefix.length, -'/state'.length)
      if (!retained || !list.states.has(id)) list.onDeviceState(id, payload)
    } else if (topic === topics.state && !retained) {
      let mode: unknown
      try { mode = JSON.parse(payload.toString()).mode } catch { return }
      if (mode === 'walk_test') sawTestMode = true
      else if (mode === 'normal') normalSeen?.()
      if (mode === 'normal' && sawTestMode && !warnedMode && !ending && deadline - Date.now() > 5000) {
        warnedMode = true
        out.say('  ! the gateway left walk-test mode (switched off elsewhere, or restarted): alerts are no longer marked test')
      }
    }
  }
  client.on('message', onMessage)
  const onSignal = (): void => {
    out.release()
    out.say('\nstopping: switching test mode off and writing the report (Ctrl-C again to abort)')
    process.removeListener('SIGINT', onSignal)
    endNow('interrupted')
  }
  let timers: NodeJS.Timeout[] = []
  try {
    // Listen first, so no alert raised right after "on" is missed.
    const granted = await client.subscribeAsync([topics.alertFilter, `${topics.root}/device/+/state`, topics.state], { qos: 1 })
    if (granted.some((g) => g.qos === 128)) throw new Error(`the gateway's broker refused to let this user read ${topics.root}/…: log in as a technician`)
    const minutes = o.timeLimitMs / 60_000
    // A device may fire between the gateway switching on and its reply reaching us: count it,
    // but print its tick after the header.
    deadline = Date.now() + o.timeLimitMs
    out.hold()
    const on = await channel.send('walk-test', { on: true, minutes })
    if (!on.ok) throw new Error(`the gateway refused walk-test mode: ${on.error}`)
    const startedAt = Date.now()
    deadline = startedAt + o.timeLimitMs
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    timers.push(setTimeout(() => endNow('time_limit'), o.timeLimitMs))
    const every = o.remindEveryMs ?? 30_000
    timers.push(setInterval(() => {
      const w = list.waiting()
      if (w.length) out.say(`  … waiting for ${w.map((i) => i.id).join(', ')} — ${left()}`)
    }, every))

    const endsAt = typeof on.result.ends_at === 'number' ? ` (the gateway leaves test mode by itself at ${localTime(on.result.ends_at)})` : ''
    out.first([
      `Walk test of ${topics.site}/${topics.post}: ${list.items.length} device(s), time limit ${formatDuration(o.timeLimitMs)}${endsAt}.`,
      'Alerts are marked "test" at the station until the end. Trigger each device now; Ctrl-C ends the test early.',
      ...list.items.map((i) => `  [ ] ${i.id.padEnd(16)} ${i.kind.padEnd(13)} ${describe(i)}${i.check === 'lamp_test' ? '  (lamp test, below)' : ''}`.trimEnd()),
    ])
    out.release()
    checkDone() // no devices at all, or only skipped ones
    void lampChecks(o, out, ended).then(checkDone)
    const endedBy = await ended
    ending = true
    const endedAt = Date.now()
    list.finish(endedBy === 'interrupted' ? 'before the test was stopped' : `within ${formatDuration(o.timeLimitMs)}`)
    // The gateway publishes the changed device states, then its state with mode "normal", right
    // after switching off: wait for that state so the report has the latest battery and RSSI.
    const flushed = new Promise<void>((resolve) => { normalSeen = resolve })
    const off = await channel.send('walk-test', { on: false }).catch((e: Error) => ({ ok: false as const, error: e.message }))
    if (off.ok) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([flushed, new Promise((r) => { timer = setTimeout(r, 2000) })])
      clearTimeout(timer)
    }
    return { startedAt, endedAt, endedBy, offError: off.ok ? null : off.error }
  } finally {
    for (const t of timers) clearTimeout(t)
    timers = []
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    client.off('message', onMessage)
    out.release()
  }
}

/** Lamp boxes: send lamp-test, then the technician confirms the pattern (or the flags decide). */
async function lampChecks(o: SessionOptions, out: Progress, ended: Promise<unknown>): Promise<void> {
  let over = false
  void ended.then(() => { over = true })
  for (const item of o.list.items.filter((i) => i.check === 'lamp_test')) {
    if (over) return
    if (o.lamp === 'skip') {
      item.result = 'skipped'
      item.note = 'lamp check skipped (--no-lamp-check)'
      continue
    }
    try {
      const r = await o.channel.send('lamp-test', {})
      if (!r.ok) {
        item.result = 'fail'
        item.note = `the gateway refused lamp-test: ${r.error}`
        out.say(`  ✗ ${item.id}: ${item.note}`)
        continue
      }
    } catch (e) {
      if (over) return
      item.result = 'fail'
      item.note = e instanceof CommandTimeout ? 'the gateway did not answer lamp-test' : (e as Error).message
      out.say(`  ✗ ${item.id}: ${item.note}`)
      continue
    }
    if (o.lamp === 'ok') {
      item.result = 'pass'
      item.triggered_at = Date.now()
      item.note = 'test pattern confirmed with --lamp-ok'
      out.say(`  ✓ ${item.id}: lamp test sent (confirmed with --lamp-ok)`)
      continue
    }
    out.hold()
    // On a terminal readline takes the keys raw, so Ctrl-C at this question arrives as a key, not a signal.
    const ctrlC = (_s: unknown, key?: { ctrl?: boolean; name?: string }): void => { if (key?.ctrl && key.name === 'c') process.kill(process.pid, 'SIGINT') }
    process.stdin.on('keypress', ctrlC)
    const answer = await Promise.race([
      o.prompter.confirm(`Lamp box ${item.id}${describe(item) ? ` (${describe(item)})` : ''} now shows the test pattern: do you see it?`, false)
        .then((yes) => (yes ? 'yes' : 'no'), () => 'no-answer' as const),
      ended.then(() => 'ended' as const),
    ]).finally(() => process.stdin.off('keypress', ctrlC))
    out.release()
    if (answer === 'ended') return
    item.result = answer === 'yes' ? 'pass' : 'fail'
    item.triggered_at = answer === 'yes' ? Date.now() : null
    item.note = answer === 'yes' ? 'test pattern confirmed by the technician' : answer === 'no' ? 'the technician did not see the test pattern' : 'no answer to the lamp question'
    out.say(`  ${answer === 'yes' ? '✓' : '✗'} ${item.id}: ${item.note}`)
  }
}
