// Tenants in turn, on real servers: tenant A's single transactions, timed from the moment each request is
// sent to its row's commit (created_at is clock_timestamp()), alone and then while tenant B's backlog of
// 40,000 documents, just sent through the batch route, drains. A's p90 under B's backlog stays within
// max(1 s, 3 × A's p90 alone), measured in this same test; B's backlog is still processed exactly once.
import { describe, expect, it } from 'vitest';
import { mongoUri, waitFor } from './support/databases.js';
import { startProcessorProcess } from './support/processor-process.js';
import { useSystem } from './support/system.js';
import { postAs, tenantEnvelope } from './support/tenants.js';

const KEY_A = 'fair-a-key-0123456789abcdef';
const KEY_B = 'fair-b-key-0123456789abcdef';
const BACKLOG = 40_000;

const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.9) - 1]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!mongoUri)('fair share between tenants', () => {
  const sys = useSystem({
    API_KEYS: `tenant-a:${KEY_A},tenant-b:${KEY_B}`,
    POLL_INTERVAL_MS: '1000',
    RATE_LIMIT_PER_MINUTE: '1000000',
  });

  const post = postAs;
  const envelope = tenantEnvelope;

  /** A's transactions at 10/s, each timed from its send to its row's commit. */
  async function timeTenantA(url: string, from: number, count: number): Promise<number[]> {
    const sentAt = new Map<string, number>();
    for (let i = from; i < from + count; i++) {
      sentAt.set(`tenant-a-${i}`, Date.now());
      const response = await post(url, KEY_A, '/api/v1/transactions', envelope('tenant-a', i));
      expect(response.status).toBe(202);
      await sleep(100);
    }
    const ids = [...sentAt.keys()];
    const committed = async () =>
      sys.pg.db.map(
        "SELECT external_id, (extract(epoch FROM created_at) * 1000)::float8 AS ms FROM transactions WHERE tenant_id = 'tenant-a' AND external_id = ANY($1)",
        [ids],
        (row: { external_id: string; ms: number }) => row.ms - sentAt.get(row.external_id)!,
      );
    await waitFor(`${count} of tenant A's rows`, async () => (await committed()).length === count, { timeoutMs: 120_000 });
    return committed();
  }

  it("tenant A's p90 under tenant B's 40,000 backlog stays within max(1 s, 3 x A alone), and B's backlog is processed exactly", async () => {
    const front = await sys.start(['gateway', 'ingest']);
    const url = front.gatewayUrl!;
    const databases = { mongoDb: sys.mongo.dbName, pgUrl: sys.pg.url };
    // The processor in its own process, as deployed: the gateway's event loop (here, the test's) is not its.
    const processor = await startProcessorProcess(databases, { WORKER_ID: 'fair-1', POLL_INTERVAL_MS: '1000' });
    sys.defer(processor.kill);
    const alone = await timeTenantA(url, 0, 20);
    // B's backlog arrives through the batch route while the processor runs, four requests of a thousand
    // items at a time: faster than it drains, so a backlog builds, and A's transactions follow it.
    const bRows = () => sys.pg.db.one("SELECT count(*)::int AS n FROM transactions WHERE tenant_id = 'tenant-b'", [], (r) => r.n as number);
    for (let from = 0; from < BACKLOG; from += 4_000) {
      await Promise.all(
        [0, 1, 2, 3].map(async (k) => {
          const items = Array.from({ length: 1_000 }, (_, i) => envelope('tenant-b', from + k * 1_000 + i));
          const response = await post(url, KEY_B, '/api/v1/transactions/batch', { items });
          expect(response.status).toBe(207);
          expect(((await response.json()) as { accepted: number }).accepted).toBe(1_000);
        }),
      );
    }
    const bDoneAtStart = await bRows();
    const underLoad = await timeTenantA(url, 100, 20);
    // The measurement was taken while B's backlog drained, not after it.
    const bDoneByThen = await bRows();
    expect(bDoneAtStart).toBeLessThan(BACKLOG / 2);
    expect(bDoneByThen).toBeLessThan(BACKLOG);

    const bound = Math.max(1_000, 3 * p90(alone));
    // The figures, for the record (docs/processor.md quotes them), whether or not the bound holds.
    console.info(`tenant A's p90: alone ${p90(alone).toFixed(0)} ms, under B's backlog ${p90(underLoad).toFixed(0)} ms`);
    expect(
      p90(underLoad),
      `A alone p90 ${p90(alone).toFixed(0)} ms; under B's backlog ${p90(underLoad).toFixed(0)} ms`,
    ).toBeLessThanOrEqual(bound);

    await waitFor(
      "B's backlog processed",
      async () => (await sys.mongo.raw.countDocuments({ tenantId: 'tenant-b', processed: true })) === BACKLOG,
      { timeoutMs: 300_000, intervalMs: 250 },
    );
    const b = await sys.pg.db.one(
      "SELECT count(*)::int AS rows, count(DISTINCT raw_id)::int AS raw, sum(amount_minor)::text AS total FROM transactions WHERE tenant_id = 'tenant-b'",
    );
    expect(b).toEqual({ rows: BACKLOG, raw: BACKLOG, total: String((BACKLOG * (BACKLOG + 1)) / 2) });
  });
});
