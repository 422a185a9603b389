#!/usr/bin/env node
/**
 * The `safehouse` binary: the process's arguments and streams handed to
 * runCli (run-cli.ts), its answer as the exit code. Nothing else lives here,
 * so a test runs the same code in-process (test/harness/cli-in-process.ts).
 */
import { runCli } from './run-cli.js'

process.exitCode = await runCli(process.argv.slice(2))
