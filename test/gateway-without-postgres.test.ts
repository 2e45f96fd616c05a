// A gateway (re)started during a PostgreSQL outage still starts and accepts: `prismo serve --role gateway`
// as a child process, its DATABASE_URL through a proxy that refuses every connection until restored.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';
import { startTcpProxy, throughProxy } from './support/tcp-proxy.js';

const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));
const API_KEY = 'no-postgres-key-0123456789';

describe.skipIf(!mongoUri)('a gateway started while PostgreSQL is down', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  let child: ChildProcess | undefined;
  const sys = useSystem();
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });
  afterEach(() => {
    child?.kill('SIGKILL');
  });

  /** Starts `prismo serve --role gateway,ingest`; resolves with its URL once it says it runs. */
  function startGateway(databaseUrl: string): Promise<string> {
    child = spawn(process.execPath, [CLI, 'serve', '--role', 'gateway,ingest'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MONGODB_URI: mongoUri!,
        MONGODB_DB: mongo.dbName,
        DATABASE_URL: databaseUrl,
        API_KEYS: `acme:${API_KEY}`,
        HOST: '127.0.0.1',
        PORT: '0',
        INGEST_PORT: '0',
        OPS_PORT: '0',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      createInterface({ input: child!.stdout! }).on('line', (line) => {
        if (line.includes('"prismo is running"')) resolve((JSON.parse(line) as { gateway: string }).gateway);
      });
      child!.once('exit', (code) => reject(new Error(`the gateway exited (${code}) before it ran: ${stderr}`)));
    });
  }

  it('starts, accepts with 202, answers reads 503 with Retry-After, and serves them once PostgreSQL is back', async () => {
    const target = new URL(pg.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    sys.defer(() => proxy.close());
    proxy.cut();
    const url = await startGateway(throughProxy(pg.url, proxy));
    const headers = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

    const accepted = await fetch(`${url}/api/v1/transactions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        source: 'generic',
        payload: { account: 'acc-1', amount: '12.34', currency: 'EUR', occurredAt: '2026-11-29T12:00:00Z' },
      }),
    });
    expect(accepted.status).toBe(202);
    const read = await fetch(`${url}/api/v1/transactions`, { headers });
    expect(read.status).toBe(503);
    expect(read.headers.get('retry-after')).toBe('1');
    // Ready to accept: PostgreSQL is reported, not required.
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: { postgresql: { ok: boolean } } }).checks.postgresql.ok).toBe(false);

    proxy.restore();
    await waitFor('reads served without a restart', async () => (await fetch(`${url}/api/v1/transactions`, { headers })).status === 200, {
      timeoutMs: 30_000,
    });
    expect(await mongo.raw.countDocuments({})).toBe(1);
  });
});
