// Operating it: the CLI as a child process against real databases, /readyz following PostgreSQL's
// availability, and /metrics agreeing with the databases after a known load.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOWN_FLOOR } from '../src/db/migrate.js';
import { connectPostgres, withDatabase } from '../src/db/postgres.js';
import type { RawTransaction } from '../src/raw-store/collections.js';
import { newRawTransaction } from '../src/raw-store/insert.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));
const API_KEY = 'ops-key-acme-0123456789';

describe.skipIf(!mongoUri)('operations', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;

  // The tests here empty what they use themselves (some start from data the previous one left).
  const sys = useSystem({}, { resetAfterEach: false });
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });

  const prismo = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOG_LEVEL: 'warn',
        MONGODB_URI: mongoUri!,
        MONGODB_DB: mongo.dbName,
        DATABASE_URL: pg.url,
        ...env,
      },
      timeout: 60_000,
    });

  const envelope = (i: number, payload: Record<string, unknown> = {}) =>
    newRawTransaction('acme', {
      source: 'generic',
      payload: { account: 'a', amountMinor: i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z', ...payload },
    }) as RawTransaction;

  it('an unreachable MONGODB_URI or DATABASE_URL ends start-up with one line naming the variable and the host', async () => {
    const failure = (args: string[], env: Record<string, string>) =>
      prismo(args, env).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    const mongoDown = await failure(['serve', '--role', 'ingest'], { MONGODB_URI: 'mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500' });
    expect(mongoDown.code).toBe(1);
    expect(mongoDown.stderr.trim().split('\n')).toHaveLength(1);
    expect(mongoDown.stderr).toMatch(/^prismo: MONGODB_URI: cannot reach MongoDB at 127\.0\.0\.1:1: /);
    const pgDown = await failure(['serve', '--role', 'processor'], { DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/db' });
    expect(pgDown.code).toBe(1);
    expect(pgDown.stderr.trim().split('\n')).toHaveLength(1);
    expect(pgDown.stderr).toMatch(/^prismo: DATABASE_URL: cannot reach PostgreSQL at 127\.0\.0\.1:1: /);
    expect(pgDown.stderr).not.toContain('secret');
  });

  it('--help answers for every command', async () => {
    for (const command of ['start', 'serve', 'process', 'migrate', 'keys', 'replay', 'status', 'documents']) {
      const { stdout } = await prismo([command, '--help']);
      expect(stdout, command).toContain(`prismo ${command}`);
    }
    expect((await prismo(['--help'])).stdout).toContain('usage: prismo');
  });

  it('migrate applies the migrations once, a second run is a no-op, and --down undoes the latest', async () => {
    const serverUrl = pg.url;
    const admin = connectPostgres(withDatabase(serverUrl, 'postgres'), { max: 1 });
    const name = `prismo_migrate_${Date.now()}`;
    await admin.none('CREATE DATABASE $1:name', [name]);
    try {
      const url = withDatabase(serverUrl, name);
      const first = await prismo(['migrate'], { DATABASE_URL: url, LOG_LEVEL: 'info' });
      expect(first.stdout).toContain('migrations applied');
      const second = await prismo(['migrate'], { DATABASE_URL: url, LOG_LEVEL: 'info' });
      expect(second.stdout).toContain('database already current');
      const db = connectPostgres(url, { max: 1 });
      const migrations = readdirSync(new URL('../src/db/migrations/', import.meta.url)).filter((file) => file.endsWith('.sql'));
      const applied = () => db.one('SELECT count(*)::int AS n FROM pgmigrations', [], (r) => r.n);
      expect(await applied()).toBe(migrations.length);
      // A rollback: --down 2 undoes the two latest by their SQL's down half; migrate brings them back.
      const undone = await prismo(['migrate', '--down', '2'], { DATABASE_URL: url, LOG_LEVEL: 'info' });
      expect(undone.stdout).toContain('migrations undone');
      expect(await applied()).toBe(migrations.length - 2);
      const maxInFlight =
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'webhook_endpoints' AND column_name = 'max_in_flight'";
      expect(await db.oneOrNone(maxInFlight)).toBeNull();
      await expect(prismo(['migrate', '--down', '0'], { DATABASE_URL: url })).rejects.toMatchObject({ code: 1 });
      // Never past the move of the API keys to MongoDB (it would drop the tables holding every row): refused, nothing undone.
      const reversible = migrations.filter((file) => file.replace(/\.sql$/, '') > DOWN_FLOOR).length - 2;
      const tooFar = prismo(['migrate', '--down', String(reversible + 1)], { DATABASE_URL: url, LOG_LEVEL: 'info' });
      await expect(tooFar).rejects.toMatchObject({ code: 1 });
      await expect(tooFar).rejects.toMatchObject({
        stderr: expect.stringContaining(`only ${reversible} applied migration(s) can be undone`),
      });
      expect(await applied()).toBe(migrations.length - 2);
      expect((await prismo(['migrate'], { DATABASE_URL: url, LOG_LEVEL: 'info' })).stdout).toContain('migrations applied');
      expect(await applied()).toBe(migrations.length);
      await db.$pool.end();
    } finally {
      await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
      await admin.$pool.end();
    }
  });

  it('keys: create prints a key once, list shows only its prefix, revoke ends it', async () => {
    const created = await prismo(['keys', 'create', '--tenant', 'clitenant', '--scopes', 'transactions:read', '--label', 'cli test']);
    const key = created.stdout.trim().split('\n').at(-1)!;
    const id = /created key (\d+)/.exec(created.stdout)![1]!;
    expect(key).toMatch(/^pk_/);
    const listed = await prismo(['keys', 'list', '--tenant', 'clitenant']);
    expect(listed.stdout).toContain(`${id}\tclitenant\t${key.slice(0, 10)}…\ttransactions:read\tactive\tcli test`);
    expect(listed.stdout).not.toContain(key);
    expect((await prismo(['keys', 'revoke', id])).stdout).toContain(`revoked key ${id}`);
    expect((await prismo(['keys', 'list', '--tenant', 'clitenant'])).stdout).toMatch(new RegExp(`^${id}\\tclitenant\\t.*\\trevoked `, 'm'));
    await expect(prismo(['keys', 'create', '--tenant', 'x', '--scopes', 'root'])).rejects.toMatchObject({ code: 1 });
  });

  it('replay --dry-run counts, then replay re-queues exactly the failed documents, which the processor then processes', async () => {
    await mongo.raw.deleteMany({});
    const failed = Array.from({ length: 7 }, (_, i) => ({
      ...envelope(i),
      status: 'failed' as const,
      attempts: 3,
      lastError: 'PostgreSQL was down',
    }));
    const dead = Array.from({ length: 4 }, (_, i) => ({ ...envelope(100 + i), status: 'dead' as const, attempts: 5 }));
    const done = Array.from({ length: 5 }, (_, i) => ({ ...envelope(200 + i), processed: true, status: 'processed' as const }));
    const otherTenant = { ...envelope(300), tenantId: 'globex', status: 'failed' as const, attempts: 1 };
    await mongo.raw.insertMany([...failed, ...dead, ...done, otherTenant]);

    const dry = await prismo(['replay', '--tenant', 'acme', '--status', 'failed', '--dry-run']);
    expect(dry.stdout).toContain('7 documents match (dry run: nothing changed)');
    expect(await mongo.raw.countDocuments({ status: 'failed' })).toBe(8);

    const real = await prismo(['replay', '--tenant', 'acme', '--status', 'failed']);
    expect(real.stdout).toContain('replayed 7 of 7 matching documents');
    expect(real.stderr).toContain('replayed 7/7 (100%)');
    expect(await mongo.raw.countDocuments({ tenantId: 'acme', status: 'pending', attempts: 0 })).toBe(7);
    expect(await mongo.raw.countDocuments({ status: 'dead' })).toBe(4);
    expect(await mongo.raw.countDocuments({ tenantId: 'globex', status: 'failed' })).toBe(1);

    const system = await sys.start(['processor'], { CHANGE_STREAM: 'off', POLL_INTERVAL_MS: '100' });
    try {
      await waitFor(
        'the replayed documents processed',
        async () => (await mongo.raw.countDocuments({ tenantId: 'acme', processed: true })) === 12,
      );
      expect(await mongo.raw.countDocuments({ tenantId: 'acme', status: 'dead' })).toBe(4);
      // Following the drain: plain lines when not on a terminal, ending once the backlog is empty.
      await waitFor(
        'an empty backlog',
        async () => (await mongo.raw.countDocuments({ processed: false, status: { $in: ['pending', 'failed'] } })) === 0,
      );
      const watched = await prismo(['status', '--watch', '--until-empty']);
      expect(watched.stderr.trim().split('\n').at(-1)).toMatch(/^backlog 0, processed 13, \d+ docs\/s, empty$/);
    } finally {
      await system.stop();
    }
  });

  it('documents fail sets a processed document whose row was lost back to failed, and the processor writes the row again', async () => {
    await mongo.raw.deleteMany({});
    const lost = envelope(400);
    const pending = envelope(401);
    await mongo.raw.insertMany([lost, pending]);
    const id = lost._id!.toHexString();
    const rowOf = (rawId: string) => pg.db.oneOrNone('SELECT id FROM transactions WHERE raw_id = $1', [rawId]);
    let system = await sys.start(['processor'], { CHANGE_STREAM: 'off', POLL_INTERVAL_MS: '100' });
    try {
      await waitFor('both processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 2);
    } finally {
      await system.stop();
    }
    // The row is lost (a restore from an older backup, a hand-made DELETE): reconciliation's processed-without-row.
    await pg.db.none('DELETE FROM transactions WHERE raw_id = $1', [id]);
    expect(await rowOf(id)).toBeNull();

    await expect(prismo(['documents', 'fail', id])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('--reason') });
    await expect(prismo(['documents', 'fail', 'nope', '--reason', 'x'])).rejects.toMatchObject({ code: 1 });
    const unknown = new ObjectId().toHexString();
    const { stdout } = await prismo(['documents', 'fail', id, unknown, '--reason', 'row lost in the restore of 2026-12-01']);
    expect(stdout).toContain('set 1 of 2 documents back to failed');
    expect(stdout).toContain(`left as they are: ${unknown}`);
    const failed = await mongo.raw.findOne({ _id: lost._id });
    expect(failed).toMatchObject({ processed: false, status: 'failed', attempts: 0, leaseUntil: null });
    expect(failed?.lastError).toBe('set back to failed by hand: row lost in the restore of 2026-12-01');
    expect(failed?.processedAt).toBeUndefined();
    // The other, untouched, stays processed.
    expect(await mongo.raw.countDocuments({ _id: pending._id, processed: true })).toBe(1);

    system = await sys.start(['processor'], { CHANGE_STREAM: 'off', POLL_INTERVAL_MS: '100' });
    try {
      await waitFor('the row written again', async () => (await rowOf(id)) !== null);
      await waitFor('the document processed again', async () => (await mongo.raw.countDocuments({ _id: lost._id, processed: true })) === 1);
    } finally {
      await system.stop();
    }
  });

  it('status prints numbers that match the database', async () => {
    await mongo.raw.deleteMany({});
    await mongo.checkpoints.deleteMany({});
    await mongo.raw.insertMany([
      ...Array.from({ length: 6 }, (_, i) => ({ ...envelope(i), receivedAt: new Date(Date.now() - 120_000) })),
      ...Array.from({ length: 2 }, (_, i) => ({ ...envelope(10 + i), status: 'failed' as const, attempts: 1 })),
      ...Array.from({ length: 3 }, (_, i) => ({ ...envelope(20 + i), status: 'dead' as const })),
      ...Array.from({ length: 9 }, (_, i) => ({
        ...envelope(30 + i),
        processed: true,
        status: 'processed' as const,
        processedAt: new Date(),
      })),
    ]);
    await mongo.checkpoints.insertOne({ _id: 'default', resumeToken: { _data: 'x' }, worker: 'w1', at: new Date(Date.now() - 30_000) });
    const { stdout } = await prismo(['status', '--json']);
    const status = JSON.parse(stdout);
    expect(status).toMatchObject({ backlog: 8, failed: 2, dead: 3, processed: 9 });
    expect(status.oldestUnprocessedAgeSeconds).toBeGreaterThanOrEqual(120);
    expect(status.checkpoints[0].ageSeconds).toBeGreaterThanOrEqual(30);
    // All 20 were received within the 300 s window (6 of them two minutes ago); 9 processed in it.
    expect(status.tenants).toEqual([{ tenantId: 'acme', acceptedPerSecond: 0.067, processedPerSecond: 0.03, backlog: 8 }]);
    const human = await prismo(['status']);
    expect(human.stdout).toMatch(/backlog\s+8/);
    expect(human.stdout).toMatch(/dead\s+3/);
  });

  it('/readyz turns unready when PostgreSQL goes away and ready again when it is back', async () => {
    const target = new URL(pg.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    const viaProxy = new URL(pg.url);
    viaProxy.port = String(proxy.port);
    const system = await sys.start(['processor'], { POLL_INTERVAL_MS: '200' }, { databaseUrl: viaProxy.toString() });
    try {
      const readyz = async () => {
        const response = await fetch(`${system.opsUrl}/readyz`);
        return {
          status: response.status,
          body: (await response.json()) as { ready: boolean; checks: Record<string, { ok: boolean }>; processor?: string },
        };
      };
      const before = await readyz();
      expect(before).toMatchObject({
        status: 200,
        body: {
          ready: true,
          checks: { mongodb: { ok: true }, postgresql: { ok: true }, migrations: { ok: true } },
          processor: 'change-stream+sweep',
        },
      });
      proxy.cut();
      const down = await waitFor('unready', async () => {
        const r = await readyz();
        return r.status === 503 ? r : undefined;
      });
      expect(down.body.checks.postgresql!.ok).toBe(false);
      expect(down.body.checks.mongodb!.ok).toBe(true);
      expect((await fetch(`${system.opsUrl}/healthz`)).status).toBe(200);
      proxy.restore();
      await waitFor('ready again', async () => (await readyz()).status === 200);
    } finally {
      await system.stop();
      await proxy.close();
    }
  });

  it('/metrics after a known load agrees with the databases', async () => {
    await Promise.all([mongo.raw.deleteMany({}), mongo.logs.deleteMany({}), mongo.checkpoints.deleteMany({})]);
    const system = await sys.start(['gateway', 'ingest', 'processor'], {
      API_KEYS: `acme:${API_KEY}`,
      MAX_ATTEMPTS: '1',
      POLL_INTERVAL_MS: '200',
    });
    try {
      const post = (body: unknown) =>
        fetch(`${system.gatewayUrl}/api/v1/transactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
          body: JSON.stringify(body),
        });
      for (let i = 0; i < 40; i++) {
        expect(
          (
            await post({
              source: 'generic',
              payload: { account: 'm', amountMinor: i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
            })
          ).status,
        ).toBe(202);
      }
      for (let i = 0; i < 3; i++)
        expect(
          (
            await post({
              source: 'generic',
              // Money the door accepts but a date the mapper refuses: dead after its attempts.
              payload: { account: 'm', amount: '1.00', currency: 'USD', occurredAt: 'the day before yesterday' },
            })
          ).status,
        ).toBe(202);
      expect((await post({ source: 'generic' })).status).toBe(400);
      await waitFor('all outcomes', async () => (await mongo.logs.countDocuments({})) === 43);

      const text = await (await fetch(`${system.opsUrl}/metrics`)).text();
      const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('prismo_raw_accepted_total{source="generic"}')).toBe(await mongo.raw.countDocuments({}));
      expect(value('prismo_documents_total{outcome="processed"}')).toBe(await mongo.raw.countDocuments({ processed: true }));
      expect(value('prismo_documents_total{outcome="dead"}')).toBe(await mongo.raw.countDocuments({ status: 'dead' }));
      expect(value('prismo_backlog_documents')).toBe(
        await mongo.raw.countDocuments({ processed: false, status: { $in: ['pending', 'failed'] } }),
      );
      expect(value('prismo_dead_documents')).toBe(3);
      expect(value('prismo_oldest_unprocessed_age_seconds')).toBe(0);
      expect(value('prismo_http_requests_total{method="POST",route="/api/v1/transactions",status="202"}')).toBe(43);
      expect(value('prismo_http_requests_total{method="POST",route="/api/v1/transactions",status="400"}')).toBe(1);
      expect(text).toContain('prismo_batch_duration_seconds_bucket');
      expect(text).toContain('prismo_process_resident_memory_bytes');
      console.log(
        `[metrics] ${text
          .split('\n')
          .filter((l) =>
            /^prismo_(raw_accepted|documents|backlog|dead|oldest|sweep_hits|change_stream|resume_token|batch_size_(sum|count))/.test(l),
          )
          .join(' | ')}`,
      );
    } finally {
      await system.stop();
    }
  });
});
