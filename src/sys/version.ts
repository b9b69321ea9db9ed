// `$SYS/broker/version`: this component's version and the HarperDB it runs in.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageVersion(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** HarperDB's package.json, found above the script the process runs (…/harperdb/bin/harperdb.js). */
function harperVersion(): string {
  let dir = dirname(realpathSync(process.argv[1] ?? '.'));
  for (let depth = 0; depth < 5; depth++, dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'harperdb' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

export function versionString(): string {
  const own = packageVersion(fileURLToPath(new URL('../../package.json', import.meta.url))) ?? 'unknown';
  return `harper-mqtt-bridge ${own} on HarperDB ${harperVersion()}`;
}
