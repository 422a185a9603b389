/**
 * `safehouse walk-test` (issue 7 §3): commissioning. Logs in to the post's
 * embedded broker as a technician, switches the gateway to walk-test mode
 * (alerts marked `test`, switched off by the gateway itself after the time
 * limit), ticks every configured device as its test alert arrives, checks the
 * lamp box with the technician, then switches test mode off, writes the
 * report (Markdown + JSON) and has the gateway publish it to the station.
 */
import { parseArgs } from 'node:util'
import { join } from 'node:path'
import type { MqttClient } from 'mqtt'
import { PostTopics } from '../../protocols/mqtt/topics.js'
import { WALK_TEST_DEFAULT_MIN, WALK_TEST_MAX_MIN } from '../../gateway/inbound/commands.js'
import { Prompter } from '../shared/prompter.js'
import { BrokerConnectError, connectBroker, toolClientId } from '../status/broker-connect.js'
import { brokerPassword, DEFAULT_CONFIG, loadPostConfig, localBrokerTarget, localUser, PASSWORD_ENV } from '../status/local-broker.js'
import { CommandChannel, type CommandReply } from '../walk-test/command-channel.js'
import { Checklist } from '../walk-test/checklist.js'
import { runSession, type LampMode } from '../walk-test/walk-session.js'
import { buildReport, localTime, writeReportFiles, type WalkTestReport } from '../walk-test/report.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const USAGE = `usage: safehouse walk-test [--config FILE] [--user NAME] [--password-stdin] [--minutes N]
                          [--report-dir DIR] [--json] [--lamp-ok | --no-lamp-check] [--by NAME]
       safehouse walk-test --off [--config FILE] [--user NAME] [--password-stdin]

Commissioning: the gateway marks every alert "test"; trigger each configured device (press the
buttons, blow the whistles); the lamp box shows its test pattern and you confirm it. Ends when
every device passed, at the time limit, or on Ctrl-C; then test mode is switched off and the
report is written and published to the station (…/<post>/walk-test/report).

  --config FILE      the post's config (default ${DEFAULT_CONFIG}): broker, devices, data_dir
  --user NAME        technician user of the embedded broker (default: the config's only one)
  --password-stdin   read the password from the first line of stdin (else $${PASSWORD_ENV},
                     else a hidden prompt); answers to questions follow on the next lines
  --minutes N        time limit (default ${WALK_TEST_DEFAULT_MIN}, at most ${WALK_TEST_MAX_MIN}; fractions allowed, 0.5 = 30 s).
                     The gateway leaves test mode by itself after it, even if this computer dies
  --report-dir DIR   where to write the report (default <data_dir>/walk-tests)
  --json             print the report as JSON on stdout
  --lamp-ok          do not ask about the lamp box: count its test pattern as seen (scripts)
  --no-lamp-check    skip the lamp box (reported as skipped, not failed)
  --by NAME          technician's name in the report (default: the broker user)
  --broker URL       the embedded broker at another address (a laptop on the post's LAN)
  --off              only switch walk-test mode off (e.g. after a laptop died mid-test)

Exit codes: 0 every device passed; 1 a device failed (listed), or the gateway could not be
reached, or the report could not be written or published; 2 usage.

Examples:
  safehouse walk-test
  safehouse walk-test --minutes 60 --report-dir ~/commissioning
  printf '%s\\ny\\n' "$TECH_PW" | safehouse walk-test --password-stdin --json > report.json
  safehouse walk-test --off`

export async function walkTest(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, options: {
    config: { type: 'string', short: 'c' }, user: { type: 'string' }, 'password-stdin': { type: 'boolean' }, minutes: { type: 'string' },
    'report-dir': { type: 'string' }, json: { type: 'boolean' }, 'lamp-ok': { type: 'boolean' }, 'no-lamp-check': { type: 'boolean' },
    by: { type: 'string' }, off: { type: 'boolean' }, broker: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } }), `\n\n${USAGE}`)
  if (values.help) {
    println(io.stdout, USAGE)
    return 0
  }
  const minutes = values.minutes === undefined ? WALK_TEST_DEFAULT_MIN : Number(values.minutes)
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > WALK_TEST_MAX_MIN) throw new UsageError(`--minutes must be a number above 0 and at most ${WALK_TEST_MAX_MIN} (got "${values.minutes}")`)
  if (values['lamp-ok'] && values['no-lamp-check']) throw new UsageError('give --lamp-ok or --no-lamp-check, not both')
  const lamp: LampMode = values['lamp-ok'] ? 'ok' : values['no-lamp-check'] ? 'skip' : 'ask'
  const file = values.config ?? DEFAULT_CONFIG
  const config = loadPostConfig(file)
  const username = localUser(config, file, values.user)
  const by = values.by ?? username
  if (by.length < 1 || by.length > 64) throw new UsageError('--by must be 1 to 64 characters')
  const clientId = toolClientId('walk')
  const target = localBrokerTarget(config, file, { broker: values.broker, username, clientId })
  const topics = new PostTopics(config.site, config.post)
  const prompter = new Prompter(undefined, { script: !!values['password-stdin'] })
  let client: MqttClient | null = null
  let channel: CommandChannel | null = null
  try {
    target.password = await brokerPassword(username, !!values['password-stdin'], prompter)
    try {
      client = await connectBroker(target, { timeoutMs: 10_000, reconnectMs: 1000 })
    } catch (e) {
      if (!(e instanceof BrokerConnectError)) throw e
      println(io.stderr, `safehouse walk-test: ${e.message}`)
      return 1
    }
    channel = new CommandChannel(client, topics, clientId, by)
    await channel.open()
    if (values.off) return await switchOff(channel, io)

    const list = new Checklist(config.devices.map((d) => ({ id: d.id, kind: d.kind, label: d.label, location: d.location, role: 'role' in d ? d.role : undefined })))
    if (!list.items.length) throw new Error(`${file} lists no devices: pair them first (safehouse pair ble|button|lamp)`)
    let session
    try {
      session = await runSession({ client, topics, channel, list, prompter, timeLimitMs: Math.round(minutes * 60_000), lamp })
    } catch (e) {
      // It may have been switched on before the failure: do not leave real alerts marked test.
      await channel.send('walk-test', { on: false }, 5000).catch(() => {})
      throw e
    }
    if (session.offError) println(io.stderr, `safehouse walk-test: ${offFailed(session.offError)}`)
    const report = buildReport({
      site: config.site, post: config.post, post_type: config.post_type, technician: by,
      started_at: session.startedAt, ended_at: session.endedAt, ended_by: session.endedBy, time_limit_s: Math.round(minutes * 60_000) / 1000,
    }, list)
    const delivered = await deliver(report, values['report-dir'] ?? join(config.data_dir, 'walk-tests'), channel, config.broker.max_packet_bytes, io)
    if (values.json) {
      println(io.stdout, JSON.stringify(report, null, 2))
      for (const l of delivered.lines) println(io.stderr, l)
    } else println(io.stdout, summary(report, delivered.lines))
    const failed = report.devices.filter((d) => d.result === 'fail')
    if (failed.length) println(io.stderr, `FAILED: ${failed.map((d) => `${d.id} (${d.note ?? 'failed'})`).join('; ')}`)
    return failed.length || !delivered.ok || session.offError ? 1 : 0
  } finally {
    channel?.close()
    await client?.endAsync().catch(() => {})
    prompter.close()
    // An unanswered question (time limit, Ctrl-C) still holds stdin open: let the process end.
    process.stdin.destroy()
  }
}

async function switchOff(channel: CommandChannel, io: CliIO): Promise<number> {
  const r: CommandReply = await channel.send('walk-test', { on: false }).catch((e: Error) => ({ ok: false as const, error: e.message }))
  if (r.ok) {
    println(io.stdout, 'walk-test mode is off: alerts are no longer marked test')
    return 0
  }
  println(io.stderr, `safehouse walk-test: ${offFailed(r.error)}`)
  return 1
}

function offFailed(why: string): string {
  return `could not switch walk-test mode off (${why}). The gateway switches it off by itself at the time limit; or run \`safehouse walk-test --off\``
}

/** Write the files and have the gateway publish the report; every problem is said, none stops the other step. */
async function deliver(report: WalkTestReport, dir: string, channel: CommandChannel, maxPacket: number, io: CliIO): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = []
  let ok = true
  try {
    const f = writeReportFiles(dir, report)
    lines.push(`Report: ${f.md}`, `        ${f.json}`)
  } catch (e) {
    ok = false
    println(io.stderr, `safehouse walk-test: cannot write the report to ${dir}: ${(e as Error).message}. Pass --report-dir DIR (a directory you can write), or run as the gateway's user`)
  }
  const bytes = Buffer.byteLength(JSON.stringify(report)) + 400 // + request envelope and MQTT header
  if (bytes > maxPacket) {
    ok = false
    println(io.stderr, `safehouse walk-test: the report (${bytes} bytes) is larger than the gateway's broker accepts (broker.max_packet_bytes ${maxPacket}); it is in the files only. Raise broker.max_packet_bytes to publish reports of this many devices`)
    return { ok, lines }
  }
  const r: CommandReply = await channel.send('walk-test-report', { report }).catch((e: Error) => ({ ok: false as const, error: e.message }))
  if (r.ok) {
    const station = r.result.station === 'sent' ? 'sent to the station' : r.result.station === 'queued' ? 'queued for the station (not connected now; sent when it is)' : 'no station configured'
    lines.push(`Published on ${String(r.result.topic)} (retained): ${station}`)
  } else {
    ok = false
    println(io.stderr, `safehouse walk-test: the gateway did not publish the report: ${r.error}`)
  }
  return { ok, lines }
}

function summary(r: WalkTestReport, extra: string[]): string {
  const s = r.summary
  const rows = r.devices.map((d) => {
    const when = d.triggered_at === null ? '' : ` at ${localTime(d.triggered_at).slice(11, 19)}`
    const what = d.check === 'lamp_test' ? 'lamp test' : (d.alert_kind ?? 'no alert')
    const radio = [d.rssi === null ? null : `RSSI ${d.rssi} dBm`, d.battery === null ? null : `battery ${Math.round(d.battery)} %`].filter(Boolean).join(', ')
    return `  ${d.result.toUpperCase().padEnd(7)} ${d.id.padEnd(16)} ${what}${when}${radio ? `, ${radio}` : ''}${d.note ? ` — ${d.note}` : ''}`
  })
  return [`Walk test ${r.result.toUpperCase()}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`, ...rows, ...extra].join('\n')
}
