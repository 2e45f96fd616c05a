// `npm start` as a new user meets it: the built CLI as a child process, no database settings, its data in a
// directory other users cannot enter (mode 0700; as root, PostgreSQL runs as another user), on whatever
// MongoDB the shared resolver finds (a real mongod, else the development MongoDB). A transaction posted
// before a restart still reads back, processed, after it; Ctrl-C exits 0 within SHUTDOWN_TIMEOUT_MS; then
// `prismo data remove` removes everything the start kept, outside the directory too.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoSkipReason, waitFor } from './support/databases.js';
import { freePort } from './support/throwaway-postgres.js';

const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));
const SHUTDOWN_TIMEOUT_MS = 15_000;

describe.skipIf(mongoSkipReason !== null)('out of the box: prismo start on embedded defaults', () => {
  const children: ChildProcess[] = [];
  let home: string;
  const dataDirs = new Set<string>();
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
    // As root, PostgreSQL's data moves out of the 0700 home (the banner says where): remove it too.
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });

  async function start(ports: { api: number; pg: number }) {
    const output: string[] = [];
    const child = spawn(process.execPath, [CLI, 'start'], {
      cwd: home,
      // No MONGODB_URI, DATABASE_URL or API_KEYS: what a fresh machine has. Ports are free ones, so the test
      // does not collide with anything else running here.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(ports.api),
        INGEST_PORT: String(await freePort()),
        OPS_PORT: String(await freePort()),
        EMBEDDED_PG_PORT: String(ports.pg),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const began = Date.now();
    const base = `http://127.0.0.1:${ports.api}`;
    await waitFor(
      'GET /readyz 200',
      async () => {
        if (child.exitCode !== null) throw new Error(`prismo start exited with ${child.exitCode}:\n${output.join('')}`);
        return fetch(`${base}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
    return { child, base, output, readyMs: Date.now() - began };
  }

  async function stop(child: ChildProcess): Promise<{ code: number | null; ms: number }> {
    const began = Date.now();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    const code = await exited;
    return { code, ms: Date.now() - began };
  }

  it('starts, accepts, processes, stops with 0, and after a restart still reads the transaction back', async () => {
    home = await mkdtemp(join(tmpdir(), 'prismo-home-'));
    await chmod(home, 0o700);
    const ports = { api: await freePort(), pg: await freePort() };

    const first = await start(ports);
    const banner = first.output.join('');
    expect(banner).toContain('prismo is ready');
    const pgData = /PostgreSQL {2}embedded PostgreSQL \d+, data kept in (\S+)/.exec(banner)?.[1];
    expect(pgData, banner).toBeDefined();
    if (!pgData!.startsWith(home)) dataDirs.add(pgData!.replace(/\/postgres$/, ''));
    expect(banner).toMatch(/MongoDB {5}(embedded mongod|development MongoDB).*data kept in/);
    const readiness = (await (await fetch(`${first.base}/readyz`)).json()) as { checks: { mongodb: { detail?: string } } };
    if (/development MongoDB/.test(banner))
      expect(readiness.checks.mongodb.detail).toContain('development MongoDB (mongo-java-server), not MongoDB');

    const key = (await readFile(join(home, '.prismo', 'dev-api-key'), 'utf8')).trim();
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const posted = await fetch(`${first.base}/api/v1/transactions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        source: 'generic',
        externalId: 'first-run-1',
        payload: { account: 'acc-1', amount: '-12.34', currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
      }),
    });
    expect(posted.status).toBe(202);
    const { id } = (await posted.json()) as { id: string };
    type Status = { id: string; status: string; transaction: Record<string, unknown> | null };
    const read = async (base: string) => (await (await fetch(`${base}/api/v1/transactions/${id}`, { headers })).json()) as Status;
    const processed = await waitFor('the transaction processed', async () => {
      const body = await read(first.base);
      return body.status === 'processed' && body.transaction ? body : undefined;
    });
    expect(processed.transaction).toMatchObject({ id, direction: 'debit', amount: { minor: '1234', currency: 'EUR' } });

    const stopped = await stop(first.child);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);

    const second = await start(ports);
    console.log(`[out-of-the-box] ready in ${first.readyMs} ms, then ${second.readyMs} ms after a restart; stopped in ${stopped.ms} ms`);
    const again = await read(second.base);
    expect(again).toMatchObject({ id, status: 'processed', transaction: processed.transaction });
    expect((await stop(second.child)).code).toBe(0);

    // What the start left on disk, inside the throwaway directory and (as root) outside it: shown, removed.
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [CLI, ...args], { cwd: home, env: { PATH: process.env.PATH, HOME: process.env.HOME }, encoding: 'utf8' });
    const kept = [join(home, '.prismo'), ...(pgData!.startsWith(home) ? [] : [pgData!.replace(/\/postgres$/, '')])];
    const shown = cli('data');
    expect(shown.status, shown.stderr).toBe(0);
    const mine = shown.stdout.split(/\n(?=\S)/)[0]!;
    for (const path of kept) expect(mine).toContain(path);
    const removed = cli('data', 'remove');
    expect(removed.status, removed.stderr).toBe(0);
    for (const path of kept) expect(existsSync(path), path).toBe(false);
  });
});
