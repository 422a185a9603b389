import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, parseConfig } from '../../../gateway/config/load-config.js'
import { ConfigError, type ConfigProblem } from '../../../gateway/config/config-error.js'
import { checkProblemTable, configProblems, type WantProblem } from '../../harness/config-problems.js'

const MIN = 'site: sh-huangpu\npost: kiosk-017\n'

/** Parse and return the problems (fails the test if the text is accepted). */
function problemsOf(text: string): readonly ConfigProblem[] {
  const p = configProblems(text)
  if (p === null) t.fail('config was accepted but should have been refused')
  return p ?? []
}

t.test('a valid minimal config gets every default', async (t) => {
  const c = parseConfig(MIN)
  t.equal(c.site, 'sh-huangpu')
  t.equal(c.post, 'kiosk-017')
  t.equal(c.post_type, 'safety_house')
  t.equal(c.group, null)
  t.equal(c.data_dir, '/var/lib/safehouse')
  t.equal(c.secrets_file, null)
  t.same(c.log, { level: 'info', format: 'auto' })
  t.match(c.broker, { enabled: true, host: '127.0.0.1', port: 1883, max_clients: 64, max_packet_bytes: 16384, users: [] })
  t.match(c.station, { url: null, protocol: 'auto', keepalive_s: 8, backoff_initial_ms: 500, backoff_max_ms: 30000, queue_limit: 1000 })
  t.same(c.outbox, { kind: 'file', max_alerts: 100000, max_bytes: 67108864, segment_bytes: 4194304 })
  t.same(c.core, { dedupe_ms: 250, keyed_dedupe_ms: 10000, tick_ms: 250, state_interval_s: 60 })
  t.same(c.boards, [])
  t.match(c.ble, { driver: 'sim', adapter: 'hci0' })
  t.same(c.devices, [])
})

t.test('each device kind gets the defaults of its own schema branch only', async (t) => {
  const c = parseConfig(MIN + 'devices:\n  - id: btn\n    kind: panic-button\n  - id: w1\n    kind: ble-whistle\n  - id: lamp\n    kind: lamp-box\n')
  t.match(c.devices[0], { kind: 'panic-button', driver: 'sim', debounce_ms: 30, wiring: 'normally_open' })
  t.notOk('format' in c.devices[0], 'no ble-whistle fields leak into a panic button')
  t.match(c.devices[1], { kind: 'ble-whistle', driver: 'sim', format: 'bthome', dedupe_window_ms: 10000 })
  t.notOk('debounce_ms' in c.devices[1])
  t.match(c.devices[2], { kind: 'lamp-box', baud: 19200, generic: { patterns: { alarm: 'alternate' } } })
})

t.test('the result is deeply frozen, and two parses share nothing', async (t) => {
  const text = MIN + 'broker:\n  users:\n    - username: panel-1\n      role: panel\ndevices:\n  - id: lamp\n    kind: lamp-box\n'
  const c = parseConfig(text)
  const d = parseConfig(text)
  for (const o of [c, c.broker, c.broker.users, c.broker.users[0], c.devices, c.devices[0], (c.devices[0] as { generic: object }).generic, c.log]) {
    t.ok(Object.isFrozen(o))
  }
  t.throws(() => { (c as { site: string }).site = 'x' }, TypeError)
  t.throws(() => { (c.broker.users as unknown[]).push({}) }, TypeError)
  t.not(c.broker, d.broker, 'defaults are fresh objects per parse')
  t.not((c.devices[0] as { probe_unit_ids: number[] }).probe_unit_ids, (d.devices[0] as { probe_unit_ids: number[] }).probe_unit_ids)
})

const errorTable: Array<{ name: string; text: string; want: WantProblem[] }> = [
  {
    name: 'YAML syntax error',
    text: 'site: a\npost: b\nlog: [1\n',
    want: [{ path: '', line: 3, message: /^YAML: a \[ or \{ is not closed/, hint: /close it on the same line/ }], // the line with the [ (issue 14), not where the parser noticed
  },
  {
    name: 'duplicate YAML key',
    text: 'site: a\nsite: b\npost: c\n',
    want: [{ path: '', line: 2, message: /YAML: "site" is set twice/, hint: /keep one "site:" \(the first is on line 1\)/ }],
  },
  {
    name: 'tab indentation',
    text: 'site: a\npost: b\nlog:\n\tlevel: info\n',
    want: [{ path: '', line: 4, message: /YAML: .*[Tt]ab/, hint: /spaces/ }],
  },
  { name: 'a sequence, not a mapping', text: '- a\n- b\n', want: [{ path: '', line: 1, message: /must be a YAML mapping/, hint: /site: <id>/ }] },
  { name: 'a scalar, not a mapping', text: 'hello\n', want: [{ path: '', line: 1, message: /must be a YAML mapping/, hint: /post: <id>/ }] },
  {
    name: 'missing site and post',
    text: 'post_type: lookout\n',
    want: [
      { path: 'site', line: 1, message: /required but missing/, hint: /Site id/ },
      { path: 'post', line: 1, message: /required but missing/, hint: /post's id/ },
    ],
  },
  {
    name: 'bad pattern',
    text: 'site: SH_Huangpu\npost: kiosk-017\n',
    want: [{ path: 'site', line: 1, message: /must match pattern .*SH_Huangpu/, hint: /lower-case letters/ }],
  },
  {
    name: 'out-of-range integer',
    text: MIN + 'broker:\n  port: 70000\n',
    want: [{ path: 'broker.port', line: 4, message: /<= 65535.*70000/, hint: /TCP port/ }],
  },
  {
    name: 'not an integer',
    text: MIN + 'core:\n  tick_ms: 25.5\n',
    want: [{ path: 'core.tick_ms', line: 4, message: /integer.*25\.5/, hint: /timer-wheel/ }],
  },
  {
    name: 'unknown key with a "did you mean"',
    text: MIN + 'brokr:\n  port: 1\n',
    want: [{ path: 'brokr', line: 3, message: /not a known setting/, hint: /did you mean "broker"\?/ }],
  },
  {
    name: 'unknown nested key with a "did you mean"',
    text: MIN + 'station:\n  keepalive: 10\n',
    want: [{ path: 'station.keepalive', line: 4, message: /not a known setting/, hint: /did you mean "keepalive_s"\?/ }],
  },
  {
    name: 'unknown key far from any known one: list, no guess',
    text: MIN + 'zzzzzzzz: 1\n',
    want: [{ path: 'zzzzzzzz', line: 3, message: /not a known setting/, hint: /^known here: site, post/ }],
  },
  {
    name: 'wrong enum value',
    text: MIN + 'log:\n  level: verbose\n',
    want: [{ path: 'log.level', line: 4, message: /must be one of "fatal", .*"silent"/, hint: /pino log level/ }],
  },
  {
    name: 'unknown device kind',
    text: MIN + 'devices:\n  - id: x\n    kind: siren\n',
    want: [{ path: 'devices[0].kind', line: 5, message: /"siren" is not a device kind/, hint: /panic-button, ble-whistle, lamp-box/ }],
  },
  {
    name: 'device without kind (reported once)',
    text: MIN + 'devices:\n  - id: x\n',
    want: [{ path: 'devices[0].kind', line: 4, message: /required but missing/, hint: /use one of: panic-button/ }],
  },
  {
    name: 'device field errors name the device index',
    text: MIN + 'devices:\n  - id: b\n    kind: panic-button\n    debounce_ms: 5000\n    wirng: normally_open\n',
    want: [
      { path: 'devices[0].wirng', line: 7, message: /not a known setting/, hint: /did you mean "wiring"/ },
      { path: 'devices[0].debounce_ms', line: 6, message: /<= 1000/, hint: /stable this long/ },
    ],
  },
  {
    name: 'duplicate device ids',
    text: MIN + 'devices:\n  - id: x\n    kind: panic-button\n  - id: x\n    kind: ble-whistle\n',
    want: [{ path: 'devices[1].id', line: 6, message: /"x" is already used by devices\[0\]/, hint: /unique/ }],
  },
  {
    name: 'reserved id "gateway"',
    text: MIN + 'devices:\n  - id: gateway\n    kind: panic-button\n',
    want: [{ path: 'devices[0].id', line: 4, message: /reserved/, hint: /another id/ }],
  },
  {
    name: 'reserved post id "group" (the group fan-out tree)',
    text: 'site: a\npost: group\n',
    want: [{ path: 'post', line: 2, message: /"group" is reserved/, hint: /another post id/ }],
  },
  {
    name: 'two lamp boxes',
    text: MIN + 'devices:\n  - id: l1\n    kind: lamp-box\n  - id: l2\n    kind: lamp-box\n',
    want: [{ path: 'devices', line: 3, message: /2 lamp boxes/, hint: /one lamp box/ }],
  },
  {
    name: 'duplicate broker users',
    text: MIN + 'broker:\n  users:\n    - username: u\n      role: panel\n    - username: u\n      role: station\n',
    want: [{ path: 'broker.users[1].username', line: 7, message: /"u" is listed twice/, hint: /once/ }],
  },
  {
    name: 'TLS files set with mqtt:// (and the file is missing)',
    text: MIN + 'station:\n  url: mqtt://station:1883\n  ca_file: /nonexistent/ca.pem\n',
    want: [
      { path: 'station.url', line: 4, message: /TLS files are set but the URL is not encrypted/, hint: /mqtts:\/\// },
      { path: 'station.url', line: 4, message: /not encrypted, and station.require_tls is on/, hint: /VPN/ },
      { path: 'station.ca_file', line: 5, message: /"\/nonexistent\/ca.pem" does not exist/, hint: /full path/ },
    ],
  },
  {
    name: 'client cert without key',
    text: MIN + 'station:\n  url: mqtts://station:8883\n  cert_file: /nonexistent/c.pem\n',
    want: [
      { path: 'station.key_file', line: 3, message: /needs both cert_file and key_file/, hint: /both, or neither/ },
      { path: 'station.cert_file', line: 5, message: /does not exist/, hint: /PEM/ },
    ],
  },
  {
    name: 'backoff_max_ms < backoff_initial_ms',
    text: MIN + 'station:\n  backoff_initial_ms: 5000\n  backoff_max_ms: 1000\n',
    want: [{ path: 'station.backoff_max_ms', line: 5, message: /smaller than backoff_initial_ms \(5000\)/, hint: /at least the first/ }],
  },
  {
    // A counter restart accepted inside the dedupe window could reuse a remembered packet id: a press lost.
    name: 'counter restart silence shorter than the dedupe window (encrypted whistle)',
    text: MIN + 'devices:\n  - id: w1\n    kind: ble-whistle\n    key_ref: w1\n    counter_reset_silence_s: 5\n',
    want: [{ path: 'devices[0].counter_reset_silence_s', line: 7, message: /5 s, shorter than dedupe_window_ms \(10000 ms\).*lost/, hint: /at least 10/ }],
  },
]

t.test('every kind of error has a path, a line and a hint', async (t) => checkProblemTable(t, errorTable))

t.test('ALL errors are reported at once (schema and cross-field together)', async (t) => {
  const text = [
    'site: Bad_Site', //               1 pattern
    'post: kiosk-1',
    'brokr: {}', //                     3 unknown key
    'log:',
    '  level: loud', //                 5 enum
    'broker:',
    '  port: -1', //                    7 range
    '  users:',
    '    - username: u',
    '      role: panel',
    '    - username: u', //            11 duplicate user
    '      role: panel',
    'station:',
    '  url: mqtt://s:1883',
    '  key_file: /nonexistent/k.pem', // 15 TLS on mqtt://, key without cert, missing file
    '  backoff_initial_ms: 900',
    '  backoff_max_ms: 800', //        17 max < initial
    'devices:',
    '  - id: gateway', //              19 reserved
    '    kind: panic-button',
    '  - id: x',
    '    kind: horn', //               22 unknown kind
    '',
  ].join('\n')
  let err: unknown
  try { parseConfig(text, '/etc/safehouse/config.yaml') } catch (e) { err = e }
  t.type(err, ConfigError)
  const e = err as ConfigError
  t.equal(e.code, 'CONFIG_INVALID')
  t.equal(e.file, '/etc/safehouse/config.yaml')
  const byPath = Object.fromEntries(e.problems.map((p) => [p.path, p]))
  const want: Record<string, number> = {
    site: 1, brokr: 3, 'log.level': 5, 'broker.port': 7, 'broker.users[1].username': 11,
    'station.url': 14, 'station.cert_file': 13, 'station.key_file': 15, 'station.backoff_max_ms': 17,
    'devices[0].id': 19, 'devices[1].kind': 22,
  }
  for (const [path, line] of Object.entries(want)) {
    t.ok(byPath[path], `problem at ${path}`)
    t.equal(byPath[path]?.line, line, `${path} line`)
    t.ok(byPath[path]?.hint, `${path} has a hint`)
  }
  t.ok(e.problems.length >= Object.keys(want).length)
  t.match(e.message, /^\/etc\/safehouse\/config\.yaml: \d+ problems\n/)
  t.match(e.message, /\/etc\/safehouse\/config\.yaml:5 {2}log\.level: must be one of/)
  t.match(e.message, /\n {6}hint: /)
})

t.test('loadConfig', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))

  t.test('a missing file: ConfigError with a hint to the install guide', async (t) => {
    const file = join(dir, 'nope.yaml')
    const e = t.throws(() => loadConfig(file)) as unknown as ConfigError
    t.type(e, ConfigError)
    t.equal(e.file, file)
    t.equal(e.problems.length, 1)
    t.match(e.problems[0].message, /ENOENT/)
    t.match(e.problems[0].hint, /docs\/install.md/)
    t.match(e.problems[0].hint, /--config/)
  })

  t.test('a directory instead of a file: a clear error, no crash', async (t) => {
    const e = t.throws(() => loadConfig(dir)) as unknown as ConfigError
    t.type(e, ConfigError)
    t.match(e.problems[0].message, /cannot read the config file/)
    t.ok(e.problems[0].hint)
  })

  t.test('a real file loads and errors carry its name', async (t) => {
    const good = join(dir, 'good.yaml')
    writeFileSync(good, MIN)
    t.equal(loadConfig(good).post, 'kiosk-017')
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, MIN + 'log:\n  level: loud\n')
    const e = t.throws(() => loadConfig(bad)) as unknown as ConfigError
    t.equal(e.file, bad)
    t.match(e.message, `${bad}:4`)
  })
})

t.test('cross-field rules for boards, GPIO loops and the BLE transport', async (t) => {
  const bad = `site: s
post: p
boards:
  - { id: main, port: /dev/ttyUSB0 }
  - { id: main, port: /dev/ttyUSB1 }
devices:
  - { id: b1, kind: panic-button, driver: firmata, board: nano }
  - { id: b2, kind: panic-button, driver: gpio, wiring: eol_supervised }
  - { id: w1, kind: ble-whistle, driver: bluez, address: "AA:BB:CC:DD:EE:01" }
`
  const err = (() => { try { parseConfig(bad, 'x.yaml'); return null } catch (e) { return e as ConfigError } })()
  t.ok(err instanceof ConfigError)
  const paths = err!.problems.map((p) => p.path)
  t.same(paths.sort(), ['boards[1].id', 'devices[0].board', 'devices[1].wiring', 'devices[2].driver'].sort(), 'every cross-field problem, at once')
  t.match(err!.problems.find((p) => p.path === 'devices[0].board')?.hint, /main/, 'the hint lists the known boards')
  t.doesNotThrow(() => parseConfig(`site: s
post: p
ble: { driver: bluez }
devices:
  - { id: w1, kind: ble-whistle, address: "AA:BB:CC:DD:EE:01" }
`), 'a whistle with the default driver under ble.driver: bluez is fine')
})

t.test('cross-field rules for the group fan-out peers', async (t) => {
  const problems = (text: string): string[] => {
    try { parseConfig(text, 'g.yaml'); return [] } catch (e) { return (e as ConfigError).problems.map((p) => `${p.path}: ${p.message}`) }
  }
  t.same(problems(`site: s
post: p
group_fanout:
  peers: [{ post: p, url: "mqtt://10.0.0.2:1883" }, { post: q, url: "mqtt://10.0.0.3:1883" }, { post: q, url: "mqtt://10.0.0.4:1883" }]
`).sort(), [
    'group_fanout.peers: peers are listed but the post has no group',
    'group_fanout.peers[0].post: "p" is this post itself',
    'group_fanout.peers[2].post: "q" is listed twice',
    'group_fanout.username: peers are listed but no login for their brokers',
  ])
  t.match(problems('site: s\npost: p\ngroup: g\ngroup_fanout: { peers: [{ post: q, url: "http://x" }] }\n')[0], /group_fanout\.peers\[0\]\.url/)
  const c = parseConfig('site: s\npost: p\ngroup: g\ngroup_fanout: { username: p, peers: [{ post: q, url: "mqtt://10.0.0.3:1883" }] }\n')
  t.same(c.group_fanout, { username: 'p', peers: [{ post: 'q', url: 'mqtt://10.0.0.3:1883' }], ca_file: null, max_age_s: 60 })
})

t.test('counter restart silence vs the dedupe window: only where a restart can be accepted', async (t) => {
  const whistle = (extra: string) => MIN + 'devices:\n  - id: w1\n    kind: ble-whistle\n' + extra
  t.equal(configProblems(whistle('    key_ref: w1\n    counter_reset_silence_s: 10\n')), null, 'silence equal to the window is safe')
  t.equal(configProblems(whistle('    key_ref: w1\n    counter_reset_silence_s: 1\n    dedupe_window_ms: 500\n')), null, 'a short window with a short silence')
  t.equal(configProblems(whistle('    key_ref: w1\n    counter_reset_silence_s: 0\n    counter_reset: never\n')), null, 'never: no restart is accepted without a technician')
  t.equal(configProblems(whistle('    counter_reset_silence_s: 0\n')), null, 'a plaintext device has no counter to restart')
})
