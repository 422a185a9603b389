/**
 * The layer rules of shared/DESIGN.md §2 (issue 18), checked on every `npm test`
 * by test/architecture/imports.test.ts. Paths are relative to the repo root.
 *
 *   protocols/  pure contract and codecs: imports nothing of ours
 *   devices/    drivers: only protocols/ (time and backoff live in devices/time/)
 *   gateway/    composition root: devices/, protocols/; never provisioning/ or station/
 *   station/    the command room: protocols/ (and devices/time, devices/host); never gateway/
 *   no circular imports anywhere
 */
const OURS = '^(gateway|devices|protocols|provisioning|station|test|bench)/'
module.exports = {
  forbidden: [
    {
      name: 'protocols-import-nothing-of-ours',
      comment: 'protocols/ is the contract and pure codecs (DESIGN §2): it may import only itself and libraries.',
      severity: 'error',
      from: { path: '^protocols/' },
      to: { path: OURS, pathNot: '^protocols/' },
    },
    {
      name: 'devices-import-only-protocols',
      comment: 'A driver must not depend on the composition root that builds it (DESIGN §2, issue 18).',
      severity: 'error',
      from: { path: '^devices/' },
      to: { path: OURS, pathNot: '^(devices|protocols)/' },
    },
    {
      name: 'gateway-never-imports-provisioning',
      comment: 'The CLI builds on the gateway, never the other way round.',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^(provisioning|test|bench)/' },
    },
    {
      name: 'station-and-gateway-apart',
      comment: 'Two composition roots reading one contract (DESIGN §3): neither imports the other.',
      severity: 'error',
      from: { path: '^station/' },
      to: { path: '^(gateway|provisioning|test|bench)/|^devices/(?!(time|host)/)' },
    },
    {
      name: 'gateway-never-imports-station',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^station/' },
    },
    {
      name: 'product-never-imports-tests',
      severity: 'error',
      from: { path: '^(gateway|devices|protocols|provisioning|station)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      comment: 'A circle hides which layer owns what; take a narrow interface instead (issue 18).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
