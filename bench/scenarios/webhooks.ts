// Webhook delivery beside the end-to-end run that feeds it: at each offered rate, the gateway takes
// transactions (open loop, bench/loadgen.ts), the processor writes them (their transaction.processed events
// in the same commit) and a deliverer (`prismo serve --role deliverer`, its own process) posts each event to
// a receiver in a process of its own. Reported: send → row commit (the e2e figure of this same run), row
// commit → delivered (the row's created_at is clock_timestamp() in its inserting statement, so this is an
// upper bound of commit → delivery) and the events delivered per second; then a backlog delivered as fast
// as it goes, against the processor's rate of recording the same events; and the deliverer alone, fed
// events straight into the outbox at each rate (the whole pipeline does not take 1,000/s on two cores).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey } from '../../src/gateway/api-key-store.js';
import { insertEvents } from '../../src/pg-store/insert-events.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { waitFor } from '../../test/support/wait-for.js';
import { cpuPerDocument, cpuReading, formatCpu, formatPerDocument } from '../cpu.js';
import { profileThisProcess } from '../cpu-profiles.js';
import { generateLoad, warmUp } from '../generate-load.js';
import type { Measurement, Ratio, ScenarioResult } from '../report.js';
import {
  BENCH_API_KEY,
  type BenchEnv,
  type Databases,
  freshDatabases,
  median,
  percentile,
  rowsCommitted,
  spawnDeliverer,
  spawnProcessor,
  startBenchSystem,
} from '../support.js';

const RECEIVER = fileURLToPath(new URL('../receiver.ts', import.meta.url));
const MAX_OUTSTANDING = 256;
const KEPT_UP = 0.98;
/** Deliveries kept up when the last event arrived within this long of the last row's commit. */
const DELIVERY_SLACK_MS = 1000;

interface Receiver {
  url: string;
  report(): Promise<{ received: Array<[string, string, number]>; cpuSeconds: number }>;
  stop(): void;
}

async function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', RECEIVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    report: () =>
      new Promise((resolve) => {
        child.once('message', resolve as (m: unknown) => void);
        child.send('report');
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

/** The receiver's report once it has `count` distinct events. */
function allDelivered(receiver: Receiver, count: number, timeoutMs: number) {
  return waitFor(
    'every event delivered',
    async () => {
      const report = await receiver.report();
      return new Set(report.received.map((r) => r[0])).size >= count ? report : null;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** An endpoint of the bench tenant taking transaction.processed, posted `maxInFlight` at once, created over the API. */
async function subscribe(gateway: string, dbs: Databases, url: string, maxInFlight: number): Promise<void> {
  const accept = acceptCollections(dbs.mongo.db);
  await ensureAcceptIndexes(accept);
  const admin = (await createApiKey(accept, 'bench', ['admin'])).key;
  const response = await fetch(`${gateway}/api/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ url, events: ['transaction.processed'], maxInFlight }),
  });
  if (response.status !== 201) throw new Error(`creating the endpoint: ${response.status} ${await response.text()}`);
}

const webhookKnobs = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' };

/** One rate: load for `durationS`, then every row and every delivery waited for. */
async function runAtRate(env: BenchEnv, rate: number, durationS: number, knobs: Record<string, string>, maxInFlight: number) {
  const dbs = await freshDatabases(env, `webhooks_${rate}_${maxInFlight}`);
  const system = await startBenchSystem(env, dbs, ['gateway', 'ingest'], { ...knobs, ...webhookKnobs });
  const receiver = await startReceiver();
  const stops: Array<() => Promise<unknown>> = [];
  try {
    await subscribe(system.gatewayUrl!, dbs, receiver.url, maxInFlight);
    const processor = await spawnProcessor(env, dbs, `webhooks-${rate}`, knobs);
    stops.push(() => processor.stop());
    const deliverer = await spawnDeliverer(dbs, `deliverer-${rate}`);
    stops.push(() => deliverer.stop());
    // The new processor's and deliverer's first seconds, not measured (WARM_UP_S), each event delivered.
    const warm = await warmUp({ url: system.gatewayUrl!, key: BENCH_API_KEY, rate, durationS, maxOutstanding: MAX_OUTSTANDING }, dbs.db);
    const before = await allDelivered(receiver, warm.ids.size, 180_000);
    const cpu = await cpuReading();
    const profile = await profileThisProcess(`bench-webhooks-${rate}`);
    const load = await generateLoad({ url: system.gatewayUrl!, key: BENCH_API_KEY, rate, durationS, maxOutstanding: MAX_OUTSTANDING });
    const sentAt = new Map(load.accepted);
    await waitFor(
      'every accepted row',
      async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)) >= sentAt.size + warm.ids.size,
      {
        timeoutMs: 120_000,
        intervalMs: 250,
      },
    );
    const report = await allDelivered(receiver, sentAt.size + warm.ids.size, 180_000);
    const cpuByRole = {
      ...(await cpu.since()),
      'load generator': load.cpuSeconds,
      'webhook receiver': report.cpuSeconds - before.cpuSeconds,
    };
    await profile.stop();
    const committed = new Map((await rowsCommitted(dbs.db)).filter((row) => sentAt.has(row.raw_id)).map((r) => [r.raw_id, r.ms]));
    const measured = report.received.filter(([, documentId]) => sentAt.has(documentId));
    const firstArrival = new Map<string, number>();
    for (const [, documentId, at] of measured) if (!firstArrival.has(documentId)) firstArrival.set(documentId, at);
    const sorted = (values: number[]) => values.sort((a, b) => a - b);
    const e2e = sorted([...committed].map(([id, ms]) => ms - sentAt.get(id)!));
    const delay = sorted([...firstArrival].map(([id, at]) => at - committed.get(id)!));
    const total = sorted([...firstArrival].map(([id, at]) => at - sentAt.get(id)!));
    const arrivals = sorted([...firstArrival.values()]);
    const lastCommit = Math.max(...committed.values());
    const achieved = sentAt.size / (load.elapsedMs / 1000);
    const acceptKeptUp = load.shed === 0 && load.failed === 0 && achieved >= KEPT_UP * rate;
    const deliveryKeptUp = arrivals.at(-1)! - lastCommit <= DELIVERY_SLACK_MS;
    return {
      achieved,
      load,
      e2e,
      delay,
      total,
      delivered: firstArrival.size,
      duplicates: measured.length - firstArrival.size,
      warmUp: warm,
      deliveredPerSecond: firstArrival.size / ((arrivals.at(-1)! - arrivals[0]!) / 1000),
      lagAtEndMs: arrivals.at(-1)! - lastCommit,
      keptUp: acceptKeptUp && deliveryKeptUp,
      acceptKeptUp,
      cpuByRole,
      cpuPerDoc: cpuPerDocument(cpuByRole, sentAt.size),
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    receiver.stop();
    await system.stop();
    await dbs.drop();
  }
}

/**
 * The deliverer alone at a rate the whole pipeline cannot offer on this machine: events recorded straight
 * into the outbox at `rate` per second (a transaction of rate/50 events every 20 ms, as the processor's
 * batches would record them, each with a transaction's data), delivered to one endpoint.
 */
async function runRecorded(env: BenchEnv, rate: number, durationS: number, knobs: Record<string, string>, maxInFlight: number) {
  const dbs = await freshDatabases(env, `webhooks_recorded_${rate}_${maxInFlight}`);
  const system = await startBenchSystem(env, dbs, ['gateway'], { ...knobs, ...webhookKnobs });
  const receiver = await startReceiver();
  let deliverer: Awaited<ReturnType<typeof spawnDeliverer>> | undefined;
  try {
    await subscribe(system.gatewayUrl!, dbs, receiver.url, maxInFlight);
    deliverer = await spawnDeliverer(dbs, `deliverer-recorded-${rate}`);
    const cpu = await cpuReading();
    const perTick = Math.max(1, Math.round(rate / 50));
    const ticks = durationS * 50;
    const started = Date.now();
    for (let tick = 0; tick < ticks; tick++) {
      const events = Array.from({ length: perTick }, (_, i) => {
        const rawId = randomBytes(12).toString('hex');
        return {
          id: `evt_${randomBytes(12).toString('hex')}`,
          tenant_id: 'bench',
          type: 'transaction.processed' as const,
          raw_id: rawId,
          data: viewOf(rawId, tick * perTick + i),
        };
      });
      await insertEvents(dbs.db, events);
      const next = started + (tick + 1) * 20;
      if (next > Date.now()) await new Promise((resolve) => setTimeout(resolve, next - Date.now()));
    }
    const recordedS = (Date.now() - started) / 1000;
    const count = ticks * perTick;
    const report = await allDelivered(receiver, count, 300_000);
    const cpuByRole = { ...(await cpu.since()), 'webhook receiver': report.cpuSeconds };
    const created = new Map(
      (await dbs.db.any<{ id: string; ms: number }>('SELECT id, (extract(epoch FROM created) * 1000)::float8 AS ms FROM events')).map(
        (e) => [e.id, e.ms],
      ),
    );
    const delay = report.received.map(([id, , at]) => at - created.get(id)!).sort((a, b) => a - b);
    const lagAtEndMs = report.received.at(-1)![2] - Math.max(...created.values());
    return { recordedPerSecond: count / recordedS, count, delay, lagAtEndMs, keptUp: lagAtEndMs <= DELIVERY_SLACK_MS, cpuByRole };
  } finally {
    await deliverer?.stop();
    receiver.stop();
    await system.stop();
    await dbs.drop();
  }
}

/** A transaction as the feed shows one: what a processed event carries. */
const viewOf = (id: string, n: number) => ({
  id,
  source: 'generic',
  externalId: null,
  account: 'acc-1',
  counterparty: null,
  direction: 'credit',
  amount: { minor: String(n + 1), value: ((n + 1) / 100).toFixed(2), currency: 'EUR' },
  status: 'posted',
  description: 'Benchmark transaction',
  category: null,
  occurredAt: '2026-11-24T00:00:00.000Z',
  bookedAt: null,
  receivedAt: new Date().toISOString(),
  createdAt: new Date().toISOString(),
  metadata: {},
  revisions: [],
});

/** A backlog of `count` events recorded while no deliverer runs, then delivered as fast as one deliverer goes. */
async function runBacklog(env: BenchEnv, count: number, knobs: Record<string, string>, maxInFlight: number) {
  const dbs = await freshDatabases(env, `webhooks_backlog_${maxInFlight}`);
  const system = await startBenchSystem(env, dbs, ['gateway', 'ingest'], { ...knobs, ...webhookKnobs });
  const receiver = await startReceiver();
  try {
    await subscribe(system.gatewayUrl!, dbs, receiver.url, maxInFlight);
    for (let from = 0; from < count; from += 5_000) {
      const docs = Array.from({ length: Math.min(5_000, count - from) }, (_, i) =>
        newRawTransaction('bench', {
          source: 'generic',
          payload: { account: `acc-${i % 50}`, amountMinor: from + i + 1, currency: 'EUR', occurredAt: '2026-11-24T00:00:00Z' },
        }),
      ) as RawTransaction[];
      await dbs.mongo.raw.insertMany(docs, { ordered: false });
    }
    const processor = await spawnProcessor(env, dbs, 'webhooks-backlog', knobs);
    const recordingStarted = Date.now();
    await waitFor(
      'every event recorded',
      async () => (await dbs.db.one('SELECT count(*)::int AS n FROM events', [], (r) => r.n)) >= count,
      {
        timeoutMs: 600_000,
        intervalMs: 250,
      },
    );
    const recordedPerSecond = count / ((Date.now() - recordingStarted) / 1000);
    await processor.stop();
    const cpu = await cpuReading();
    const deliverer = await spawnDeliverer(dbs, 'deliverer-backlog');
    // From the moment it runs (its start-up, about a second of loading modules, is not delivery).
    const started = Date.now();
    const report = await allDelivered(receiver, count, 600_000);
    const deliveredPerSecond = count / ((report.received.at(-1)![2] - started) / 1000);
    const cpuByRole = { ...(await cpu.since()), 'webhook receiver': report.cpuSeconds };
    await deliverer.stop();
    return { recordedPerSecond, deliveredPerSecond, cpuByRole };
  } finally {
    receiver.stop();
    await system.stop();
    await dbs.drop();
  }
}

/** How the endpoint takes its events, for the rows' labels. */
const delivery = (maxInFlight: number) => (maxInFlight === 1 ? 'one at a time (maxInFlight 1, the default)' : `maxInFlight ${maxInFlight}`);

/** The whole pipeline at `rate`, delivering to an endpoint that takes `maxInFlight` at once: one run's row. */
async function pipelineRow(
  env: BenchEnv,
  rate: number,
  durationS: number,
  knobs: Record<string, string>,
  maxInFlight: number,
  run: string,
) {
  const ms = (values: number[]) => `p50 ${percentile(values, 50).toFixed(0)} / p99 ${percentile(values, 99).toFixed(0)} ms`;
  const r = await runAtRate(env, rate, durationS, knobs, maxInFlight);
  const measurement: Measurement = {
    scenario: 'webhooks',
    variant: `commit → delivered @ ${rate}/s offered, ${delivery(maxInFlight)}${run}`,
    throughput: r.deliveredPerSecond,
    unit: 'events/s delivered',
    ...(r.keptUp ? { p50Ms: percentile(r.delay, 50), p95Ms: percentile(r.delay, 95), p99Ms: percentile(r.delay, 99) } : {}),
    notes: [
      r.keptUp
        ? 'kept up; latency from the row commit to the receiver'
        : `DID NOT KEEP UP (accepted ${((100 * r.achieved) / rate).toFixed(1)} % of offered, ${r.load.shed} shed; last event ${r.lagAtEndMs} ms after the last commit): no latency verdict`,
      `same run's e2e send → commit ${ms(r.e2e)}${r.acceptKeptUp ? '' : ' (accepting did not keep up)'}`,
      `send → delivered ${ms(r.total)}`,
      `${r.delivered} events, ${r.duplicates} duplicates`,
      `warm-up (the new processes' first ${r.warmUp.seconds} s, not measured): send → commit p99 ${r.warmUp.p99Ms?.toFixed(1) ?? '-'} ms`,
      `CPU: ${formatCpu(r.cpuByRole)}`,
      `CPU per document: ${formatPerDocument(r.cpuPerDoc)}`,
    ].join('; '),
  };
  return {
    measurement,
    keptUp: r.keptUp,
    p99Ms: r.keptUp ? percentile(r.delay, 99) : undefined,
    e2eP99Ms: percentile(r.e2e, 99),
    deliveredPerSecond: r.deliveredPerSecond,
  };
}

/**
 * The pipeline rows of one rate: `repeats` runs of each endpoint setting, interleaved (1, 8, 1, 8, …) so that
 * neither setting always runs first; then each setting's verdict: kept up in every run, and its median p99.
 */
async function pipelineRows(env: BenchEnv, rate: number, options: WebhooksOptions) {
  const { durationS, knobs, inFlight, repeats } = options;
  const runs = new Map(inFlight.map((n) => [n, [] as Awaited<ReturnType<typeof pipelineRow>>[]]));
  const measurements: Measurement[] = [];
  for (let i = 0; i < repeats; i++)
    for (const maxInFlight of inFlight) {
      const run = await pipelineRow(env, rate, durationS, knobs, maxInFlight, repeats > 1 ? `, run ${i + 1} of ${repeats}` : '');
      runs.get(maxInFlight)!.push(run);
      measurements.push(run.measurement);
    }
  const ratios: Ratio[] = [];
  for (const [maxInFlight, results] of runs) {
    const keptUp = results.filter((r) => r.keptUp).length;
    const all = keptUp === results.length;
    const p99 = median(results.map((r) => r.p99Ms ?? Number.POSITIVE_INFINITY));
    measurements.push({
      scenario: 'webhooks',
      variant: `commit → delivered @ ${rate}/s offered, ${delivery(maxInFlight)}: the ${results.length} runs`,
      throughput: median(results.map((r) => r.deliveredPerSecond)),
      unit: 'events/s delivered (median of the runs)',
      ...(all ? { p99Ms: p99 } : {}),
      notes: all
        ? `kept up in every run; p99 the median of the runs' (${results.map((r) => r.p99Ms!.toFixed(0)).join(', ')} ms)`
        : `DID NOT KEEP UP in ${results.length - keptUp} of ${results.length} runs: no latency verdict`,
    });
    if (all)
      ratios.push({
        scenario: 'webhooks',
        what: `delivery p99 / e2e p99 @ ${rate}/s, ${delivery(maxInFlight)} (median runs)`,
        value: p99 / median(results.map((r) => r.e2eP99Ms)),
      });
  }
  return { measurements, ratios };
}

/** The deliverer alone, fed `rate` events a second straight into the outbox. */
async function recordedRow(env: BenchEnv, rate: number, durationS: number, knobs: Record<string, string>, maxInFlight: number) {
  const r = await runRecorded(env, rate, durationS, knobs, maxInFlight);
  return {
    scenario: 'webhooks',
    variant: `deliverer alone: recorded → delivered @ ${rate}/s recorded, ${delivery(maxInFlight)}`,
    throughput: r.recordedPerSecond,
    unit: 'events/s recorded',
    ...(r.keptUp ? { p50Ms: percentile(r.delay, 50), p95Ms: percentile(r.delay, 95), p99Ms: percentile(r.delay, 99) } : {}),
    notes: [
      r.keptUp ? "kept up; latency from the event's recording to the receiver" : 'DID NOT KEEP UP: no latency verdict',
      `last event ${r.lagAtEndMs.toFixed(0)} ms after the last recorded`,
      `${r.count} events`,
      `CPU: ${formatCpu(r.cpuByRole)}`,
    ].join('; '),
  } satisfies Measurement;
}

interface WebhooksOptions {
  rates: number[];
  durationS: number;
  backlog: number;
  knobs: Record<string, string>;
  /** The endpoint's settings, each row once per setting (`--webhook-in-flight`). */
  inFlight: number[];
  /** The pipeline runs per rate and setting (`--repeats`). */
  repeats: number;
}

/**
 * Each row once per endpoint setting in `inFlight` (`--webhook-in-flight`, default 1,8): one at a time in the
 * feed's order, the default, and posted several at once, which gives the order up.
 */
export async function webhooksScenario(env: BenchEnv, options: WebhooksOptions): Promise<ScenarioResult> {
  const { rates, durationS, backlog, knobs, inFlight } = options;
  const measurements: Measurement[] = [];
  const ratios: Ratio[] = [];
  // Warm-up, not measured: the development MongoDB's JVM compiles its hot paths in its first seconds under
  // load (as in the e2e scenario). As long as a measured run: after 5 s, the first measured run took half
  // again the stand-in's CPU of the next and shed load, in two sittings of two.
  await runAtRate(env, Math.max(...rates), durationS, knobs, 1);
  for (const rate of rates) {
    const rows = await pipelineRows(env, rate, options);
    measurements.push(...rows.measurements);
    ratios.push(...rows.ratios);
  }
  for (const rate of rates)
    for (const maxInFlight of inFlight) measurements.push(await recordedRow(env, rate, durationS, knobs, maxInFlight));
  for (const maxInFlight of inFlight) {
    const b = await runBacklog(env, backlog, knobs, maxInFlight);
    measurements.push({
      scenario: 'webhooks',
      variant: `backlog of ${backlog} events, one deliverer, one endpoint, ${delivery(maxInFlight)}`,
      throughput: b.deliveredPerSecond,
      unit: 'events/s delivered',
      notes: `the processor recorded them at ${b.recordedPerSecond.toFixed(0)}/s; CPU: ${formatCpu(b.cpuByRole)}`,
    });
    ratios.push({
      scenario: 'webhooks',
      what: `backlog delivered/s / events recorded/s (same documents), ${delivery(maxInFlight)}`,
      value: b.deliveredPerSecond / b.recordedPerSecond,
    });
  }
  return { measurements, ratios };
}
