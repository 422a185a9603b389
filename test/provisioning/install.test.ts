/**
 * `safehouse install` as a technician runs it (issue 7 §5): a spawned process
 * writing into a temporary --prefix (never /, never systemctl), with a fake
 * `udevadm` on PATH standing in for udev's view of the USB ports. The unit is
 * checked by `systemd-analyze verify` and the D-Bus policy by a real
 * dbus-daemon that enforces it, when those tools are installed.
 */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { userInfo } from 'node:os'
import dbus from 'dbus-next'
import { CLI, cli, tmpDir } from '../harness/cli-process.js'
import { runPlannedCommands, shellLine } from '../../provisioning/install/apply-plan.js'
import { renderDbusPolicy } from '../../provisioning/install/dbus-policy.js'
import { privateBusConfig } from '../harness/bluez-sim-bus.js'
import { spawnDaemon } from '../harness/spawn-daemon.js'

t.setTimeout(120_000)

const UNIT = 'etc/systemd/system/safehouse.service'
const UDEV = 'etc/udev/rules.d/99-safehouse.rules'
const DBUS = 'etc/dbus-1/system.d/safehouse.conf'

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0

/** A post with two Firmata boards (one with a USB serial number, one CH340 without) and a Modbus lamp box. */
function fixture(t: { teardown: (f: () => void) => void }) {
  const dir = tmpDir(t)
  const dev = join(dir, 'dev')
  mkdirSync(dev)
  for (const n of ['ttyACM0', 'ttyUSB1', 'ttyUSB0']) writeFileSync(join(dev, n), '')
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  // Stands in for udev: what `udevadm info --query=property --name=PORT` prints on a Pi.
  writeFileSync(join(bin, 'udevadm'), `#!/bin/sh
case "$3" in
  --name=*/ttyACM0) printf 'DEVNAME=/dev/ttyACM0\\nID_BUS=usb\\nID_VENDOR_ID=2341\\nID_MODEL_ID=0043\\nID_SERIAL_SHORT=75833353035351F0E1A1\\nID_PATH=platform-xhci-hcd.0-usb-0:1.1:1.0\\n' ;;
  --name=*/ttyUSB1) printf 'DEVNAME=/dev/ttyUSB1\\nID_BUS=usb\\nID_VENDOR_ID=1a86\\nID_MODEL_ID=7523\\nID_PATH=platform-xhci-hcd.0-usb-0:1.2:1.0\\n' ;;
  *) echo "Unknown device \\"$3\\": No such device" >&2; exit 4 ;;
esac
`)
  // If install ever ran a command under a temp prefix, these would leave a trace.
  for (const cmd of ['systemctl', 'useradd', 'chown', 'install']) writeFileSync(join(bin, cmd), `#!/bin/sh\necho "$0 $*" >> ${join(dir, 'ran-commands')}\n`)
  for (const f of ['udevadm', 'systemctl', 'useradd', 'chown', 'install']) chmodSync(join(bin, f), 0o755)
  const secrets = join(dir, 'secrets.yaml')
  writeFileSync(secrets, 'broker_passwords: {}\n', { mode: 0o600 })
  const config = join(dir, 'config.yaml')
  writeFileSync(config, [
    'site: sh-huangpu', 'post: kiosk-017', `data_dir: ${join(dir, 'data')}`, `secrets_file: ${secrets}`,
    'boards:', `  - { id: nano, port: ${join(dev, 'ttyACM0')} }`, `  - { id: clone, port: ${join(dev, 'ttyUSB1')} }`,
    'devices:',
    '  - { id: counter-button, kind: panic-button, driver: firmata, board: nano, pin: 2 }',
    `  - { id: lamp-box, kind: lamp-box, driver: modbus, port: ${join(dev, 'ttyUSB0')} }`, '',
  ].join('\n'))
  const prefix = join(dir, 'root')
  const env = { PATH: `${bin}:${process.env.PATH}` }
  return { dir, dev, config, secrets, prefix, env, ran: join(dir, 'ran-commands') }
}

t.test('--dry-run prints every file with its path, and the commands; writes and runs nothing', async (t) => {
  const f = fixture(t)
  // From the sources (through tsx): the unit names cli.ts (the other cases run the transpiled copy).
  // Into / (the second run) it says the commands would run as root; still nothing is touched (and no
  // root needed). Both dry runs write nothing, so they run side by side (issue 14 §5).
  const [r, root] = await Promise.all([
    cli(['install', '--dry-run', '--config', f.config, '--prefix', f.prefix], { env: f.env, source: true, timeoutMs: 90_000 }),
    cli(['install', '--dry-run', '--config', f.config, '--no-start'], { env: f.env, timeoutMs: 90_000 }),
  ])
  t.equal(r.code, 0, r.err)
  t.match(r.out, `# ==== ${join(f.prefix, UNIT)} (systemd unit, mode 0644)`)
  t.match(r.out, /\[Service\][\s\S]*ExecStart=\S+ .*cli\.ts run --config \S+config\.yaml/)
  t.match(r.out, `# ==== ${join(f.prefix, UDEV)} (udev rules, mode 0644)`)
  t.match(r.out, /SYMLINK\+="safehouse-firmata-nano"/)
  t.match(r.out, `# ==== ${join(f.prefix, DBUS)} (D-Bus policy for BlueZ, mode 0644)`)
  t.match(r.out, /<allow send_destination="org.bluez" send_interface="org.bluez.Adapter1"\/>/)
  t.match(r.out, /# ==== commands \(NOT run with --prefix/)
  t.match(r.out, /^systemctl daemon-reload /m)
  t.match(r.out, /^systemctl enable safehouse\.service /m)
  t.match(r.out, /^udevadm control --reload /m)
  t.match(r.err, /dry run: nothing was written or run/)
  t.notOk(existsSync(f.prefix), 'nothing written under the prefix')
  t.notOk(existsSync(f.ran), 'no command run')

  t.equal(root.code, 0, root.err)
  t.match(root.out, '# ==== /etc/systemd/system/safehouse.service (systemd unit, mode 0644)')
  t.match(root.out, /# ==== commands \(run as root after writing the files\)/)
  t.notMatch(root.out, /systemctl restart/, '--no-start leaves the restart out')
  t.notOk(existsSync(f.ran), 'no command run')
})

t.test('--prefix writes the three files with their content and modes; no command runs', async (t) => {
  const f = fixture(t)
  // The target's user and group databases: no "bluetooth" group, no service user yet.
  mkdirSync(join(f.prefix, 'etc'), { recursive: true })
  writeFileSync(join(f.prefix, 'etc/group'), 'root:x:0:\ndialout:x:20:\n')
  writeFileSync(join(f.prefix, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
  const r = await cli(['install', '--config', f.config, '--prefix', f.prefix, '--user', 'gw', '--rs485-serial', 'A10KXYZ3'], { env: f.env, source: true })
  t.equal(r.code, 0, r.err)
  t.match(r.err, /wrote .*safehouse\.service/, 'progress on stderr')
  t.match(r.err, /no command was run/)
  t.match(r.err, /warning: group "bluetooth" does not exist.*bluez/)
  t.match(r.err, /warning: user "gw" is not in .*etc\/passwd/)
  t.notOk(existsSync(f.ran), 'no systemctl, useradd, chown or install was run')

  for (const file of [UNIT, UDEV, DBUS]) t.equal(statSync(join(f.prefix, file)).mode & 0o777, 0o644, `${file} is 0644`)
  const unit = readFileSync(join(f.prefix, UNIT), 'utf8')
  for (const line of [
    'Type=notify', 'NotifyAccess=all', 'WatchdogSec=30', 'User=gw', 'Group=gw', 'SupplementaryGroups=dialout', 'Restart=on-failure', 'RestartSec=5',
    'NoNewPrivileges=yes', 'ProtectSystem=strict', `ReadWritePaths=${join(f.dir, 'data')}`, 'ProtectHome=yes',
    'PrivateTmp=yes', 'WantedBy=multi-user.target', 'StartLimitIntervalSec=0',
  ]) t.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), line)
  t.match(unit, new RegExp(`^ExecStart=${process.execPath} --max-semi-space-size=1 --v8-pool-size=1 --import tsx \\S+/provisioning/cli\\.ts run --config ${f.config}$`, 'm'), 'the service runs with the V8 memory flags (issue 13 §6)')

  const udev = readFileSync(join(f.prefix, UDEV), 'utf8')
  t.match(udev, 'SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="2341", ENV{ID_MODEL_ID}=="0043", ENV{ID_SERIAL_SHORT}=="75833353035351F0E1A1", SYMLINK+="safehouse-firmata-nano"\n')
  t.match(udev, /no USB serial number: the name follows the USB SOCKET/)
  t.match(udev, 'SUBSYSTEM=="tty", ENV{ID_VENDOR_ID}=="1a86", ENV{ID_MODEL_ID}=="7523", ENV{ID_PATH}=="platform-xhci-hcd.0-usb-0:1.2:1.0", SYMLINK+="safehouse-firmata-clone"\n')
  t.match(udev, /# identity from the command line\nSUBSYSTEM=="tty", ENV\{ID_SERIAL_SHORT\}=="A10KXYZ3", SYMLINK\+="safehouse-rs485"\n/)
  t.match(r.err, /then: boards\[0\] \(nano\): set port: \/dev\/safehouse-firmata-nano/, 'says which config ports to switch to the stable names')

  const policy = readFileSync(join(f.prefix, DBUS), 'utf8')
  t.match(policy, '<policy user="gw">')
  for (const i of ['org.bluez.Adapter1', 'org.bluez.Device1', 'org.freedesktop.DBus.Properties', 'org.freedesktop.DBus.ObjectManager']) {
    t.match(policy, `<allow send_destination="org.bluez" send_interface="${i}"/>`)
  }
  t.match(r.err, /useradd --system --user-group .* gw|on the target run:[\s\S]*install -d -m 0700 -o gw/)
  t.match(r.err, new RegExp(`chown gw: ${f.secrets}`), 'the secrets file goes to the service user')

  await t.test('the written unit passes systemd-analyze verify', { skip: has('systemd-analyze') ? false : 'systemd-analyze is not installed here: the unit was NOT verified' }, async (t) => {
    const v = spawnSync('systemd-analyze', ['verify', join(f.prefix, UNIT)], { encoding: 'utf8' })
    t.equal(v.status, 0, v.stderr)
    const complaints = v.stderr.split('\n').filter((l) => l.includes('safehouse.service'))
    t.same(complaints, [], 'no warning about the unit (unknown keys, bad values)')
  })

  // A re-run replaces the files (safe to repeat) and a board that is not plugged in gets a commented rule.
  writeFileSync(f.config, readFileSync(f.config, 'utf8').replace(join(f.dev, 'ttyACM0'), '/dev/does-not-exist'))
  const again = await cli(['install', '--config', f.config, '--prefix', f.prefix, '--user', 'gw'], { env: f.env })
  t.equal(again.code, 0, again.err)
  const udev2 = readFileSync(join(f.prefix, UDEV), 'utf8')
  t.match(udev2, /# NOT ACTIVE: the USB identity is unknown \(\/dev\/does-not-exist is not plugged in now\)/)
  t.match(udev2, /^#SUBSYSTEM=="tty", ENV\{ID_SERIAL_SHORT\}=="SERIAL", SYMLINK\+="safehouse-firmata-nano"$/m)
  t.match(again.err, /--firmata-serial nano=SERIAL/)
})

t.test('a real dbus-daemon loads the policy and lets only the service user call BlueZ', { skip: has('dbus-daemon') ? false : 'dbus-daemon is not installed here: the policy was NOT checked' }, async (t) => {
  // The file install writes is checked above; here the same generator's policy for us and for someone else.
  const dir = tmpDir(t)
  writeFileSync(join(dir, 'mine.conf'), renderDbusPolicy(userInfo().username))
  writeFileSync(join(dir, 'other.conf'), renderDbusPolicy('nobody'))
  // The system bus's stance: method calls to org.bluez denied unless a policy file allows them.
  let buses = 0
  const call = async (policyDir: string, iface: string, member: string): Promise<string> => {
    const busDir = join(dir, `bus-${++buses}`)
    mkdirSync(busDir)
    writeFileSync(join(busDir, 'bus.conf'), privateBusConfig(join(busDir, 'bus'), { denyBluez: true, include: join(dir, `${policyDir}.conf`) }))
    const daemon = spawnDaemon('dbus-daemon', [`--config-file=${join(busDir, 'bus.conf')}`, '--print-address=1', '--nofork', '--nopidfile'], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.teardown(() => { if (daemon.exitCode === null) daemon.kill('SIGKILL') })
    let errText = ''
    daemon.stderr!.on('data', (d: Buffer) => { errText += d })
    const busAddress = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dbus-daemon gave no address: ${errText}`)), 15_000)
      daemon.once('exit', (code) => { clearTimeout(timer); reject(new Error(`dbus-daemon refused the config (exit ${code}): ${errText}`)) })
      daemon.stdout!.once('data', (d: Buffer) => { clearTimeout(timer); resolve(d.toString().trim()) })
    })
    const bluez = dbus.sessionBus({ busAddress })
    const client = dbus.sessionBus({ busAddress })
    t.teardown(() => { bluez.disconnect(); client.disconnect() })
    await bluez.requestName('org.bluez', dbus.NameFlag.DO_NOT_QUEUE)
    try {
      await client.call(new dbus.Message({ destination: 'org.bluez', path: '/org/bluez/hci0', interface: iface, member }))
      return 'replied'
    } catch (e) {
      return String((e as { type?: string }).type ?? (e as Error).message)
    }
  }
  // The stand-in org.bluez exports nothing: a call that gets through is answered "UnknownMethod" by it.
  const through = 'org.freedesktop.DBus.Error.UnknownMethod'
  t.equal(await call('mine', 'org.bluez.Adapter1', 'StartDiscovery'), through, 'the service user reaches Adapter1')
  t.equal(await call('mine', 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects'), through, '... and ObjectManager')
  t.equal(await call('mine', 'org.bluez.AgentManager1', 'RegisterAgent'), 'org.freedesktop.DBus.Error.AccessDenied', 'but not the pairing agent interface')
  t.equal(await call('other', 'org.bluez.Adapter1', 'StartDiscovery'), 'org.freedesktop.DBus.Error.AccessDenied', 'a policy for another user does not let us in')
})

t.test('not root, into /: exit 1 "run with sudo", before reading anything', async (t) => {
  const f = fixture(t)
  if (process.getuid?.() !== 0) {
    const r = await cli(['install', '--config', f.config], { env: f.env })
    t.equal(r.code, 1)
    t.match(r.err, /run with sudo/)
    return
  }
  // As root (CI containers), run the CLI as "nobody".
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    // tap adds its process-info hook to every node it spawns (through NODE_OPTIONS); as "nobody" that
    // hook cannot write tap's root-owned .tap/ files and would crash the exit: drop it.
    const p = spawn('sh', ['-c', 'unset NODE_OPTIONS; exec "$@"', 'sh', process.execPath, '--import', 'tsx', CLI, 'install', '--config', f.config], {
      uid: 65534, gid: 65534, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: f.env.PATH, HOME: '/tmp' },
    })
    let err = ''
    p.stderr!.on('data', (d: Buffer) => { err += d })
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000)
    p.on('exit', (code) => { clearTimeout(timer); setImmediate(() => resolve({ code, err })) })
  })
  t.equal(r.code, 1, r.err)
  t.match(r.err, /run with sudo/)
  t.notMatch(r.err, /EACCES|at /, 'a clean refusal, no stack')
  t.notOk(existsSync(f.ran), 'no command run')
})

t.test('errors: a bad config, unclear serial flags, usage', async (t) => {
  const f = fixture(t)
  const bad = join(f.dir, 'bad.yaml')
  writeFileSync(bad, 'site: s1\npost: p1\nboards: [{ id: b }]\n')
  // Five independent processes (none writes: the bad config stops before, the rest are dry runs), side by side.
  const [r, twoBoards, unknownBoard, badUser, help] = await Promise.all([
    cli(['install', '--config', bad, '--prefix', f.prefix], { env: f.env }),
    cli(['install', '--dry-run', '--config', f.config, '--firmata-serial', 'ABC'], { env: f.env }),
    cli(['install', '--dry-run', '--config', f.config, '--firmata-serial', 'uno=ABC'], { env: f.env }),
    cli(['install', '--dry-run', '--config', f.config, '--user', 'Root Admin'], { env: f.env }),
    cli(['install', '--help']),
  ])
  t.equal(r.code, 1)
  t.match(r.err, /boards\[0\]\.port/)
  t.match(r.err, /nothing was installed/)
  t.notOk(existsSync(f.prefix))

  t.equal(twoBoards.code, 2)
  t.match(twoBoards.err, /2 boards; write BOARD=SERIAL \(boards: nano, clone\)/)
  t.equal(unknownBoard.code, 2)
  t.match(unknownBoard.err, /no board "uno"/)
  t.equal(badUser.code, 2)

  t.equal(help.code, 0)
  t.match(help.out, /usage: safehouse install/)
  t.match(help.out, /Examples:\n  sudo safehouse install\n/)
})

t.test('commands (into / as root) all run in order; failures are collected, not fatal', async (t) => {
  const dir = tmpDir(t)
  const log = join(dir, 'log')
  const lines: string[] = []
  const failed = runPlannedCommands([
    { argv: ['sh', '-c', `echo one >> ${log}`], why: 'first' },
    { argv: ['sh', '-c', 'exit 3'], why: 'fails' },
    { argv: ['safehouse-no-such-tool'], why: 'missing' },
    { argv: ['sh', '-c', `echo four >> ${log}`], why: 'still runs' },
  ], (l) => lines.push(l))
  t.equal(readFileSync(log, 'utf8'), 'one\nfour\n', 'every command ran, in order')
  t.same(failed, ["sh -c 'exit 3': exit 3", 'safehouse-no-such-tool: safehouse-no-such-tool is not installed'])
  t.equal(lines.length, 4, 'one progress line per command')
  t.equal(shellLine(['chown', 'gw:', "/etc/it's here"]), "chown gw: '/etc/it'\\''s here'", 'printed commands can be pasted into a shell')
})
