/**
 * `safehouse simulate ACTION DEVICE [ARG]`: drive a simulated device of a
 * running demo from another terminal. It logs in to the demo's embedded broker
 * as the simulator user (the only role allowed to publish sim/ topics).
 */
import { readFileSync } from 'node:fs'
import { UsageError } from './usage-error.js'

export async function simulate(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.length < 2) {
    const usage = `usage: safehouse simulate ACTION DEVICE [ARG]

Actions: panic buttons: press, hold [ms], cut, short, restore, unplug, replug
         whistles: press, blow, long, battery [percent]
         lamp box: mains-off, mains-on, door-open, door-close, dark, light, unplug, replug
Examples:
  safehouse simulate press counter-button
  safehouse simulate hold public-button 2000
  safehouse simulate blow whistle-07`
    if (argv.includes('--help')) { console.log(usage); return 0 }
    throw new UsageError(usage)
  }
  const [action, device, arg] = argv
  // Loaded after the usage checks so `simulate --help` stays fast (issue 13 §5).
  const [{ default: mqtt }, { demoInfoFile }] = await Promise.all([import('mqtt'), import('../demo/demo-setup.js')])
  let info: { port: number; username: string; password: string; site: string; post: string }
  try {
    info = JSON.parse(readFileSync(demoInfoFile(), 'utf8'))
  } catch {
    throw new Error(`no running demo found (${demoInfoFile()} missing); start one with \`npm start\` first`)
  }
  const client = mqtt.connect(`mqtt://127.0.0.1:${info.port}`, { username: info.username, password: info.password, reconnectPeriod: 0, connectTimeout: 3000 })
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', (e) => reject(new Error(`cannot reach the demo's broker on port ${info.port}: ${e.message}`)))
  })
  await client.publishAsync(`safehouse/v1/${info.site}/${info.post}/sim/${device}/${action}`, arg ?? '', { qos: 1 })
  await client.endAsync()
  console.log(`sent ${action} to ${device} (watch the demo terminal)`)
  return 0
}
