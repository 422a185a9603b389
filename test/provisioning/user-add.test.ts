/**
 * Issue 12 §10: `safehouse user add` for a name already in the secrets file
 * does not replace its password silently; --force does. The first add spawns
 * the real binary; the others run in-process (runCli, issue 14 §5).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { cli, tmpDir } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { verifyPassword } from '../../gateway/config/password-hash.js'

function hashOf(file: string, name: string): string {
  return (parse(readFileSync(file, 'utf8')) as { broker_passwords: Record<string, string> }).broker_passwords[name]
}

t.test('an existing user is kept unless --force', async (t) => {
  const dir = tmpDir(t)
  const file = join(dir, 'secrets.yaml')
  const first = await cli(['user', 'add', 'tech-1', '--role', 'technician', '--secrets', file, '--password-stdin'], { stdin: 'first-password\n' })
  t.equal(first.code, 0, first.err)
  const before = hashOf(file, 'tech-1')

  const again = await cliInProcess(['user', 'add', 'tech-1', '--role', 'panel', '--secrets', file, '--password-stdin'], { stdin: 'second-password\n' })
  t.equal(again.code, 1, 'refused')
  t.match(again.err, /user tech-1 already exists in .*secrets\.yaml; nothing changed\. To replace its password, run again with --force/)
  t.equal(hashOf(file, 'tech-1'), before, 'the stored hash is unchanged')
  t.ok(await verifyPassword('first-password', hashOf(file, 'tech-1')), 'the old password still works')

  const forced = await cliInProcess(['user', 'add', 'tech-1', '--role', 'technician', '--secrets', file, '--password-stdin', '--force'], { stdin: 'second-password\n' })
  t.equal(forced.code, 0, forced.err)
  t.ok(await verifyPassword('second-password', hashOf(file, 'tech-1')), 'replaced with --force')
})
