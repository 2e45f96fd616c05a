// The operator's board on real servers: its admin API (scopes, tenancy, filters, corrections) and, in
// Debian's Chromium driven by Playwright, the page an operator uses: counts that match `prismo status
// --json`, a dead document's error, its correction and replay until processed, a filtered replay, and a
// non-admin key that sees nothing. Screenshots go to test-artifacts/board/ (not committed).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ObjectId } from 'mongodb';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import stripe from '../src/mapping/transform/vendor/stripe.json' with { type: 'json' };
import { pipelineStatus } from '../src/raw-store/backlog.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/board/', import.meta.url));

const good = (i: number) => ({
  source: 'generic',
  externalId: `good-${i}`,
  payload: { account: 'acc-1', amount: `${i}.50`, currency: 'EUR', occurredAt: '2026-11-24T12:00:00Z' },
});
/** Passes the door (the envelope and its money are fine) but no mapper can place it in time: dead. */
const withoutDate = (i: number) => ({
  source: 'generic',
  externalId: `bad-${i}`,
  payload: { account: 'acc-1', amount: '9.99', currency: 'EUR' },
});

describe.skipIf(!mongoUri)('the board', () => {
  const sys = useSystem(
    { POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '10', MAX_ATTEMPTS: '1', RETRY_BASE_MS: '50' },
    { resetAfterEach: false },
  );
  let pg: TestPostgres;
  let mongo: TestMongo;
  let url: string;
  const keys: Record<'admin' | 'writer' | 'reader' | 'otherAdmin' | 'otherWriter' | 'operator', string> = {
    admin: '',
    writer: '',
    reader: '',
    otherAdmin: '',
    otherWriter: '',
    operator: '',
  };

  const call = async (path: string, key: string | undefined, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(key ? { 'x-api-key': key } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) },
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    // biome-ignore lint/suspicious/noExplicitAny: bodies of several shapes, each asserted field by field below
    const body: any = await response.json().catch(() => null);
    return { status: response.status, headers: response.headers, body };
  };
  const post = async (body: unknown, key = keys.writer) => {
    const response = await call('/api/v1/transactions', key, { method: 'POST', body });
    expect(response.status).toBe(202);
    return response.body.id as string;
  };
  const statusOf = async (id: string) => (await mongo.raw.findOne({ _id: new ObjectId(id) }))?.status;

  const good1: string[] = [];
  const dead: string[] = [];
  let otherDead = '';

  beforeAll(async () => {
    ({ pg, mongo } = sys);
    const accept = acceptCollections(mongo.db);
    await ensureAcceptIndexes(accept);
    keys.admin = (await createApiKey(accept, 'acme', ['admin'])).key;
    keys.writer = (await createApiKey(accept, 'acme', ['transactions:write', 'transactions:read'])).key;
    keys.reader = (await createApiKey(accept, 'acme', ['transactions:read'])).key;
    keys.otherAdmin = (await createApiKey(accept, 'globex', ['admin'])).key;
    keys.otherWriter = (await createApiKey(accept, 'globex', ['transactions:write'])).key;
    keys.operator = (await createApiKey(accept, 'prismo-ops', ['operator'])).key;
    url = (await sys.start(['gateway', 'ingest', 'processor'])).gatewayUrl!;
    for (let i = 0; i < 5; i++) good1.push(await post(good(i)));
    for (let i = 0; i < 3; i++) dead.push(await post(withoutDate(i)));
    // Another tenant's dead document, for another reason: no account.
    otherDead = await post(
      { source: 'generic', payload: { amount: '1.00', currency: 'EUR', occurredAt: '2026-11-24T12:00:00Z' } },
      keys.otherWriter,
    );
    await waitFor('5 processed and 4 dead', async () => {
      const states = await Promise.all([...good1, ...dead, otherDead].map(statusOf));
      return states.filter((s) => s === 'processed').length === 5 && states.filter((s) => s === 'dead').length === 4;
    });
  });

  it('the admin API answers admin keys only, for their own tenant', async () => {
    const paths = ['/api/v1/admin/board/overview', '/api/v1/admin/documents', `/api/v1/admin/documents/${dead[0]}`];
    for (const path of paths) {
      expect((await call(path, undefined)).status).toBe(401);
      const refused = await call(path, keys.writer);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(refused.body)).not.toMatch(/acc-1|occurredAt/);
    }
    // Another tenant's admin sees none of acme's documents, figures or payloads, and cannot ask for them.
    const other = await call('/api/v1/admin/documents', keys.otherAdmin);
    expect(other.body.data.map((d: { id: string }) => d.id)).toEqual([otherDead]);
    expect((await call(`/api/v1/admin/documents/${dead[0]}`, keys.otherAdmin)).status).toBe(404);
    const otherOverview = await call('/api/v1/admin/board/overview', keys.otherAdmin);
    expect(otherOverview.body).toMatchObject({ tenantId: 'globex', operator: false, backlog: 0, failed: 0, dead: 1, processed: 0 });
    expect((await call('/api/v1/admin/board/overview?tenant=acme', keys.otherAdmin)).status).toBe(403);
    expect((await call('/api/v1/admin/documents?tenant=acme', keys.otherAdmin)).status).toBe(403);
    expect((await call('/api/v1/admin/documents?tenant=globex', keys.otherAdmin)).status).toBe(200);
    const foreignReplay = await call('/api/v1/admin/replay', keys.otherAdmin, { method: 'POST', body: { tenantId: 'acme', dryRun: true } });
    expect(foreignReplay.status).toBe(403);
    // The data routes are never cached.
    expect((await call('/api/v1/admin/documents', keys.admin)).headers.get('cache-control')).toBe('no-store');
  });

  it('an operator key sees every tenant, or one, and replays across them', async () => {
    const all = (await call('/api/v1/admin/board/overview', keys.operator)).body;
    expect(all).toMatchObject({ tenantId: null, operator: true, dead: 4, processed: 5 });
    expect(all.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['acme', 'globex']);
    expect((await call('/api/v1/admin/board/overview?tenant=globex', keys.operator)).body).toMatchObject({ tenantId: 'globex', dead: 1 });
    const listed = (await call('/api/v1/admin/documents', keys.operator)).body.data.map((d: { tenantId: string }) => d.tenantId);
    expect(listed.sort()).toEqual(['acme', 'acme', 'acme', 'globex']);
    expect((await call('/api/v1/admin/documents?tenant=globex', keys.operator)).body.data).toMatchObject([
      { id: otherDead, tenantId: 'globex' },
    ]);
    expect((await call(`/api/v1/admin/documents/${otherDead}`, keys.operator)).body.document).toMatchObject({ tenantId: 'globex' });
    const replay = (body: unknown) => call('/api/v1/admin/replay', keys.operator, { method: 'POST', body });
    expect((await replay({ dryRun: true })).body).toEqual({ matched: 4, replayed: 0, dryRun: true });
    expect((await replay({ tenantId: 'globex', dryRun: true })).body).toEqual({ matched: 1, replayed: 0, dryRun: true });
    expect((await replay({ error: 'account', dryRun: true })).body).toEqual({ matched: 1, replayed: 0, dryRun: true });
    // A tenant's own admin key: the tenantId may only name its own tenant.
    expect(
      (await call('/api/v1/admin/replay', keys.admin, { method: 'POST', body: { tenantId: 'acme', dryRun: true } })).body.matched,
    ).toBe(3);
  });

  it('the overview counts are the raw store own figures, with 15 minutes of buckets', async () => {
    const overview = (await call('/api/v1/admin/board/overview', keys.admin)).body;
    const status = await pipelineStatus(mongo, { tenantId: 'acme' });
    expect(overview).toMatchObject({
      tenantId: 'acme',
      operator: false,
      backlog: status.backlog,
      failed: status.failed,
      dead: 3,
      processed: 5,
    });
    expect(overview.mode).toBe('change-stream+sweep');
    expect(overview.processors).toHaveLength(1);
    // A tenant's admin does not learn the installation's host names; an operator does.
    expect(overview.processors[0].worker).toBe('processor 1');
    const [report] = await mongo.processors.find({}).toArray();
    expect((await call('/api/v1/admin/board/overview', keys.operator)).body.processors[0].worker).toBe(report!._id);
    const month = 30 * 86_400;
    expect(overview.retention).toEqual({ processedSeconds: month, logsSeconds: month, statementsSeconds: month, deadSeconds: month });
    const { timeline } = overview;
    expect(timeline.accepted).toHaveLength(90);
    expect(timeline.accepted.reduce((a: number, b: number) => a + b, 0)).toBe(8);
    expect(timeline.processed.reduce((a: number, b: number) => a + b, 0)).toBe(5);
    expect(timeline.dead.reduce((a: number, b: number) => a + b, 0)).toBe(3);
    expect(timeline.backlog.at(-1)).toBe(overview.backlog);
  });

  it('lists dead documents by filter, newest first, page by page, and shows one with its logs', async () => {
    const all = (await call('/api/v1/admin/documents?status=dead', keys.admin)).body;
    expect(all.data.map((d: { id: string }) => d.id)).toEqual([...dead].reverse());
    expect(all.data[0].lastError).toMatch(/occurredAt/);
    const page1 = (await call('/api/v1/admin/documents?limit=2', keys.admin)).body;
    expect(page1.data).toHaveLength(2);
    expect(page1).toMatchObject({ has_more: true, next_starting_after: page1.data[1].id, next_before: page1.data[1].id });
    const page2 = (await call(`/api/v1/admin/documents?limit=2&starting_after=${page1.next_starting_after}`, keys.admin)).body;
    expect(page2).toMatchObject({ data: [{ id: dead[0] }], has_more: false, next_starting_after: null });
    // The cursor's old name, deprecated, still pages the same.
    const old = (await call(`/api/v1/admin/documents?limit=2&before=${page1.next_before}`, keys.admin)).body;
    expect(old).toMatchObject({ data: [{ id: dead[0] }], next_before: null });
    expect((await call('/api/v1/admin/documents?error=OCCURREDAT', keys.admin)).body.data).toHaveLength(3);
    expect((await call('/api/v1/admin/documents?error=nothing-like-this', keys.admin)).body.data).toHaveLength(0);
    expect((await call('/api/v1/admin/documents?source=stripe', keys.admin)).body.data).toHaveLength(0);
    expect((await call('/api/v1/admin/documents?status=failed', keys.admin)).body.data).toHaveLength(0);
    expect((await call('/api/v1/admin/documents?status=pending', keys.admin)).status).toBe(400);

    const detail = (await call(`/api/v1/admin/documents/${dead[0]}`, keys.admin)).body;
    expect(detail.document).toMatchObject({ id: dead[0], status: 'dead', attempts: 1, payload: withoutDate(0).payload });
    expect(detail.logs).toHaveLength(1);
    expect(detail.logs[0]).toMatchObject({ outcome: 'dead', worker: 'processor' });
    expect(detail.logs[0].batchId).toMatch(/^processor-/);
    expect(detail.logs[0].error).toMatch(/occurredAt/);
    expect(detail).toMatchObject({ transaction: null, transactionUnavailable: false });
    const processed = (await call(`/api/v1/admin/documents/${good1[0]}`, keys.admin)).body;
    expect(processed.transaction).toMatchObject({ id: good1[0], amount: { minor: '50', currency: 'EUR' } });
  });

  it('a correction must pass the door, applies to failed or dead documents only, and keeps the previous payload', async () => {
    const path = (id: string) => `/api/v1/admin/documents/${id}/payload`;
    const badMoney = await call(path(dead[2]!), keys.admin, {
      method: 'POST',
      body: { payload: { ...withoutDate(2).payload, currency: 'XXX' } },
    });
    expect(badMoney.status).toBe(400);
    expect(badMoney.body.errors[0].path).toBe('payload.currency');
    expect((await call(path(good1[0]!), keys.admin, { method: 'POST', body: { payload: good(0).payload } })).status).toBe(409);
    expect((await call(path(dead[2]!), keys.writer, { method: 'POST', body: { payload: good(0).payload } })).status).toBe(403);
    expect((await call(path(dead[2]!), keys.otherAdmin, { method: 'POST', body: { payload: good(0).payload } })).status).toBe(404);
    expect(await statusOf(dead[2]!)).toBe('dead');
  });

  describe.skipIf(!existsSync(CHROMIUM))('in Chromium', () => {
    let browser: Browser;
    let page: Page;
    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });
    afterAll(async () => browser?.close());
    const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
    const figure = (label: string) => page.locator(`#figures dd[data-figure="${label}"]`);
    const detailFigure = (label: string) => page.locator(`#detail-figures dd[data-figure="${label}"]`);

    const prismoStatus = () =>
      new Promise<Record<string, number>>((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, 'status', '--json'], {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', MONGODB_URI: mongoUri!, MONGODB_DB: mongo.dbName },
        });
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
        });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`prismo status exited ${code}`))));
      });

    it('an operator sees the counts of prismo status, a dead document and its error, corrects it and sees it processed', async () => {
      page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      const consoleErrors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') consoleErrors.push(message.text());
      });
      await page.goto(`${url}/board`);
      await page.fill('#api-key', keys.operator);
      await page.click('#key-form button[type=submit]');
      await expect.poll(() => figure('Dead').textContent()).toBe('4');
      expect(await page.textContent('#who')).toBe('operator key: all tenants');

      const status = await prismoStatus();
      expect(await figure('Backlog').textContent()).toBe(String(status.backlog));
      expect(await figure('Failed').textContent()).toBe(String(status.failed));
      expect(await figure('Dead').textContent()).toBe(String(status.dead));
      expect(await figure('Processed (total)').textContent()).toBe(String(status.processed));
      expect(await figure('Mode').textContent()).toBe('change-stream+sweep');
      await expect.poll(() => page.locator('#documents tbody tr').count()).toBe(4);
      expect(await page.locator('#tenants tbody tr').count()).toBe(2);
      // The charts are drawn (uPlot, served by the gateway itself).
      expect(await page.locator('#chart-rates canvas').count()).toBe(1);
      await shot('overview');
      // The size of docs/board.jpg: the first screen, as an operator sees it.
      await page.screenshot({ path: `${ARTIFACTS}overview-first-screen.jpg`, type: 'jpeg', quality: 70 });

      await page.click(`#documents tbody tr[data-id="${dead[0]}"] button`);
      await expect.poll(() => detailFigure('Status').textContent()).toBe('dead');
      expect(await page.textContent('#detail-error')).toMatch(/occurredAt/);
      expect(JSON.parse((await page.textContent('#detail-payload'))!)).toEqual(withoutDate(0).payload);
      expect(await page.locator('#detail-logs tbody tr').count()).toBe(1);
      await shot('dead-document');

      // The cause: the payload lacked its date. Correct it on the page and replay.
      await page.click('#correct summary');
      await page.fill('#correct-json', JSON.stringify({ ...withoutDate(0).payload, occurredAt: '2026-11-24T12:00:00Z' }));
      await page.click('#correct-go');
      await expect.poll(() => detailFigure('Status').textContent(), { timeout: 30_000 }).toBe('processed');
      expect(await page.textContent('#detail-transaction')).toContain('"minor": "999"');
      expect(await page.locator('#detail-corrections li').count()).toBe(1);
      await shot('corrected-and-processed');
      expect(await pg.db.one("SELECT count(*)::int AS n FROM transactions WHERE external_id = 'bad-0'", [], (r) => r.n)).toBe(1);

      // A filtered set: a dry-run count first, a confirmation, then the replay (still bad, so dead again).
      await page.fill('#filters input[name=error]', 'occurredAt');
      await page.click('#filters button[type=submit]');
      await expect.poll(() => page.locator('#documents tbody tr').count()).toBe(2);
      await page.click('#replay-set');
      await expect.poll(() => page.textContent('#replay-confirm-text')).toMatch(/^Replay 2 documents/);
      await page.click('#replay-set-go');
      await expect.poll(() => page.textContent('#documents-message')).toBe('Replayed 2 of 2 documents.');
      await waitFor('both dead again after a second try', async () => (await mongo.logs.countDocuments({ outcome: 'dead' })) === 6);
      // One tenant at a time: the overview and the list follow the tenant filter.
      await page.fill('#filters input[name=error]', '');
      await page.fill('#filters input[name=tenant]', 'globex');
      await page.click('#filters button[type=submit]');
      await expect.poll(() => page.textContent('#who')).toBe('operator key: tenant globex');
      await expect.poll(() => figure('Dead').textContent()).toBe('1');
      await expect.poll(() => page.locator('#documents tbody tr').count()).toBe(1);
      await page.fill('#filters input[name=tenant]', '');
      await page.click('#filters button[type=submit]');
      await expect
        .poll(async () => (await page.textContent('#figures dd[data-figure="Processed (total)"]'))!, { timeout: 15_000 })
        .toBe('6');
      expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
    });

    it('a Stripe snapshot corrected on the page becomes a revision of its charge, listed with what it changed', async () => {
      const authorised = { ...stripe.charge, id: 'ch_board_revision' };
      const first = await post({ source: 'stripe', payload: authorised });
      // Captured for more than was authorised: refused, and dead at once (MAX_ATTEMPTS 1).
      const broken = await post({ source: 'stripe', payload: { ...authorised, captured: true, amount_captured: 500 } });
      await waitFor(
        'the authorisation processed, the capture dead',
        async () => (await statusOf(first)) === 'processed' && (await statusOf(broken)) === 'dead',
      );
      page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      await page.goto(`${url}/board`);
      await page.fill('#api-key', keys.admin);
      await page.click('#key-form button[type=submit]');
      await page.click(`#documents tbody tr[data-id="${broken}"] button`);
      await expect.poll(() => detailFigure('Status').textContent()).toBe('dead');
      await page.click('#correct summary');
      await page.fill('#correct-json', JSON.stringify({ ...authorised, captured: true, amount_captured: 100 }));
      await page.click('#correct-go');
      await expect.poll(() => detailFigure('Status').textContent(), { timeout: 30_000 }).toBe('processed');
      await expect.poll(() => page.locator('#detail-revisions tbody tr').count()).toBe(2);
      const rows = await page.locator('#detail-revisions tbody tr').allTextContents();
      expect(rows[0]).toContain(first);
      expect(rows[0]).toContain('created');
      expect(rows[1]).toContain(`${broken} (this one)`);
      expect(rows[1]).toContain('updated');
      expect(rows[1]).toContain('status: "pending" → "posted"');
      await shot('revisions');
      expect(await pg.db.one("SELECT count(*)::int AS n FROM transactions WHERE provider_ref = 'ch_board_revision'", [], (r) => r.n)).toBe(
        1,
      );
    });

    it('a key without the admin scope gets no data', async () => {
      page = await browser.newPage();
      const seen: string[] = [];
      page.on('response', async (response) => {
        if (response.url().includes('/api/')) seen.push(`${response.status()} ${await response.text()}`);
      });
      await page.goto(`${url}/board`);
      await page.fill('#api-key', keys.reader);
      await page.click('#key-form button[type=submit]');
      await expect.poll(() => page.textContent('#sign-in-error')).toMatch(/lacks the admin scope/);
      expect(await page.isHidden('#board')).toBe(true);
      expect(await page.locator('#figures dd').count()).toBe(0);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^403 /);
      expect(seen[0]).not.toMatch(/acc-1|bad-|good-/);
      await shot('non-admin');
    });

    it('the page is served with a policy that allows only its own scripts', async () => {
      const response = await fetch(`${url}/board`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(await response.text()).not.toMatch(/<script>|\son[a-z]+="/);
    });
  });
});
