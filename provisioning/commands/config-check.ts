/** `safehouse config check FILE`: every problem, with line, path and hint; exit 1 if any. */
import { ConfigError } from '../../gateway/config/config-error.js'
import { UsageError } from './usage-error.js'

export async function configCheck(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log('usage: safehouse config check FILE\n\nExample:\n  safehouse config check /etc/safehouse/config.yaml')
    return 0
  }
  const file = argv[0]
  if (!file) throw new UsageError('usage: safehouse config check FILE')
  // Loaded after the usage checks so `config check --help` stays fast (issue 13 §5).
  const [{ loadConfig }, { urlForLog }] = await Promise.all([import('../../gateway/config/load-config.js'), import('../../gateway/logging.js')])
  try {
    const c = loadConfig(file)
    console.log(`${file}: OK — site ${c.site}, post ${c.post}, ${c.devices.length} device(s), station ${urlForLog(c.station.url) ?? 'none (local only)'}`)
    return 0
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message)
      return 1
    }
    throw e
  }
}
