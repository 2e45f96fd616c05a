// Issue 42, items 2 and 6, as a hostile client tries them against a real gateway in a process of its own:
// bodies nobody asked for, wrong-key floods, the internal and operational ports from the public side.
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { mongoUri } from '../support/databases.js';
import { peakRssMiB, rssMiB } from '../support/peak-rss.js';
import { useSystem } from '../support/system.js';

const CLI = fileURLToPath(new URL('../../bin/prismo.js', import.meta.url));
const KEY = 'edge-key-0123456789abcdef';
const MiB = 1024 * 1024;

interface Running {
  pid: number;
  gatewayUrl: string;
  ingestUrl: string;
  opsUrl?: string;
  child: ChildProcess;
}

const system = useSystem();
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
});

/** `prismo serve --role gateway,ingest` as deployed, compiled, in its own process; resolves once it runs. */
async function startGatewayProcess(env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [CLI, 'serve', '--role', 'gateway,ingest'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: '0',
      INGEST_PORT: '0',
      OPS_PORT: '0',
      MONGODB_URI: mongoUri!,
      MONGODB_DB: system.mongo.dbName,
      DATABASE_URL: system.pg.url,
      API_KEYS: `edge:${KEY}`,
      INGEST_TOKEN: 'edge-ingest-token-0123456789',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      if (text.includes('"prismo is running"')) resolve(JSON.parse(text) as Record<string, unknown>);
    });
    void exited.then((code) => reject(new Error(`prismo serve exited with ${code} before it ran`)));
  });
  return {
    pid: child.pid!,
    child,
    gatewayUrl: String(line.gateway),
    ingestUrl: String(line.ingest),
    opsUrl: line.ops === undefined ? undefined : String(line.ops),
  };
}

/** Sends `bytes` of JSON-looking body without reading it into memory here; resolves with the status (or how it ended). */
function sendLargeBody(base: string, path: string, bytes: number, headers: Record<string, string> = {}): Promise<number | string> {
  const url = new URL(path, base);
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(bytes), ...headers },
    });
    let settled = false;
    const settle = (value: number | string) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    req.on('response', (response) => {
      response.resume();
      settle(response.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
    // Valid JSON of many small objects, as a parser would build it: `[{"k":"v"},…,{}]`.
    const unit = '{"k":"v"},';
    const chunk = Buffer.from(unit.repeat(Math.floor((64 * 1024) / unit.length)));
    let sent = 0;
    const pump = () => {
      if (sent === 0) {
        req.write('[');
        sent = 1;
      }
      while (sent < bytes - 3) {
        const size = Math.min(chunk.length, Math.floor((bytes - 3 - sent) / unit.length) * unit.length);
        if (size === 0) break;
        sent += size;
        if (!req.write(chunk.subarray(0, size))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end(`${' '.repeat(bytes - 3 - sent)}{}]`);
    };
    pump();
  });
}

/** Probes /healthz every 50 ms until stopped; the longest any probe waited. */
function probeHealth(base: string) {
  let longest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(new URL('/healthz', base), { signal: AbortSignal.timeout(10_000) });
      await response.text();
      longest = Math.max(longest, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return longest;
    },
  };
}

describe('bodies nobody asked for', () => {
  it('four 24 MiB bodies without a key are refused unread: RSS grows < 64 MiB, /healthz never waits 250 ms', async () => {
    const gateway = await startGatewayProcess();
    // Warm up: the first requests compile routes and serializers.
    for (let i = 0; i < 3; i++) await (await fetch(new URL('/healthz', gateway.gatewayUrl))).text();
    const before = await rssMiB(gateway.pid);
    const probe = probeHealth(gateway.gatewayUrl);
    const statuses = await Promise.all(
      ['/api/v1/nope', '/nope', '/api/v1/transactions/batch', '/api/v1/statements'].map((path) =>
        sendLargeBody(gateway.gatewayUrl, path, 24 * MiB),
      ),
    );
    const longest = await probe.stop();
    const grown = (await peakRssMiB(gateway.pid)) - before;
    console.log(`four 24 MiB bodies: ${JSON.stringify(statuses)}, RSS +${grown.toFixed(1)} MiB, longest /healthz ${longest.toFixed(0)} ms`);
    expect(statuses).toEqual([404, 404, 401, 401]);
    expect(grown).toBeLessThan(64);
    expect(longest).toBeLessThan(250);
  });
});
