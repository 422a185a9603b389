/**
 * Issue 14 §2: a YAML mistake is reported at the line to edit, with a hint
 * about what is wrong there (not where the parser noticed it).
 */
import t from 'tap'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { ConfigError } from '../../../gateway/config/config-error.js'

// Loading the modules alone takes seconds on a loaded 2-core machine.
t.setTimeout(60_000)

const cases: { name: string; yaml: string; line: number; message: RegExp; hint: RegExp }[] = [
  { name: 'tab indentation', yaml: 'site: s1\npost: p1\nbroker:\n\tport: 1883\n', line: 4, message: /tab/, hint: /spaces/ },
  { name: 'a line indented too deep', yaml: 'site: s1\npost: p1\nbroker:\n  port: 1883\n   host: x\n', line: 5, message: /indented deeper/, hint: /indent it like/ },
  { name: 'a key twice', yaml: 'site: s1\npost: p1\nsite: s2\n', line: 3, message: /"site" is set twice/, hint: /first is on line 1/ },
  { name: 'a value with ": "', yaml: 'site: s1\npost: p1\ndevices:\n  - id: a\n    kind: panic-button\n    label: Front: door\n', line: 6, message: /contains ": "/, hint: /label: "Front: door"/ },
  { name: 'an unclosed [', yaml: 'site: s1\npost: p1\ndevices: [ { id: a, kind: panic-button }\nstation: {}\n', line: 3, message: /\[ or \{ is not closed/, hint: /block/ },
  { name: 'an unclosed quote', yaml: 'site: s1\npost: "p1\nbroker: {}\n', line: 2, message: /quoted value is not closed/, hint: /closing quote/ },
  { name: 'a misaligned key in a list item', yaml: 'site: s1\npost: p1\ndevices:\n  - id: a\n  kind: panic-button\n', line: 5, message: /not aligned/, hint: /after the "- "/ },
]

for (const c of cases) {
  t.test(c.name, async (t) => {
    try {
      parseConfig(c.yaml, 'c.yaml')
      t.fail('accepted')
    } catch (e) {
      t.ok(e instanceof ConfigError)
      const p = (e as ConfigError).problems
      t.equal(p.length, 1, `one problem: ${(e as Error).message}`)
      t.equal(p[0].line, c.line, 'at the line to edit')
      t.match(p[0].message, c.message)
      t.match(p[0].hint, c.hint)
      t.match((e as Error).message, new RegExp(`c\\.yaml:${c.line} `), 'the message names file:line')
    }
  })
}
