/**
 * `safehouse simulate ACTION DEVICE [ARG]`: drive a simulated device of a
 * running demo (found by its demo.json, provisioning/demo/demo-registry.ts) or
 * of `safehouse run --config FILE` with simulated devices and a simulator user.
 * It logs in as the simulator user (the only role allowed to publish sim/
 * topics) and waits for the gateway's answer on sim-result/: a refusal
 * (unknown device, impossible action) exits 1 with the gateway's reason.
 */
import { parseArgs } from 'node:util'
import { PassThrough } from 'node:stream'
import { PROTOCOL_ROOT } from '../../protocols/mqtt/topics.js'
import { Prompter } from '../shared/prompter.js'
import type { BrokerTarget } from '../status/broker-connect.js'
import { DemoNotFound, pickDemo } from '../demo/demo-registry.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const USAGE = `usage: safehouse simulate ACTION DEVICE [ARG] [--demo PID | --config FILE [--user NAME] [--password-stdin]] [--wait MS]

Drives a simulated device and reports whether the gateway accepted it (exit 1 if refused).

Actions: panic buttons: press, hold [ms], cut, short, restore, unplug, replug
         whistles: press, blow, long, battery [percent]
         lamp box: mains-off, mains-on, door-open, door-close, dark, light, unplug, replug

  (default)          the running demo (\`npx safehouse demo\`); --demo PID when several run
  --config FILE      a gateway started with \`safehouse run --config FILE\` whose devices use
                     driver: sim and whose broker.users has a user with role simulator
  --user NAME        that user (default: the config's only simulator user)
  --password-stdin   its password from stdin (else $SAFEHOUSE_PASSWORD, else a hidden prompt)
  --wait MS          how long to wait for the gateway's answer (default 3000)

Examples:
  safehouse simulate press counter-button
  safehouse simulate hold public-button 2000
  echo "$SIM_PW" | safehouse simulate blow whistle-07 --config ./site.yaml --password-stdin`

export async function simulate(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values, positionals } = parseFlags(() => parseArgs({ args: argv, allowPositionals: true, options: {
    demo: { type: 'string' }, config: { type: 'string', short: 'c' }, user: { type: 'string' },
    'password-stdin': { type: 'boolean' }, wait: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  } }))
  if (values.help) {
    println(io.stdout, USAGE)
    return 0
  }
  const [action, device, arg, extra] = positionals
  if (!action || !device) throw new UsageError(action ? `give the DEVICE to ${action}` : 'give an ACTION and a DEVICE, e.g. simulate press counter-button')
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`)
  const level = /^[a-z0-9][a-z0-9_-]*$/i
  if (!level.test(action)) throw new UsageError(`"${action}" is not an action name`)
  if (!level.test(device)) throw new UsageError(`"${device}" is not a device id`)
  if (arg !== undefined && !/^-?\d+(\.\d+)?$/.test(arg)) throw new UsageError(`ARG must be a number (got "${arg}")`)
  const waitMs = values.wait === undefined ? 3000 : Number(values.wait)
  if (!Number.isFinite(waitMs) || waitMs < 100) throw new UsageError(`--wait must be a number of milliseconds, at least 100 (got "${values.wait}")`)
  if (values.demo !== undefined && values.config !== undefined) throw new UsageError('give either --demo PID or --config FILE, not both')
  // mqtt and the config loader load after the usage checks, so `simulate --help` stays fast (issue 13 §5).
  const [{ BrokerConnectError, connectBroker, toolClientId }, { brokerPassword, loadPostConfig, localBrokerTarget }] = await Promise.all([
    import('../status/broker-connect.js'), import('../status/local-broker.js'),
  ])

  let target: BrokerTarget
  let root: string
  if (values.config !== undefined) {
    const config = loadPostConfig(values.config)
    const sims = config.broker.users.filter((u) => u.role === 'simulator').map((u) => u.username)
    const username = values.user ?? (sims.length === 1 ? sims[0] : undefined)
    if (!username) throw new UsageError(sims.length ? `give --user NAME: ${values.config} has several simulator users (${sims.join(', ')})` : `${values.config} has no user with role simulator under broker.users (add one: safehouse user add NAME --role simulator)`)
    const fromStdin = !!values['password-stdin']
    const prompter = new Prompter({ input: io.stdin, output: fromStdin ? new PassThrough() : io.stderr }, { script: fromStdin })
    try {
      target = localBrokerTarget(config, values.config, { username, clientId: toolClientId('simulate') })
      target.password = await brokerPassword(username, fromStdin, prompter)
    } finally {
      prompter.close()
    }
    root = `${PROTOCOL_ROOT}/${config.site}/${config.post}`
  } else {
    if (values.user || values['password-stdin']) throw new UsageError('--user and --password-stdin apply with --config; the demo\'s login is found by itself')
    let demo
    try {
      demo = pickDemo(values.demo)
    } catch (e) {
      if (e instanceof DemoNotFound) {
        println(io.stderr, `safehouse simulate: ${e.message}`)
        return 1
      }
      throw e
    }
    target = {
      url: `mqtt://127.0.0.1:${demo.port}`, what: `the demo's broker (pid ${demo.pid})`, hint: 'Is the demo still running?',
      username: demo.simulator.username, password: demo.simulator.password, clientId: toolClientId('simulate'),
    }
    root = `${PROTOCOL_ROOT}/${demo.site}/${demo.post}`
  }

  let client
  try {
    client = await connectBroker(target, { timeoutMs: waitMs })
  } catch (e) {
    if (!(e instanceof BrokerConnectError)) throw e
    println(io.stderr, `safehouse simulate: ${e.message}`)
    return 1
  }
  try {
    const resultTopic = `${root}/sim-result/${device}/${action}`
    const answer = new Promise<{ ok: boolean; error: string | null } | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), waitMs)
      client.on('message', (topic, payload) => {
        if (topic !== resultTopic) return
        clearTimeout(timer)
        try {
          resolve(JSON.parse(payload.toString()))
        } catch {
          resolve({ ok: false, error: 'unreadable answer from the gateway' })
        }
      })
    })
    await client.subscribeAsync(resultTopic, { qos: 1 })
    // Not awaited: a publish the broker refuses (ACL, payload) gets no PUBACK from aedes, and an
    // awaited promise that never settles ends the process with exit 13 and no output. The answer's
    // timer bounds the wait either way.
    client.publish(`${root}/sim/${device}/${action}`, arg ?? '', { qos: 1 }, () => {})
    const a = await answer
    if (!a) {
      println(io.stderr, `safehouse simulate: no answer from the gateway within ${waitMs} ms (is it running, and does ${target.username} have role simulator?)`)
      return 1
    }
    if (!a.ok) {
      println(io.stderr, `safehouse simulate: the gateway refused ${action} ${device}: ${a.error}`)
      return 1
    }
    println(io.stdout, `${action} ${device}: accepted by the gateway`)
    return 0
  } finally {
    await client.endAsync(true).catch(() => {})
  }
}
