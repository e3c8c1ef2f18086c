// Starts real nats-server processes for tests: JetStream on a free loopback port, store in a temp folder.
// `natsServerUnavailable()` says why the tests must be skipped (binary missing) so they can say it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestFn } from 'ava';
import { ownedTempDir } from '../../../temp-dir.js';

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? 'nats-server';

/** null when `nats-server` can run here, else the reason (for the skipped tests' titles). */
export function natsServerUnavailable(): string | null {
  const r = spawnSync(NATS_SERVER_BIN, ['--version'], { encoding: 'utf8' });
  if (r.error) return `${NATS_SERVER_BIN} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install it with: apt-get install -y nats-server`;
  if (r.status !== 0) return `${NATS_SERVER_BIN} --version failed: ${r.stderr}`;
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface NatsServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly storeDir: string;
  readonly proc: ChildProcess;
  log(): string;
  /** SIGKILL (a crash). */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

interface StartOptions {
  name?: string;
  port?: number;
  storeDir?: string;
  /** Cluster: this server's route port and the routes of all members. */
  cluster?: { port: number; routes: number[]; name: string };
  /** A configuration file's text (users and their permissions, e.g.), written into the store folder. */
  config?: string;
}

/** Starts one server and resolves once it is ready to accept clients. */
export async function startNatsServer(opts: StartOptions = {}): Promise<NatsServer> {
  const port = opts.port ?? (await freePort());
  const ownStore = opts.storeDir === undefined ? ownedTempDir('diaspora-nats-') : undefined;
  const storeDir = opts.storeDir ?? ownStore!.path;
  const name = opts.name ?? `n${port}`;
  const args = ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-n', name];
  if (opts.config !== undefined) {
    fs.mkdirSync(storeDir, { recursive: true });
    fs.writeFileSync(path.join(storeDir, 'server.conf'), opts.config);
    args.push('-c', path.join(storeDir, 'server.conf'));
  }
  if (opts.cluster) {
    args.push(
      '--cluster_name', opts.cluster.name,
      '--cluster', `nats://127.0.0.1:${opts.cluster.port}`,
      '--routes', opts.cluster.routes.filter((p) => p !== opts.cluster!.port).map((p) => `nats://127.0.0.1:${p}`).join(','),
    );
  }
  const proc = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test process that ends without stopping its server (a timeout, a crash) must not leave it running.
  const reap = (): void => void proc.kill('SIGKILL');
  process.once('exit', reap);
  let out = '';
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      process.off('exit', reap);
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      out += c.toString('utf8');
      if (/Server is ready/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('error', (err) => reject(err));
    proc.once('exit', (code) => reject(new Error(`nats-server exited (code ${code}) before being ready:\n${out}`)));
    const timer = setTimeout(() => reject(new Error(`nats-server not ready after 20 s:\n${out}`)), 20_000);
  });
  const wait = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    name,
    port,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    proc,
    log: () => out,
    kill: () => wait('SIGKILL'),
    stop: async () => {
      await wait('SIGTERM');
      ownStore?.remove();
    },
  };
}

export interface NatsCluster {
  servers: NatsServer[];
  urls: string[];
  stop(): Promise<void>;
}

/** Starts `size` clustered servers on loopback ports (JetStream meta group formed by the routes). */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const temp = ownedTempDir('diaspora-natsc-');
  const root = temp.path;
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const name = `c${process.pid}`;
  const servers = await Promise.all(
    clientPorts.map((port, i) =>
      startNatsServer({ name: `s${i}`, port, storeDir: path.join(root, `s${i}`), cluster: { port: routePorts[i], routes: routePorts, name } }),
    ),
  );
  return {
    servers,
    urls: servers.map((s) => s.url),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
      temp.remove();
    },
  };
}

/** One server for all the tests of a file: started before them, stopped after them. The getter hands it to a test. */
export function natsServerForFile(test: TestFn): () => NatsServer {
  let server: NatsServer | undefined;
  test.before(async () => {
    server = await startNatsServer();
  });
  test.after.always(async () => {
    await server?.stop();
  });
  return () => server!;
}
