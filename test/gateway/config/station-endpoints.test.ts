/**
 * Issue 16 §1 bad input: station endpoint lists and paths. A duplicate, an
 * empty list, a non-TLS endpoint while TLS is required, two forms at once:
 * each a clear config error with its path, line and hint. The old single
 * station.url keeps working, and every form reads back as the same list of paths.
 */
import t from 'tap'
import { checkProblemTable, configProblems, type WantProblem } from '../../harness/config-problems.js'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { stationPaths, isMultiPath, hasStation, endpointKey } from '../../../gateway/config/station-paths.js'

const MIN = 'site: s\npost: p\n'


const cases: { name: string; text: string; want: WantProblem[] }[] = [
  {
    name: 'the same broker twice in endpoints (case and default port do not hide it)',
    text: MIN + 'station:\n  endpoints:\n    - mqtts://node1.station.city:8883\n    - mqtts://NODE1.station.city\n',
    want: [{ path: 'station.endpoints[1]', line: 6, message: /same broker as station\.endpoints\[0\]/, hint: /each broker once/ }],
  },
  {
    name: 'one broker on both paths is no second path',
    text: MIN + 'station:\n  paths:\n    - name: wired\n      endpoints: [mqtts://st.city:8883]\n    - name: cellular\n      endpoints: [mqtts://st.city:8883]\n',
    want: [{ path: 'station.paths[1].endpoints[0]', line: 8, message: /same broker as station\.paths\[0\]\.endpoints\[0\]/, hint: /its own broker address/ }],
  },
  {
    name: 'a plain endpoint off this machine while require_tls is on (the default)',
    text: MIN + 'station:\n  endpoints:\n    - mqtts://node1.station.city:8883\n    - mqtt://10.1.2.3:1883\n',
    want: [{ path: 'station.endpoints[1]', line: 6, message: /"mqtt:\/\/10\.1\.2\.3:1883" is not encrypted, and station\.require_tls is on/, hint: /mqtts:\/\/.*VPN/ }],
  },
  {
    name: 'a plain ws:// path endpoint',
    text: MIN + 'station:\n  paths:\n    - name: wired\n      endpoints: [mqtts://a.city:8883]\n    - name: cellular\n      endpoints: [ws://b.city/mqtt]\n',
    want: [{ path: 'station.paths[1].endpoints[0]', line: 8, message: /not encrypted/, hint: /require_tls: false/ }],
  },
  {
    name: 'the old url form is checked the same way',
    text: MIN + 'station:\n  url: mqtt://station.city:1883\n',
    want: [{ path: 'station.url', line: 4, message: /not encrypted, and station\.require_tls is on/, hint: /mqtts/ }],
  },
  {
    name: 'an empty endpoint list',
    text: MIN + 'station:\n  endpoints: []\n',
    want: [{ path: 'station.endpoints', line: 4, message: /empty list/, hint: /in order of preference/ }],
  },
  {
    name: 'a path without endpoints',
    text: MIN + 'station:\n  paths:\n    - name: wired\n      endpoints: [mqtts://a.city:8883]\n    - name: cellular\n      endpoints: []\n',
    want: [{ path: 'station.paths[1].endpoints', line: 8, message: /empty list/, hint: /at least one/ }],
  },
  {
    name: 'two paths with one name',
    text: MIN + 'station:\n  paths:\n    - name: wired\n      endpoints: [mqtts://a.city:8883]\n    - name: wired\n      endpoints: [mqtts://b.city:8883]\n',
    want: [{ path: 'station.paths[1].name', line: 7, message: /"wired" is already the name of station\.paths\[0\]/, hint: /own name/ }],
  },
  {
    name: 'url and endpoints at once',
    text: MIN + 'station:\n  url: mqtts://a.city:8883\n  endpoints: [mqtts://b.city:8883]\n',
    want: [{ path: 'station.endpoints', line: 5, message: /station\.url and station\.endpoints are both set/, hint: /use one/ }],
  },
]

t.test('every bad endpoint list is one clear problem, with line and hint', async (t) => checkProblemTable(t, cases))

t.test('a single path is not dual path: paths needs two', async (t) => {
  const got = configProblems(MIN + 'station:\n  paths:\n    - name: wired\n      endpoints: [mqtts://a.city:8883]\n') ?? []
  t.equal(got.length, 1, JSON.stringify(got))
  t.equal(got[0].path, 'station.paths')
  t.match(got[0].hint, /Dual path/)
})

t.test('accepted: loopback plain endpoints, require_tls: false, and the old url', async (t) => {
  t.equal(configProblems(MIN + 'station:\n  endpoints: [mqtt://127.0.0.1:1883, "mqtt://[::1]:1884", mqtt://localhost:1885]\n'), null, 'loopback is exempt from require_tls')
  t.equal(configProblems(MIN + 'station:\n  require_tls: false\n  endpoints: [mqtt://10.1.2.3:1883, mqtt://10.1.2.4:1883]\n'), null, 'require_tls: false allows plain MQTT (inside a VPN)')
  t.equal(configProblems(MIN + 'station:\n  url: mqtts://station.city:8883\n'), null, 'the single url stays valid')
  t.equal(configProblems(MIN + 'station:\n  url: null\n'), null, 'no station at all')
})

t.test('every form reads back as an ordered list of paths', async (t) => {
  const url = parseConfig(MIN + 'station:\n  url: mqtts://a.city:8883\n  test_report_s: 30\n').station
  t.same(stationPaths(url), [{ name: 'primary', endpoints: ['mqtts://a.city:8883'], testReportS: 30 }])
  t.notOk(isMultiPath(url))
  const eps = parseConfig(MIN + 'station:\n  endpoints: [mqtts://a.city:8883, mqtts://b.city:8883]\n').station
  t.same(stationPaths(eps), [{ name: 'primary', endpoints: ['mqtts://a.city:8883', 'mqtts://b.city:8883'], testReportS: 60 }])
  t.notOk(isMultiPath(eps))
  const dual = parseConfig(MIN + 'station:\n  test_report_s: 45\n  paths:\n    - { name: wired, endpoints: [mqtts://a.city:8883], test_report_s: 10 }\n    - { name: cellular, endpoints: [mqtts://b.city:8883, mqtts://c.city:8883] }\n').station
  t.same(stationPaths(dual), [
    { name: 'wired', endpoints: ['mqtts://a.city:8883'], testReportS: 10 },
    { name: 'cellular', endpoints: ['mqtts://b.city:8883', 'mqtts://c.city:8883'], testReportS: 45 },
  ])
  t.ok(isMultiPath(dual))
  t.notOk(hasStation(parseConfig(MIN).station), 'no station by default')
  t.equal(endpointKey('mqtt://Host'), endpointKey('mqtt://host:1883'))
  t.not(endpointKey('mqtt://host:1883'), endpointKey('mqtts://host:1883'))
})
