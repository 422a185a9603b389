/**
 * The TypeScript loader tap runs every test file with (package.json "tap"
 * node-arg; issue 14 §5, the suite under five minutes). It does what tsx did
 * for the tests, and only that: a relative `./x.js` import from a .ts file
 * finds `./x.ts`, and a .ts module is transpiled by esbuild (the transform tsx
 * uses) with this repo's tsconfig. Transpiled modules are cached on disk by
 * content. Measured on a unit test file: ~1.1 CPU-s per test process instead
 * of ~1.6 through tsx, whose generality (CommonJS hooks, path aliases,
 * extensionless imports, its own start-up in two threads) the tree does not
 * use; over 130 files that is about a minute of CPU. Type checking stays with
 * `tsc` in `npm test`. `node --import tsx` still runs any file by hand.
 */
import { register } from 'node:module'

register('./ts-loader-hooks.mjs', import.meta.url)
