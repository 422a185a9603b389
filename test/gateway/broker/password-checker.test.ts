/**
 * Issue 12 §1, §2: the bounded password-check queue, socket-free. One check
 * at a time, bounded lanes answered busy when full, trusted logins first,
 * hung-up logins skipped, checks paced to half a core, and the
 * decoy made with the users' own scrypt parameters.
 */
import t from 'tap'
import { hashPassword } from '../../../gateway/config/password-hash.js'
import { PasswordChecker } from '../../../gateway/broker/password-checker.js'

t.test('bounded, ordered, paced', async (t) => {
  const stored = await hashPassword('right', 1024)
  const c = new PasswordChecker({ concurrency: 1, queueLimit: 3, deadlineMs: 60_000, now: () => performance.now() })
  await c.prepare([stored])
  const order: string[] = []
  const run = (name: string, pw: string, trusted: boolean, alive = () => true) => c.check(pw, stored, trusted, alive).then((r) => { order.push(name); return r })
  const first = run('u1', 'wrong', false) // starts at once (the others wait for it and its pause)
  const queued = [run('u2', 'wrong', false), run('u3', 'wrong', false), run('u4', 'wrong', false)]
  t.equal(await run('u5', 'wrong', false), 'busy', 'a fourth waiting untrusted login: busy at once')
  let hungUp = false
  const dead = run('t-dead', 'right', true, () => !hungUp)
  const trusted = run('t1', 'right', true)
  hungUp = true
  t.same(await Promise.all([first, ...queued, dead, trusted]), ['bad', 'bad', 'bad', 'bad', 'busy', 'ok'])
  t.same(order.filter((n) => n !== 'u5'), ['u1', 't-dead', 't1', 'u2', 'u3', 'u4'], 'trusted logins go first; a hung-up one is skipped unchecked')
  t.equal(c.stats.maxRunning, 1)
  t.equal(c.stats.checked, 5, 'the hung-up login cost no check')
})

t.test('checks keep to half a core', async (t) => {
  const stored = await hashPassword('right', 4096)
  const c = new PasswordChecker({ concurrency: 1, queueLimit: 50, deadlineMs: 60_000, now: () => performance.now() })
  await c.prepare([stored])
  const started = performance.now()
  await Promise.all(Array.from({ length: 6 }, () => c.check('wrong', stored, false)))
  const wall = performance.now() - started
  // Paced: each check is followed by a pause as long as itself (but the last), so ~11/6 of the check time.
  t.ok(wall >= 1.5 * c.stats.checkMs, `6 untrusted checks: ${wall.toFixed(0)} ms wall for ${c.stats.checkMs.toFixed(0)} ms of checking`)
})

t.test('the decoy uses the most common parameters of the configured hashes', async (t) => {
  const c = new PasswordChecker({ concurrency: 1, queueLimit: 3, deadlineMs: 60_000, now: () => performance.now() })
  await c.prepare([await hashPassword('a', 2048), await hashPassword('b', 2048), await hashPassword('c', 1024)])
  t.match(await (c as unknown as { decoy: Promise<string> }).decoy, /^scrypt\$2048\$8\$1\$/)
  t.equal(await c.check('not-a-user', null, true), 'bad', 'an unknown user never logs in, whatever the password')
})

t.test('an unknown user checked while the decoy is still being made (the broker listens before it is ready) is refused', async (t) => {
  const c = new PasswordChecker({ concurrency: 1, queueLimit: 3, deadlineMs: 60_000, now: () => performance.now() })
  const making = c.prepare([await hashPassword('a', 2048)]) // not awaited, as the broker's start does
  const [unknown, known] = await Promise.all([c.check('whatever', null, false), c.check('a', await hashPassword('a', 2048), false)])
  t.equal(unknown, 'bad', 'refused, after the decoy was made')
  t.equal(known, 'ok', 'a configured user still logs in')
  await making
  c.close()
})
