// A throw-away Mosquitto (Debian's `mosquitto` package) on a free port, for benchmarks and tests
// that compare with it or bridge to it. Never used inside HarperDB.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './instance.js';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export class Mosquitto {
  private constructor(
    private child: ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  /** `extraConfig`: more mosquitto.conf lines (ACLs, TLS, persistence...); `dir` is a private folder for their files. */
  static async start(extraConfig: (dir: string) => string = () => ''): Promise<Mosquitto> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(config, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', extraConfig(dir)].join('\n') + '\n');
    const child = spawn(MOSQUITTO_BIN, ['-c', config], { stdio: 'ignore' });
    const mosquitto = new Mosquitto(child, port, dir);
    await mosquitto.listening();
    return mosquitto;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private async listening(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`mosquitto exited with ${this.child.exitCode} (is Debian's mosquitto package installed?)`);
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect({ port: this.port, host: '127.0.0.1' });
        socket.once('connect', () => (socket.destroy(), resolve(true)));
        socket.once('error', () => resolve(false));
      });
      if (open) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`mosquitto did not listen on ${this.port} within ${timeoutMs} ms`);
  }

  /** Stops it and keeps its files (persistence, config): `resume` starts it again on the same port. */
  async pause(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
  }

  async resume(): Promise<void> {
    this.child = spawn(MOSQUITTO_BIN, ['-c', join(this.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    await this.listening();
  }

  /** Re-reads its ACL and password files (SIGHUP). */
  reload(): void {
    this.child.kill('SIGHUP');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
