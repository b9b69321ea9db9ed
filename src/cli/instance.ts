// A throw-away HarperDB with this component loaded, on free ports, with its own HOME and root
// folder (tests and benchmarks). Fixture apps can be installed next to the component.
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configure, install, run, stop, waitForHttp, waitUntilReady, type HarperOptions, type Ports } from './harper.js';

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface InstanceInfo {
  rootPath: string;
  ports: Ports;
  adminUser: string;
  adminPassword: string;
  threads: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

export class HarperInstance {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    private readonly options: HarperOptions,
    private readonly baseDir: string,
  ) {}

  /**
   * `apps`: folders installed as further applications next to this component (copied into
   * <root>/components), relative to the project.
   */
  static async create(settings: { threads?: number; env?: NodeJS.ProcessEnv; apps?: string[]; harperMqtt?: boolean; authorizeLocal?: boolean } = {}): Promise<HarperInstance> {
    const baseDir = mkdtempSync(join(tmpdir(), 'harper-mqtt-bridge-test-'));
    const ports: Ports = {
      http: await freePort(),
      operations: await freePort(),
      mqtt: await freePort(),
      mqtts: await freePort(),
      replication: await freePort(),
      replicationSecure: await freePort(),
      harperMqtt: settings.harperMqtt ? await freePort() : null,
    };
    const options: HarperOptions = {
      rootPath: join(baseDir, 'root'),
      home: join(baseDir, 'home'),
      adminUser: 'admin',
      adminPassword: 'test-password',
      ports,
      threads: settings.threads ?? 2,
      env: settings.env ?? {},
      stdio: 'pipe',
      authorizeLocal: settings.authorizeLocal ?? true,
    };
    await install(options);
    configure(options);
    for (const app of settings.apps ?? []) {
      cpSync(join(PROJECT_DIR, app), join(options.rootPath, 'components', app.split('/').pop()!), { recursive: true });
    }
    return new HarperInstance(options, baseDir);
  }

  get info(): InstanceInfo {
    const { rootPath, ports, adminUser, adminPassword, threads } = this.options;
    return { rootPath, ports, adminUser, adminPassword, threads: threads ?? 2 };
  }

  /** Everything HarperDB printed since start (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** Process id of the running HarperDB (all its worker threads live in it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** `ready`: 'mqtt' waits until the component serves MQTT, 'http' only until HarperDB answers HTTP. */
  async start(env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = [], ready: 'mqtt' | 'http' = 'mqtt'): Promise<void> {
    this.output = '';
    this.child = run({ ...this.options, env: { ...this.options.env, ...env }, nodeArgs }, PROJECT_DIR);
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    try {
      if (ready === 'mqtt') await waitUntilReady(this.options.ports.mqtt, this.child, { username: this.options.adminUser, password: this.options.adminPassword });
      else await waitForHttp(this.options.ports.http, this.child);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- HarperDB output ---\n${this.output.slice(-6000)}`);
    }
  }

  async stop(): Promise<void> {
    if (this.child) await stop(this.child);
    this.child = undefined;
  }

  /** Kills HarperDB without letting it shut down (a crash). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  async restart(env: NodeJS.ProcessEnv = {}): Promise<void> {
    await this.stop();
    await this.start(env);
  }

  /** HarperDB's log file as it is now ('' before it exists). */
  logFile(): string {
    try {
      return readFileSync(join(this.options.rootPath, 'log', 'hdb.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** The entries HarperDB logged at error level (with their stack lines), oldest first. */
  loggedErrors(limit = 20): string[] {
    const text = this.logFile();
    const entries: string[] = [];
    let current: string[] | null = null;
    for (const line of text.split('\n')) {
      if (/^\d{4}-\d\d-\d\dT/.test(line)) {
        if (current) entries.push(current.join('\n'));
        current = line.includes('[error]') ? [line] : null;
      } else current?.push(line);
    }
    if (current) entries.push(current.join('\n'));
    return entries.slice(0, limit);
  }

  /**
   * Stops HarperDB and removes its folder, first printing what it logged at error level, since
   * the log goes with the folder. Set KEEP_HARPER=1 to keep the folder (logs, data).
   */
  async destroy(): Promise<void> {
    await this.stop();
    const errors = this.loggedErrors();
    if (errors.length > 0) process.stderr.write(`HarperDB (${this.baseDir}) logged errors:\n${errors.join('\n')}\n`);
    if (process.env.KEEP_HARPER) {
      process.stderr.write(`KEEP_HARPER: kept ${this.baseDir}\n`);
      return;
    }
    rmSync(this.baseDir, { recursive: true, force: true });
  }
}
