// A new user's first start: the README's commands on a fresh clone, a bad option, two instances
// from one checkout, and the component inside a HarperDB whose configuration it cannot accept.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { probeMqtt } from '../../src/cli/harper.js';
import { freePort, PROJECT_DIR } from '../../src/cli/instance.js';
import { ownInstance } from '../helpers/instance.js';
import { closeAll, connect, publish, sleep, unique, waitFor } from '../helpers/mqtt.js';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'harper-mqtt-bridge-startup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `npm start` (its compiled script) with this environment; resolves when it prints its banner. */
function npmStart(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; running: Promise<void> } {
  const child = spawn(process.execPath, [join(PROJECT_DIR, 'dist/cli/start.js')], { env: { ...process.env, ...env }, cwd: PROJECT_DIR });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const running = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (output.includes('harper-mqtt-bridge is running')) resolve();
      else if (child.exitCode !== null) reject(new Error(`npm start exited with ${child.exitCode}:\n${output.slice(-3000)}`));
      else return;
      clearInterval(check);
    }, 100);
  });
  running.catch(() => undefined); // tests that expect an exit do not wait for the banner
  return { child, output: () => output, running };
}

function stopped(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('a fresh clone', () => {
  it("the README's install command leaves the tree clean, and CI's npm ci still accepts the lock file", async () => {
    const clone = join(scratch, 'clone');
    await run('git', ['clone', '--quiet', PROJECT_DIR, clone]);
    await run('npm', ['install', '--no-audit', '--no-fund'], { cwd: clone, maxBuffer: 1 << 26 });
    expect((await run('git', ['status', '--porcelain'], { cwd: clone })).stdout).toBe('');
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: clone, maxBuffer: 1 << 26 });
    expect((await run('git', ['status', '--porcelain'], { cwd: clone })).stdout).toBe('');
  }, 300_000);
});

describe('npm start', () => {
  it('refuses a bad option with one line naming it, exit code 2, and installs nothing', async () => {
    const root = join(scratch, 'bad-option');
    const start = npmStart({ ROOTPATH: root, MQTT_BRIDGE_HISTORY_TTL: 'bogus' });
    const code = await new Promise((resolve) => start.child.once('exit', resolve));
    expect(code).toBe(2);
    expect(start.output()).toBe(
      'harper-mqtt-bridge: MQTT_BRIDGE_HISTORY_TTL: historyTtl must be a duration in seconds or like "30s", "15m", "24h", "7d" (0 turns it off), got "bogus"\n',
    );
    expect(existsSync(root)).toBe(false);
  });

  it('runs two instances from one checkout side by side, each root with its own boot file', async () => {
    const instances = [];
    for (const name of ['first', 'second']) {
      const ports = { http: await freePort(), operations: await freePort(), mqtt: await freePort(), mqtts: await freePort() };
      const env = {
        ROOTPATH: join(scratch, name),
        HTTP_PORT: String(ports.http),
        OPERATIONSAPI_NETWORK_PORT: String(ports.operations),
        MQTT_NETWORK_PORT: String(ports.mqtt),
        MQTT_NETWORK_SECUREPORT: String(ports.mqtts),
        THREADS_COUNT: '1',
      };
      instances.push({ name, ports, start: npmStart(env) });
    }
    try {
      await Promise.all(instances.map((i) => i.start.running));
      for (const { name, ports, start } of instances) {
        expect(await probeMqtt(ports.mqtt)).toBe(0);
        expect(start.output()).toContain(`Data folder  ${join(scratch, name)}`);
        expect(existsSync(join(scratch, name, '.home', '.harperdb', 'hdb_boot_properties.file'))).toBe(true);
        // The banner says where the generated password is, never the password.
        const password = readFileSync(join(scratch, name, '.admin-password'), 'utf8').trim();
        expect(password.length).toBeGreaterThan(10);
        expect(start.output()).not.toContain(password);
        expect(start.output()).toContain(`password in ${join(scratch, name, '.admin-password')}`); // outside the project: absolute
      }
    } finally {
      const codes = await Promise.all(instances.map((i) => stopped(i.start.child)));
      expect(codes).toEqual([0, 0]);
    }
  }, 300_000);
});

describe('a client that connects while HarperDB starts', () => {
  const instance = ownInstance({ threads: 2 });

  it('is accepted once the thread it lands on has loaded its tables, not refused as "server unavailable"', async () => {
    // 500 topic tables take each thread a few hundred ms to load after the port opens.
    const port = instance().info.ports.mqtt;
    // Ten publishers of 50 new tables each: within a client's creation burst.
    const publishers = await Promise.all(Array.from({ length: 10 }, () => connect({ port })));
    await Promise.all(
      publishers.map(async (publisher) => {
        for (let i = 0; i < 50; i++) await publish(publisher, `${unique('starting')}/t`, 'x', { qos: 1, retain: true });
      }),
    );
    await closeAll();
    await instance().stop();
    const starting = instance().start();
    // Clients that reconnect in a tight loop from the moment the port opens, as after a restart.
    const answers: number[] = [];
    let accepted = 0;
    const client = async () => {
      while (accepted < 40) {
        const answer = await probeMqtt(port, '127.0.0.1', 20_000).catch(() => null); // null: the port is not open yet
        if (answer === null) await sleep(10);
        else answers.push(answer);
        if (answer === 0) accepted++;
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    await starting;
    expect(answers.filter((answer) => answer !== 0)).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(40);
  }, 180_000);
});

describe('inside HarperDB, with an option the component cannot accept', () => {
  const instance = ownInstance({ threads: 2, env: { MQTT_BRIDGE_HISTORY_TTL: 'bogus' } }, 'http');

  it('refuses MQTT clients ("server unavailable") and says why once in the log', async () => {
    expect(await probeMqtt(instance().info.ports.mqtt)).toBe(3);
    const notServing = () =>
      instance()
        .logFile()
        .split('\n')
        .filter((line) => line.includes('is not serving'));
    await waitFor(() => notServing().length > 0, 'the log line (HarperDB writes its log asynchronously)');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // time for a second line, should there be one
    const lines = notServing();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('harper-mqtt-bridge is not serving: MQTT_BRIDGE_HISTORY_TTL: historyTtl must be a duration');
  });
});
