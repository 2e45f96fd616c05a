// Processors as real child processes (`prismo serve --role processor`), killed without warning and
// stopped with SIGTERM while draining a backlog: every document must end in PostgreSQL exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import stripe from '../src/mapping/transform/vendor/stripe.json' with { type: 'json' };
import type { RawTransaction } from '../src/raw-store/collections.js';
import { newRawTransaction } from '../src/raw-store/insert.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));

describe.skipIf(!mongoUri)('processor processes under crashes and shutdowns', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  const children = new Set<ChildProcess>();

  // The processors here are child processes, killed before the fixture empties the databases.
  const sys = useSystem();
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
  });

  function spawnProcessor(
    worker: string,
    env: Record<string, string> = {},
  ): {
    child: ChildProcess;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    /** Resolves once the processor says it runs (its signal handlers are in place from then on). */
    running: Promise<void>;
    stderr: () => string;
  } {
    let stderr = '';
    const child = spawn(process.execPath, [CLI, 'serve', '--role', 'processor'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MONGODB_URI: mongoUri!,
        MONGODB_DB: mongo.dbName,
        DATABASE_URL: pg.url,
        WORKER_ID: worker,
        LOG_LEVEL: 'info',
        POLL_INTERVAL_MS: '200',
        BATCH_MAX_SIZE: '500',
        BATCH_MAX_WAIT_MS: '20',
        // Leases of a killed processor must expire within the test's patience.
        LEASE_MS: '2000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const running = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"prismo is running"')) resolve();
      });
    });
    children.add(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
      }),
    );
    return { child, exited, running, stderr: () => stderr };
  }

  async function insertBacklog(count: number): Promise<void> {
    for (let from = 0; from < count; from += 2_000) {
      const docs = Array.from(
        { length: Math.min(2_000, count - from) },
        (_, i) =>
          newRawTransaction('acme', {
            source: 'generic',
            externalId: `doc-${from + i}`,
            payload: { account: `acc-${(from + i) % 50}`, amountMinor: from + i + 1, currency: 'EUR', occurredAt: '2026-11-24T00:00:00Z' },
          }) as RawTransaction,
      );
      await mongo.raw.insertMany(docs, { ordered: false });
    }
  }

  const rows = () => pg.db.one<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM transactions');

  /** Reconciliation after the kills: no mismatch, and every day's sums agree (rows against documents mapped again). */
  async function expectBooksToMatch() {
    const books = await reconcile(mongo, pg.db, {
      from: new Date(Date.now() - 86_400_000),
      to: new Date(Date.now() + 60_000),
      waitingThresholdMs: 3_600_000,
      retentionSeconds: 30 * 86_400,
    });
    expect(books.mismatches).toEqual([]);
    for (const sum of books.days.flatMap((day) => day.sums)) expect(sum.rowsMinor).toBe(sum.documentsMinor);
  }

  it('20,000 documents survive SIGKILL at random moments: all processed, exactly 20,000 rows, no duplicates', async () => {
    const total = 20_000;
    await insertBacklog(total);
    const kills: Array<{ afterMs: number; rowsAtKill: number }> = [];
    for (let round = 0; round < 4; round++) {
      const before = (await rows()).n;
      const { child, exited } = spawnProcessor(`crash-${round}`);
      // Let it make some progress, then kill it at a random moment of the drain.
      await waitFor(`round ${round} making progress`, async () => (await rows()).n > before, { timeoutMs: 60_000 });
      const afterMs = 100 + Math.floor(Math.random() * 900);
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      child.kill('SIGKILL');
      expect((await exited).signal).toBe('SIGKILL');
      kills.push({ afterMs, rowsAtKill: (await rows()).n });
      if (kills.at(-1)!.rowsAtKill === total) break;
    }
    const last = spawnProcessor('crash-final');
    await waitFor('every document processed', async () => (await mongo.raw.countDocuments({ processed: true })) === total, {
      timeoutMs: 180_000,
      intervalMs: 250,
    });
    // The kills may have left nothing to do: then SIGTERM must still find a running processor, not one
    // still loading its modules (which a signal ends before any handler exists).
    await Promise.race([
      last.running,
      last.exited.then((how) =>
        Promise.reject(new Error(`the last processor exited before it ran: ${JSON.stringify(how)} ${last.stderr()}`)),
      ),
    ]);
    last.child.kill('SIGTERM');
    expect(await last.exited).toEqual({ code: 0, signal: null });

    expect(await rows()).toEqual({ n: total, d: total });
    expect(await pg.db.one('SELECT sum(amount_minor)::bigint AS s FROM transactions', [], (r) => r.s)).toBe(
      BigInt((total * (total + 1)) / 2),
    );
    expect(await mongo.raw.countDocuments({ status: { $ne: 'processed' } })).toBe(0);
    await expectBooksToMatch();
    // One transaction.processed event per document, recorded with its row: none lost, none twice.
    expect(
      await pg.db.one("SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM events WHERE type = 'transaction.processed'"),
    ).toEqual({
      n: total,
      d: total,
    });
    console.log(`[crash] kills: ${kills.map((k) => `${k.rowsAtKill} rows after +${k.afterMs} ms`).join(', ')}`);
    // The deadline the waits above allow, not the suite's default minute: a loaded machine is slower.
  }, 300_000);

  it('revisions in the mix: kill -9 while revision batches are in flight, one row per object in its latest state', async () => {
    const charges = 1_500;
    // Each charge authorised, captured and refunded, as Stripe Events with their own ids, stored in a
    // shuffled order so one object's revisions land in one batch, in several, and out of order.
    const snapshots = Array.from({ length: charges }, (_, i) => {
      const id = `ch_crash_${i}`;
      const authorised = { ...stripe.charge, id, amount: 1_000 + i };
      const captured = { ...authorised, captured: true, amount_captured: 1_000 + i };
      const refunded = { ...captured, amount_refunded: 1_000 + i, refunded: true };
      return [authorised, captured, refunded].map((object, step) => ({
        source: 'stripe' as const,
        externalId: `evt_${i}_${step}`,
        payload: { id: `evt_${i}_${step}`, object: 'event', type: 'charge.updated', created: 1_700_000_000 + step, data: { object } },
      }));
    }).flat();
    for (let i = snapshots.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [snapshots[i], snapshots[j]] = [snapshots[j]!, snapshots[i]!];
    }
    await mongo.raw.insertMany(snapshots.map((e) => newRawTransaction('acme', e) as RawTransaction));
    await insertBacklog(3_000);
    const total = snapshots.length + 3_000;
    const processed = () => mongo.raw.countDocuments({ processed: true });
    const kills: number[] = [];
    for (let round = 0; round < 4; round++) {
      const before = await processed();
      const { child, exited } = spawnProcessor(`revisions-${round}`, { BATCH_MAX_SIZE: '200' });
      await waitFor(`round ${round} making progress`, async () => (await processed()) > before, { timeoutMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(Math.random() * 600)));
      child.kill('SIGKILL');
      await exited;
      kills.push(await processed());
      if (kills.at(-1) === total) break;
    }
    spawnProcessor('revisions-final');
    await waitFor('every document processed', async () => (await processed()) === total, { timeoutMs: 180_000, intervalMs: 250 });

    const byObject = await pg.db.one(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'reversed' AND metadata->>'amountRefundedMinor' = amount_minor::text)::int AS latest
         FROM transactions WHERE source = 'stripe'`,
    );
    expect(byObject).toEqual({ n: charges, latest: charges });
    expect(await rows()).toEqual({ n: charges + 3_000, d: charges + 3_000 });
    // Every snapshot recorded once, each object created once.
    expect(
      await pg.db.one(
        `SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d, count(*) FILTER (WHERE outcome = 'created')::int AS created
           FROM transaction_revisions`,
      ),
    ).toEqual({ n: snapshots.length, d: snapshots.length, created: charges });
    await expectBooksToMatch();
    // Events as the revisions say: each object created once, each change once, nothing for the rest.
    const outcomes = await pg.db.one(
      `SELECT count(*) FILTER (WHERE outcome = 'created')::int AS created, count(*) FILTER (WHERE outcome = 'updated')::int AS updated
         FROM transaction_revisions`,
    );
    expect(
      await pg.db.one(
        `SELECT count(*) FILTER (WHERE type = 'transaction.processed' AND raw_id IN (SELECT raw_id FROM transaction_revisions))::int AS created,
                count(*) FILTER (WHERE type = 'transaction.updated')::int AS updated,
                count(*) FILTER (WHERE type = 'transaction.processed')::int AS processed
           FROM events`,
      ),
    ).toEqual({ ...outcomes, processed: charges + 3_000 });
    console.log(`[crash] revisions: killed at ${kills.join(', ')} of ${total} documents processed`);
  }, 300_000);

  it('SIGTERM under load drains: exit 0, no document left leased, no batch half-done', async () => {
    await insertBacklog(6_000);
    const { child, exited } = spawnProcessor('graceful', { SHUTDOWN_TIMEOUT_MS: '20000' });
    await waitFor('progress', async () => (await rows()).n > 500, { timeoutMs: 60_000 });
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });

    const processed = await mongo.raw.countDocuments({ processed: true });
    // Every committed row was marked, and nothing marked lacks its row.
    expect((await rows()).n).toBe(processed);
    expect(await mongo.raw.countDocuments({ processed: false, leaseOwner: 'graceful' })).toBe(0);
    expect(await mongo.logs.countDocuments({ worker: 'graceful' })).toBe(processed);
  });
});
