// Ingest: single-transaction POSTs with keep-alive at fixed concurrency (autocannon), against a bare Node
// http server doing only insertOne of the same document into the same MongoDB; and the batch endpoint
// against a bare insertMany. The gateway runs twice: as shipped (concurrent POSTs stored together,
// INGEST_COALESCE_MAX_DOCS=256) and with each POST its own insertOne as the bare server does
// (INGEST_COALESCE_MAX_DOCS=1), the figure that shows what storing POSTs together buys (docs/benchmarks.md,
// "Current figures", ingest).
import { createServer, type Server } from 'node:http';
import autocannon from 'autocannon';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { envelopeOf } from '../envelope.js';
import type { ScenarioResult } from '../report.js';
import { BENCH_API_KEY, type BenchEnv, freshDatabases, startBenchSystem } from '../support.js';

async function load(url: string, body: string, { connections, durationS }: { connections: number; durationS: number }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
    body,
    connections,
    duration: durationS,
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

/** The baseline: parse JSON, insert what ingestion inserts, answer 202; nothing else. */
async function startBareServer(raw: import('mongodb').Collection<RawTransaction>): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items?: unknown[] };
      const write = body.items
        ? raw
            .insertMany(body.items.map((item) => newRawTransaction('bench', item as never) as RawTransaction))
            .then(() => ({ accepted: body.items!.length }))
        : raw
            .insertOne(newRawTransaction('bench', body as never) as RawTransaction)
            .then(({ insertedId }) => ({ id: insertedId.toHexString() }));
      write.then(
        (answer) => {
          response.writeHead(202, { 'content-type': 'application/json' });
          response.end(JSON.stringify(answer));
        },
        () => {
          response.writeHead(503);
          response.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

export async function ingestScenario(
  env: BenchEnv,
  { durationS, connections, batchItems }: { durationS: number; connections: number; batchItems: number },
): Promise<ScenarioResult> {
  const dbs = await freshDatabases(env, 'ingest');
  const system = await startBenchSystem(env, dbs, ['gateway', 'ingest']);
  const oneEach = await startBenchSystem(env, dbs, ['gateway', 'ingest'], {
    INGEST_COALESCE_MAX_DOCS: '1',
    // Its own PostgreSQL connection name: pg-promise warns of two database objects for one connection.
    WORKER_ID: 'bench-one-each',
  });
  const bare = await startBareServer(dbs.mongo.raw);
  try {
    const single = JSON.stringify(envelopeOf(1));
    const batch = JSON.stringify({ items: Array.from({ length: batchItems }, (_, i) => envelopeOf(i)) });
    // Each subject twice with half the duration each: drift on a noisy machine (and MongoDB's growing
    // collections) hits subjects and baseline alike; each figure is the mean of its two runs.
    const half = { connections, durationS: Math.max(1, durationS / 2) };
    const batchOptions = { connections: Math.max(2, connections / 8), durationS: Math.max(1, durationS / 2) };
    type Run = Awaited<ReturnType<typeof load>>;
    const mean = (runs: Run[]) => ({
      rps: runs.reduce((sum, r) => sum + r.rps, 0) / runs.length,
      p50: runs.reduce((sum, r) => sum + r.p50, 0) / runs.length,
      p99: Math.max(...runs.map((r) => r.p99)),
      non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
    });
    /** Each subject twice, in palindromic order (A-B-C-C-B-A): drift hits every subject alike. */
    const palindrome = async <T extends Array<() => Promise<Run>>>(...subjects: T) => {
      const runs = subjects.map((): Run[] => []);
      for (const i of [...subjects.keys(), ...[...subjects.keys()].reverse()]) runs[i]!.push(await subjects[i]!());
      return runs.map(mean) as { [K in keyof T]: ReturnType<typeof mean> };
    };
    const singleUrl = (app: { gatewayUrl?: string }) => `${app.gatewayUrl}/api/v1/transactions`;
    // Unmeasured first: the development MongoDB's JVM and this process's JIT speed up over the first
    // seconds of load, and only the first run would pay for it (a cold gateway run measured
    // 1,637 req/s against 2,559 warm in the same minute).
    const warm = { connections, durationS: Math.max(1, Math.min(3, durationS / 2)) };
    for (const url of [singleUrl(system), singleUrl(oneEach), bare.url, singleUrl(system), singleUrl(oneEach), bare.url])
      await load(url, single, warm);
    const [gateway, gatewayOneEach, baseline] = await palindrome(
      () => load(singleUrl(system), single, half),
      () => load(singleUrl(oneEach), single, half),
      () => load(bare.url, single, half),
    );
    const [gatewayBatch, baselineBatch] = await palindrome(
      () => load(`${system.gatewayUrl}/api/v1/transactions/batch`, batch, batchOptions),
      () => load(bare.url, batch, batchOptions),
    );
    const note = (r: { non2xx: number; errors: number }) => (r.non2xx || r.errors ? `${r.non2xx} non-2xx, ${r.errors} errors` : '');
    return {
      measurements: [
        {
          scenario: 'ingest',
          variant: 'gateway POST as shipped (auth, zod, quotas, POSTs stored together)',
          throughput: gateway.rps,
          unit: 'req/s',
          p50Ms: gateway.p50,
          p99Ms: gateway.p99,
          notes: note(gateway),
        },
        {
          scenario: 'ingest',
          variant: 'gateway POST, one insertOne each (INGEST_COALESCE_MAX_DOCS=1)',
          throughput: gatewayOneEach.rps,
          unit: 'req/s',
          p50Ms: gatewayOneEach.p50,
          p99Ms: gatewayOneEach.p99,
          notes: note(gatewayOneEach),
        },
        {
          scenario: 'ingest',
          variant: 'baseline: bare http + insertOne',
          throughput: baseline.rps,
          unit: 'req/s',
          p50Ms: baseline.p50,
          p99Ms: baseline.p99,
          notes: note(baseline),
        },
        {
          scenario: 'ingest',
          variant: `gateway batch x${batchItems}`,
          throughput: gatewayBatch.rps * batchItems,
          unit: 'tx/s',
          p50Ms: gatewayBatch.p50,
          p99Ms: gatewayBatch.p99,
          notes: note(gatewayBatch),
        },
        {
          scenario: 'ingest',
          variant: `baseline: bare insertMany x${batchItems}`,
          throughput: baselineBatch.rps * batchItems,
          unit: 'tx/s',
          p50Ms: baselineBatch.p50,
          p99Ms: baselineBatch.p99,
          notes: note(baselineBatch),
        },
      ],
      ratios: [
        { scenario: 'ingest', what: 'gateway / bare insertOne (req/s)', value: gateway.rps / baseline.rps },
        { scenario: 'ingest', what: 'gateway, one insertOne each / bare insertOne (req/s)', value: gatewayOneEach.rps / baseline.rps },
        { scenario: 'ingest', what: 'gateway batch / bare insertMany (tx/s)', value: gatewayBatch.rps / baselineBatch.rps },
        { scenario: 'ingest', what: 'batch / single (tx/s)', value: (gatewayBatch.rps * batchItems) / gateway.rps },
      ],
    };
  } finally {
    await new Promise((resolve) => bare.server.close(resolve));
    await oneEach.stop();
    await system.stop();
    await dbs.drop();
  }
}
