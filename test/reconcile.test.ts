// Reconciliation on a real system: a day of generic rows, a Stripe charge authorised, captured and refunded
// (revisions), a Plaid transaction added and removed (a void) and an externalId resent after retention (an
// alias) reconciles to zero; then six tamperings are each reported exactly once, by id and kind.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import plaid from '../src/mapping/transform/vendor/plaid.json' with { type: 'json' };
import stripe from '../src/mapping/transform/vendor/stripe.json' with { type: 'json' };
import { takeReconcileLease } from '../src/pg-store/take-reconcile-lease.js';
import type { RawTransaction } from '../src/raw-store/collections.js';
import { newRawTransaction } from '../src/raw-store/insert.js';
import { ReconcileEvents } from '../src/reconcile/events.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import { runReconciliation } from '../src/reconcile/run.js';
import { hasChromium, launchChromium } from './support/browser.js';
import { mongoUri, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';
import { startTcpProxy, throughProxy } from './support/tcp-proxy.js';

const KEY = 'reconcile-key-0123456789';
const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));

describe.skipIf(!mongoUri)('reconciliation', () => {
  const sys = useSystem({ API_KEYS: `acme:${KEY}`, POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });

  async function post(gateway: string, body: unknown): Promise<string> {
    const response = await fetch(`${gateway}/api/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }

  const range = () => ({
    from: new Date(Date.now() - 86_400_000),
    to: new Date(Date.now() + 60_000),
    waitingThresholdMs: 3_600_000,
    retentionSeconds: 30 * 86_400,
  });

  it('a day with revisions, voids and aliases reconciles to zero; each tampering is reported once, and nothing else', async () => {
    const system = await sys.start(['gateway', 'ingest', 'processor']);
    const gateway = system.gatewayUrl!;
    const generic = [];
    for (let i = 0; i < 20; i++) {
      generic.push(
        await post(gateway, {
          source: 'generic',
          externalId: `rec-${i}`,
          payload: { account: 'acc-1', amountMinor: 100 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
        }),
      );
    }
    const charge = { ...stripe.charge, id: 'ch_reconcile' };
    for (const [step, object] of [
      charge,
      { ...charge, captured: true, amount_captured: 100 },
      { ...charge, captured: true, amount_captured: 100, amount_refunded: 100, refunded: true },
    ].entries()) {
      await post(gateway, {
        source: 'stripe',
        externalId: `evt_rec_${step}`,
        payload: { id: `evt_rec_${step}`, object: 'event', type: 'charge.updated', created: 1_700_000_000 + step, data: { object } },
      });
    }
    const added = plaid.syncAdded[0]!;
    await post(gateway, { source: 'plaid', externalId: added.transaction_id, payload: added });
    await post(gateway, { source: 'plaid', payload: { removed: { transaction_id: added.transaction_id, account_id: added.account_id } } });
    await waitFor('every document processed', async () => (await sys.mongo.raw.countDocuments({ processed: false })) === 0);
    // An externalId sent again after retention removed its first document (31 days on): an alias of the first row.
    await sys.mongo.raw.deleteOne({ _id: new ObjectId(generic[19]) });
    await sys.pg.db.none("UPDATE transactions SET created_at = now() - interval '31 days' WHERE raw_id = $1", [generic[19]]);
    const resent = await post(gateway, {
      source: 'generic',
      externalId: 'rec-19',
      payload: { account: 'acc-1', amountMinor: 119, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
    });
    await waitFor('the resent document processed', async () => (await sys.mongo.raw.countDocuments({ processed: false })) === 0);
    await sys.stop();

    const clean = await reconcile(sys.mongo, sys.pg.db, range());
    expect(clean.mismatches).toEqual([]);
    // The resent externalId an alias; the capture and the refund revisions; Plaid's removal a void.
    expect(
      clean.days.map((d) => [d.tenantId, d.source, d.accepted, d.processed, d.rows, d.revisions, d.voids, d.replaced, d.aliases]).sort(),
    ).toEqual([
      ['acme', 'generic', 20, 20, 20, 0, 0, 0, 1],
      ['acme', 'plaid', 2, 2, 1, 0, 1, 0, 0],
      ['acme', 'stripe', 3, 3, 1, 2, 0, 0, 0],
    ]);
    expect(resent).not.toBe(generic[19]);
    // The sums: 20 generic EUR rows of 100..119 (the resent one an alias, its row counted once), Stripe's
    // charge of 100 USD minor refunded (a live row), Plaid's removed transaction void and out of the sums.
    const sums = clean.days.flatMap((d) => d.sums.map((s) => [d.source, s.currency, s.direction, s.rowsMinor, s.documentsMinor]));
    expect(sums.sort()).toEqual(
      [
        ['generic', 'EUR', 'credit', String(19 * 100 + (18 * 19) / 2), String(19 * 100 + (18 * 19) / 2)],
        ['stripe', 'USD', 'credit', '100', '100'],
      ].sort(),
    );

    // Six tamperings, each reported once with its id and kind.
    await sys.pg.db.none('DELETE FROM transactions WHERE raw_id = $1', [generic[0]]);
    await sys.mongo.raw.updateOne({ _id: new ObjectId(generic[1]) }, { $set: { processed: false, status: 'pending' } });
    await sys.pg.db.none('UPDATE transactions SET amount_minor = amount_minor + 1 WHERE raw_id = $1', [generic[2]]);
    const orphan = new ObjectId().toHexString();
    await sys.pg.db.none(
      `INSERT INTO transactions (tenant_id, raw_id, source, external_id, account_id, direction, amount_minor, currency, occurred_at, received_at)
       SELECT tenant_id, $1, source, 'rec-orphan', account_id, direction, amount_minor, currency, occurred_at, now() FROM transactions WHERE raw_id = $2`,
      [orphan, generic[3]],
    );
    const waiting = await sys.mongo.raw.insertOne({
      ...newRawTransaction(
        'acme',
        { source: 'generic', payload: { account: 'acc-1', amountMinor: 5, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' } },
        new Date(Date.now() - 2 * 3_600_000),
      ),
    } as RawTransaction);
    // A provider object's row is compared with its latest revision (the refund), read again from its documents.
    const { raw_id: chargeRow } = await sys.pg.db.one<{ raw_id: string }>(
      "UPDATE transactions SET status = 'posted' WHERE provider_ref = 'ch_reconcile' RETURNING raw_id",
    );
    const tampered = await reconcile(sys.mongo, sys.pg.db, range());
    const seen = tampered.mismatches.map((m) => [m.kind, m.id]).sort();
    expect(seen).toEqual(
      [
        ['processed-without-row', generic[0]],
        ['row-without-processed-document', generic[1]],
        ['differs-from-document', generic[2]],
        ['differs-from-document', chargeRow],
        ['row-without-document', orphan],
        ['waiting-too-long', waiting.insertedId.toHexString()],
      ].sort(),
    );
    const details = Object.fromEntries(tampered.mismatches.map((m) => [m.id, m.detail]));
    expect(details[generic[2]!]).toBe('amount: row 103, document 102');
    expect(details[chargeRow]).toBe('status: row posted, document reversed');
    // The sums say the same: rows 1 minor unit above the documents, less the lost row (100), plus the row
    // without a document (a copy of 103) and the one whose document is pending again (101: a document counts
    // once processed). Summed over the generic days (the waiting document may fall on yesterday's).
    const genericSums = tampered.days.filter((d) => d.source === 'generic').flatMap((d) => d.sums);
    const difference = genericSums.reduce((sum, s) => sum + BigInt(s.rowsMinor) - BigInt(s.documentsMinor), 0n);
    expect(difference).toBe(1n - 100n + 103n + 101n);

    // The command: one JSON object, exit status 1 on a mismatch.
    const cli = spawnSync(process.execPath, [CLI, 'reconcile', '--json', '--tenant', 'acme'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MONGODB_URI: mongoUri!,
        MONGODB_DB: sys.mongo.dbName,
        DATABASE_URL: sys.pg.url,
        LOG_LEVEL: 'warn',
      },
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(1);
    const printed = JSON.parse(cli.stdout) as {
      days: unknown[];
      mismatches: Array<{ id: string; kind: string; tenantId: string; source: string; detail: string }>;
    };
    expect(printed.mismatches.map((m) => [m.kind, m.id]).sort()).toEqual(seen);
    expect(printed.days.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!mongoUri)('reconciliation runs', () => {
  const sys = useSystem({ POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });
  const DAY = 86_400_000;
  const settings = { waitingThresholdMs: 3_600_000, retentionSeconds: 30 * 86_400 };
  const dayStart = (daysAgo: number) => new Date(Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY);

  /** A document received days ago (its ObjectId too, as a gateway would have made it then), waiting. */
  async function insertProcessable(tenantId: string, receivedAt: Date, amountMinor: number, now = false): Promise<string> {
    const doc = newRawTransaction(
      tenantId,
      { source: 'generic', payload: { account: 'acc-1', amountMinor, currency: 'EUR', occurredAt: receivedAt.toISOString() } },
      receivedAt,
    ) as RawTransaction;
    if (!now) doc._id = new ObjectId(ObjectId.generate(Math.floor(receivedAt.getTime() / 1000)));
    await sys.mongo.raw.insertOne(doc);
    return doc._id.toHexString();
  }
  const stored = () =>
    sys.pg.db.map(
      "SELECT tenant_id, to_char(day, 'YYYY-MM-DD') AS day, accepted, run_id::text, mismatches, retention_removed FROM reconciliation_days ORDER BY day, tenant_id",
      [],
      (r: { tenant_id: string; day: string; accepted: number; run_id: string; mismatches: number; retention_removed: boolean }) => r,
    );

  it('a processor runs it on schedule under a lease; incremental runs redo only the days that changed; results are kept', async () => {
    // Two tenants, three closed days, documents received in each (as an import of older data would be).
    for (const daysAgo of [1, 2, 3])
      for (const tenant of ['t1', 't2']) await insertProcessable(tenant, new Date(dayStart(daysAgo).getTime() + 3_600_000), 100);
    const system = await sys.start(['processor'], { RECONCILE_INTERVAL_SECONDS: '1' });
    await waitFor('every document processed', async () => (await sys.mongo.raw.countDocuments({ processed: false })) === 0);
    // The first scheduled run is a full one; the next ones (every second here) redo the days it found still
    // waiting, until the six days are stored settled, with nothing to report.
    await waitFor(
      'a scheduled full run',
      async () =>
        (await sys.pg.db.any("SELECT 1 FROM reconciliation_runs WHERE mode = 'full' AND trigger = 'schedule' AND finished_at IS NOT NULL"))
          .length > 0,
    );
    await waitFor(
      'six days stored with nothing waiting',
      async () => (await sys.pg.db.one<{ n: number }>('SELECT count(*)::int AS n FROM reconciliation_days WHERE waiting = 0')).n === 6,
    );
    await system.stop();
    const full = await stored();
    expect(full.map((d) => [d.tenant_id, d.day, d.accepted, d.mismatches])).toEqual(
      [3, 2, 1].flatMap((n) => ['t1', 't2'].map((t) => [t, dayStart(n).toISOString().slice(0, 10), 1, 0])),
    );
    const { holder } = await sys.pg.db
      .one<{ holder: string }>('SELECT holder FROM reconciliation_lease')
      .catch(() => ({ holder: 'released' }));
    expect(holder).toBe('released'); // given back at stop

    // As if the outcomes had been twelve minutes ago and the last run ten (incremental runs look back one
    // minute more than the last run's start, for clocks that differ).
    await sys.pg.db.none("UPDATE reconciliation_runs SET started_at = started_at - interval '10 minutes'");
    for (const entry of await sys.mongo.logs.find().toArray())
      await sys.mongo.logs.updateOne({ _id: entry._id }, { $set: { at: new Date(entry.at.getTime() - 720_000) } });
    // A late document for t1 two days ago, processed: the incremental run redoes (t1, that day) alone.
    await insertProcessable('t1', new Date(dayStart(2).getTime() + 7_200_000), 50, true);
    const again = await sys.start(['processor']);
    await waitFor('the late document processed', async () => (await sys.mongo.raw.countDocuments({ processed: false })) === 0);
    await again.stop();
    const incremental = await runReconciliation(sys.mongo, sys.pg.db, settings, {
      mode: 'incremental',
      trigger: 'command',
      worker: 'test',
    });
    expect(incremental.mode).toBe('incremental');
    expect(incremental.days.map((d) => [d.tenantId, d.day, d.accepted])).toEqual([['t1', dayStart(2).toISOString().slice(0, 10), 2]]);
    const after = await stored();
    const redone = after.filter((d) => d.run_id === incremental.runId).map((d) => [d.tenant_id, d.day]);
    expect(redone).toEqual([['t1', dayStart(2).toISOString().slice(0, 10)]]);
    expect(after.filter((d) => d.run_id !== incremental.runId)).toHaveLength(5);

    // A hand-made SQL fix is invisible to an incremental run (no document changed) and found by the full one.
    const lost = await sys.pg.db.one<{ raw_id: string }>(
      "DELETE FROM transactions WHERE id = (SELECT min(id) FROM transactions WHERE tenant_id = 't2') RETURNING raw_id",
    );
    const quiet = await runReconciliation(sys.mongo, sys.pg.db, settings, { mode: 'incremental', trigger: 'command', worker: 'test' });
    expect(quiet.mismatches).toEqual([]);
    const fullAgain = await runReconciliation(sys.mongo, sys.pg.db, settings, { mode: 'full', trigger: 'command', worker: 'test' });
    expect(fullAgain.mismatches.map((m) => [m.kind, m.id])).toEqual([['processed-without-row', lost.raw_id]]);
    const kept = await sys.pg.db.any('SELECT raw_id, kind FROM reconciliation_mismatches');
    expect(kept).toEqual([{ raw_id: lost.raw_id, kind: 'processed-without-row' }]);

    // Retention: with a 3-day period, a document received three days ago at midnight and processed then is
    // gone by now, so that day is no longer whole: its last summary stays, marked, and it is not redone.
    const retained = await runReconciliation(
      sys.mongo,
      sys.pg.db,
      { ...settings, retentionSeconds: 3 * 86_400 },
      { mode: 'full', trigger: 'command', worker: 'test' },
    );
    expect(retained.days.map((d) => d.day)).not.toContain(dayStart(3).toISOString().slice(0, 10));
    const marked = (await stored()).filter((d) => d.retention_removed).map((d) => [d.tenant_id, d.day]);
    expect(marked).toEqual(['t1', 't2'].map((t) => [t, dayStart(3).toISOString().slice(0, 10)]));
  });

  it('one worker at a time holds the scheduled run’s lease; another takes it once it lapses', async () => {
    await sys.start([]);
    expect(await takeReconcileLease(sys.pg.db, 'a', 60_000)).toBe(true);
    expect(await takeReconcileLease(sys.pg.db, 'b', 60_000)).toBe(false);
    expect(await takeReconcileLease(sys.pg.db, 'a', 60_000)).toBe(true);
    await sys.pg.db.none("UPDATE reconciliation_lease SET until = now() - interval '1 second'");
    expect(await takeReconcileLease(sys.pg.db, 'b', 60_000)).toBe(true);
  });
});

describe.skipIf(!mongoUri)('reconciliation where it shows', () => {
  const sys = useSystem({ POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });
  const yesterday = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000 + 3_600_000);

  it('the admin API (tenant-scoped), /metrics and the board show the stored days and each mismatch, linked to its document', async () => {
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    const keys = {
      acme: (await createApiKey(accept, 'acme', ['admin'])).key,
      globex: (await createApiKey(accept, 'globex', ['admin'])).key,
      operator: (await createApiKey(accept, 'ops', ['admin', 'operator'])).key,
    };
    const ids: Record<string, string[]> = { acme: [], globex: [] };
    for (const tenant of ['acme', 'globex'])
      for (let i = 0; i < 3; i++) {
        const doc = newRawTransaction(
          tenant,
          { source: 'generic', payload: { account: 'acc-1', amountMinor: 10 + i, currency: 'EUR', occurredAt: yesterday.toISOString() } },
          yesterday,
        ) as RawTransaction;
        doc._id = new ObjectId(ObjectId.generate(Math.floor(yesterday.getTime() / 1000)));
        await sys.mongo.raw.insertOne(doc);
        ids[tenant]!.push(doc._id.toHexString());
      }
    const system = await sys.start(['gateway', 'ingest', 'processor']);
    const gateway = system.gatewayUrl!;
    await waitFor('every document processed', async () => (await sys.mongo.raw.countDocuments({ processed: false })) === 0);
    await sys.pg.db.none('DELETE FROM transactions WHERE raw_id = $1', [ids.acme![1]]);
    const events = new ReconcileEvents();
    const said: string[] = [];
    events.on('run-started', ({ mode, trigger }) => said.push(`started ${mode} ${trigger}`));
    events.on('run-finished', (run) =>
      said.push(`finished ${JSON.stringify([run.mode, run.scopes, run.days, run.documents, run.mismatchesByKind])}`),
    );
    const run = await runReconciliation(
      sys.mongo,
      sys.pg.db,
      { waitingThresholdMs: 3_600_000, retentionSeconds: 30 * 86_400 },
      {
        mode: 'full',
        trigger: 'command',
        worker: 'test',
      },
      events,
    );
    // Its events say what the run returned: one scope (every retained closed day), two days, one mismatch by kind.
    expect(said).toEqual(['started full command', `finished ${JSON.stringify(['full', 1, 2, 6, { 'processed-without-row': 1 }])}`]);
    expect(run.days).toHaveLength(2);

    const get = async (key: string, query = '') => {
      const response = await fetch(`${gateway}/api/v1/admin/reconciliation${query}`, { headers: { 'x-api-key': key } });
      return {
        status: response.status,
        body: (await response.json()) as Record<string, unknown> & {
          days: Array<Record<string, unknown>>;
          mismatches: Array<Record<string, unknown>>;
        },
      };
    };
    const acme = await get(keys.acme);
    expect(acme.status).toBe(200);
    expect(acme.body.days.map((d) => [d.tenantId, d.accepted, d.processed, d.rows, d.mismatches])).toEqual([['acme', 3, 3, 2, 1]]);
    expect(acme.body.days[0]!.sums).toEqual([{ currency: 'EUR', direction: 'credit', rowsMinor: '22', documentsMinor: '33' }]);
    expect(acme.body.mismatches.map((m) => [m.kind, m.id, m.tenantId])).toEqual([['processed-without-row', ids.acme![1], 'acme']]);
    const globex = await get(keys.globex);
    expect(globex.body.days.map((d) => [d.tenantId, d.mismatches])).toEqual([['globex', 0]]);
    expect(globex.body.mismatches).toEqual([]);
    // lastRun: each tenant's own figures from the run; the installation's (6 documents) only for an operator.
    expect(acme.body.lastRun).toMatchObject({ mode: 'full', days: 1, documents: 3, mismatches: 1, error: null });
    expect(globex.body.lastRun).toMatchObject({ mode: 'full', days: 1, documents: 3, mismatches: 0, error: null });
    expect((await get(keys.operator)).body.lastRun).toMatchObject({ mode: 'full', days: 2, documents: 6, mismatches: 1 });
    expect((await get(keys.operator, '?tenant=globex')).body.lastRun).toMatchObject({ documents: 3, mismatches: 0 });
    expect((await get(keys.globex, '?tenant=acme')).status).toBe(403);
    expect((await get(keys.operator)).body.days.map((d) => d.tenantId).sort()).toEqual(['acme', 'globex']);
    expect((await get(keys.operator, '?tenant=globex&from=2026-02-30')).status).toBe(400);
    // PostgreSQL has no year 0: a day before 1970 reads as 1970-01-01, never a 500.
    expect((await get(keys.operator, '?from=0000-01-01')).body.days).toHaveLength(2);

    // PostgreSQL away: a 503 with Retry-After, not a 500.
    const target = new URL(sys.pg.url.replace(/^postgres(ql)?:/, 'http:'));
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    sys.defer(() => proxy.close());
    const cut = await sys.start(['gateway'], {}, { databaseUrl: throughProxy(sys.pg.url, proxy) });
    proxy.cut();
    const away = await fetch(`${cut.gatewayUrl}/api/v1/admin/reconciliation`, { headers: { 'x-api-key': keys.acme } });
    expect(away.status).toBe(503);
    expect(away.headers.get('retry-after')).toMatch(/^\d+$/);

    const metrics = await (await fetch(`${system.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^prismo_reconciliation_mismatches\{kind="processed-without-row"\} 1$/m);
    expect(metrics).toMatch(/^prismo_reconciliation_mismatches\{kind="waiting-too-long"\} 0$/m);
    expect(metrics).toMatch(/^prismo_reconciliation_last_run_timestamp_seconds \d/m);

    if (!hasChromium()) return;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gateway}/board`);
      await page.fill('#api-key', keys.operator);
      await page.click('#key-form button[type=submit]');
      await expect.poll(() => page.locator('#reconciliation-days tbody tr').count()).toBe(2);
      expect(await page.textContent('#reconciliation-run')).toMatch(/^Last run: full \(command\), .*: 2 days, 6 documents, 1 mismatch$/);
      expect(await page.locator('#reconciliation-days tbody tr.warn-row td').nth(10).textContent()).toBe('EUR credit 22 / 33');
      const mismatch = page.locator(`#reconciliation-mismatches tbody tr[data-id="${ids.acme![1]}"]`);
      expect(await mismatch.locator('td').first().textContent()).toBe('processed-without-row');
      await mismatch.locator('button').click();
      await expect.poll(() => page.textContent('#detail-id')).toBe(ids.acme![1]);
      expect(await page.locator('#detail-figures dd[data-figure="Status"]').textContent()).toBe('processed');
    } finally {
      await browser.close();
    }
  });
});
