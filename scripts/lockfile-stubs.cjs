#!/usr/bin/env node
// npm 11 `npm install` leaves out of package-lock.json the platform packages of optional
// native addons it skipped (cbor-extract, msgpackr-extract, node-unix-socket under harperdb),
// and `npm ci` then refuses the lock file as "Missing: <pkg>@ from lock file"
// (npm/cli#9846). This adds the version-less entries `npm ci` expects for them.
// Run it after every `npm install` that rewrites the lock file.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const npmRoot = path.join(execSync('npm root -g', { encoding: 'utf8' }).trim(), 'npm');
const Arborist = require(path.join(npmRoot, 'node_modules', '@npmcli', 'arborist'));

async function main() {
  const dir = path.resolve(__dirname, '..');
  const lockPath = path.join(dir, 'package-lock.json');
  const locked = await new Arborist({ path: dir }).loadVirtual();
  const ideal = await new Arborist({ path: dir }).buildIdealTree();
  const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
  const added = [];
  for (const [location, node] of ideal.inventory.entries()) {
    if (locked.inventory.get(location) || node.version || !node.optional) continue;
    lock.packages[location] = { dev: node.dev || undefined, optional: true };
    added.push(location);
  }
  fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
  console.log(added.length ? `added ${added.length} entries:\n  ${added.join('\n  ')}` : 'lock file already complete');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
