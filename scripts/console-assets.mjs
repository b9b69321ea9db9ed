#!/usr/bin/env node
// `npm run build`: the console's HTML and CSS, and MQTT.js's browser bundle (the page's MQTT
// client), next to its compiled scripts in dist/console/web/. No bundler: the page loads ES modules.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const project = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(project, 'src/console/web');
const target = join(project, 'dist/console/web');
const mqttBundle = join(project, 'node_modules/mqtt/dist/mqtt.min.js');

mkdirSync(target, { recursive: true });
for (const name of readdirSync(source)) {
  if (['.html', '.css', '.svg'].includes(extname(name))) copyFileSync(join(source, name), join(target, name));
}
if (!existsSync(mqttBundle)) {
  console.error(`console-assets: ${mqttBundle} is missing; install the devDependencies (npm install) before building`);
  process.exit(1);
}
copyFileSync(mqttBundle, join(target, 'mqtt.min.js'));
