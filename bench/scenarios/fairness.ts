// Fair share under load: tenant A sends single transactions at 10/s (open loop, through the gateway) while
// tenant B's backlog of N documents (default 200,000, written into the raw store while the processor runs,
// so B's change events stand before A's) drains. A's latency, from each request's send to its row's commit,
// against A alone in the same run; B's drain rate against the same drain with no A; and the same load with
// FAIR_SHARE=off, first come first served, the design before.
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { waitFor } from '../../test/support/wait-for.js';
import { envelopeOf } from '../envelope.js';
import { generateLoad } from '../generate-load.js';
import type { Measurement, Ratio, ScenarioResult } from '../report.js';
import { BENCH_API_KEY, type BenchEnv, type Databases, freshDatabases, percentile, spawnProcessor, startBenchSystem } from '../support.js';

const A_RATE = 10;

async function tenantA(url: string, durationS: number): Promise<{ sentAt: Map<string, number>; shed: number; failed: number }> {
  const load = await generateLoad({ url, key: BENCH_API_KEY, rate: A_RATE, durationS, maxOutstanding: 64 });
  return { sentAt: new Map(load.accepted), shed: load.shed, failed: load.failed };
}

async function latenciesOf(dbs: Databases, sentAt: Map<string, number>): Promise<number[]> {
  const ids = [...sentAt.keys()];
  await waitFor(
    'every row of A',
    async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions WHERE raw_id = ANY($1)', [ids], (r) => r.n)) >= ids.length,
    {
      timeoutMs: 600_000,
      intervalMs: 250,
    },
  );
  const rows = await dbs.db.any<{ raw_id: string; ms: number }>(
    'SELECT raw_id, (extract(epoch FROM created_at) * 1000)::float8 AS ms FROM transactions WHERE raw_id = ANY($1)',
    [ids],
  );
  return rows.map((row) => row.ms - sentAt.get(row.raw_id)!).sort((a, b) => a - b);
}

/** B's backlog into the raw store, 5,000 at a time, while the processor runs. */
async function loadBacklog(dbs: Databases, count: number): Promise<void> {
  for (let from = 0; from < count; from += 5_000) {
    const docs = Array.from(
      { length: Math.min(5_000, count - from) },
      (_, i) => newRawTransaction('tenant-b', envelopeOf(from + i)) as RawTransaction,
    );
    await dbs.mongo.raw.insertMany(docs, { ordered: false });
  }
}

const bRows = (dbs: Databases) =>
  dbs.db.one("SELECT count(*)::int AS n FROM transactions WHERE tenant_id = 'tenant-b'", [], (r) => r.n as number);

/** One system: optionally A alone first, then B's backlog with (or without) A beside it. */
async function run(
  env: BenchEnv,
  knobs: Record<string, string>,
  { backlog, durationS, alone, withA }: { backlog: number; durationS: number; alone: boolean; withA: boolean },
) {
  const dbs = await freshDatabases(env, `fair_${knobs.FAIR_SHARE}`);
  const system = await startBenchSystem(env, dbs, ['gateway', 'ingest'], knobs);
  const processor = await spawnProcessor(env, dbs, 'fair', knobs);
  try {
    const aloneLatencies = alone ? await latenciesOf(dbs, (await tenantA(system.gatewayUrl!, durationS)).sentAt) : [];
    await loadBacklog(dbs, backlog);
    const started = performance.now();
    const a = withA ? await tenantA(system.gatewayUrl!, durationS) : undefined;
    await waitFor("B's backlog", async () => (await bRows(dbs)) >= backlog, { timeoutMs: 3_600_000, intervalMs: 250 });
    const drainRate = backlog / ((performance.now() - started) / 1000);
    return { aloneLatencies, underLoad: a ? await latenciesOf(dbs, a.sentAt) : [], drainRate, shed: a?.shed ?? 0 };
  } finally {
    await processor.stop();
    await system.stop();
    await dbs.drop();
  }
}

export async function fairnessScenario(
  env: BenchEnv,
  { backlog, durationS, knobs }: { backlog: number; durationS: number; knobs: Record<string, string> },
): Promise<ScenarioResult> {
  const fair = await run(env, { ...knobs, FAIR_SHARE: 'on' }, { backlog, durationS, alone: true, withA: true });
  const fifo = await run(env, { ...knobs, FAIR_SHARE: 'off' }, { backlog, durationS, alone: false, withA: true });
  const drainAlone = await run(env, { ...knobs, FAIR_SHARE: 'on' }, { backlog, durationS, alone: false, withA: false });
  const row = (variant: string, latencies: number[], notes: string): Measurement => ({
    scenario: 'fairness',
    variant,
    throughput: A_RATE,
    unit: 'tx/s offered (A)',
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
    p99Ms: percentile(latencies, 99),
    notes,
  });
  const measurements: Measurement[] = [
    row('tenant A alone', fair.aloneLatencies, `${fair.aloneLatencies.length} transactions; latency from send to commit`),
    row(`tenant A while B's ${backlog} drain, fair share`, fair.underLoad, `B drained at ${fair.drainRate.toFixed(0)} docs/s`),
    row(`tenant A while B's ${backlog} drain, first come first served`, fifo.underLoad, `B drained at ${fifo.drainRate.toFixed(0)} docs/s`),
    { scenario: 'fairness', variant: `B's ${backlog} alone (fair share on)`, throughput: drainAlone.drainRate, unit: 'docs/s' },
  ];
  const ratios: Ratio[] = [
    {
      scenario: 'fairness',
      what: "A's p99 under B's backlog / alone (fair share)",
      value: percentile(fair.underLoad, 99) / percentile(fair.aloneLatencies, 99),
    },
    {
      scenario: 'fairness',
      what: "A's p99 under B's backlog / alone (first come first served)",
      value: percentile(fifo.underLoad, 99) / percentile(fair.aloneLatencies, 99),
    },
    { scenario: 'fairness', what: "B's drain with A beside it / alone", value: fair.drainRate / drainAlone.drainRate },
  ];
  return { measurements, ratios };
}
