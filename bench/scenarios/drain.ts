// Drain throughput: N raw documents pre-loaded, the processor started (`prismo process`, its own process),
// documents per second until the backlog is empty, and the processor's peak RSS. Baselines in the same
// run: two ceilings, one per database: PostgreSQL's (a bare multi-row INSERT of the same transformed rows,
// no MongoDB work) and MongoDB's (the processor's own MongoDB protocol alone: sweep, claim and read-back,
// mark, log, on the same documents, no PostgreSQL and no transform), and the floor, a naive processor that
// handles one document at a time.
import { ObjectId } from 'mongodb';
import { rawInputOf, transformRaw } from '../../src/mapping/transform/index.js';
import { BatchSizer } from '../../src/processor/batch-sizer.js';
import { writeTransactions } from '../../src/processor/transactions-writer.js';
import { claimBatch } from '../../src/raw-store/claim.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { findWaitingIds } from '../../src/raw-store/find-waiting.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { markProcessed } from '../../src/raw-store/mark-processed.js';
import { writeLogs } from '../../src/raw-store/write-logs.js';
import { waitFor } from '../../test/support/wait-for.js';
import { envelopeOf } from '../envelope.js';
import type { ScenarioResult } from '../report.js';
import {
  type BenchEnv,
  type Databases,
  freshDatabases,
  type MemoryProbe,
  percentile,
  processorNodeOptions,
  spawnProcessor,
} from '../support.js';

async function preload(dbs: Databases, count: number, padBytes: number): Promise<void> {
  for (let from = 0; from < count; from += 5_000) {
    const docs = Array.from(
      { length: Math.min(5_000, count - from) },
      (_, i) => newRawTransaction('bench', envelopeOf(from + i, padBytes)) as RawTransaction,
    );
    await dbs.mongo.raw.insertMany(docs, { ordered: false });
  }
}

async function drainWithProcessors(env: BenchEnv, count: number, processors: number, knobs: Record<string, string>, padBytes: number) {
  const dbs = await freshDatabases(env, `drain${processors}`);
  try {
    await preload(dbs, count, padBytes);
    const running = await Promise.all(Array.from({ length: processors }, (_, i) => spawnProcessor(env, dbs, `bench-${i}`, knobs)));
    const started = performance.now();
    // Progress is read from PostgreSQL (cheap beside the drain); then MongoDB, once, for the last marks.
    await waitFor(
      'every row written',
      async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number)) >= count,
      { timeoutMs: 3_600_000, intervalMs: 250 },
    );
    await waitFor('the backlog drained', async () => (await dbs.mongo.raw.countDocuments({ processed: true })) >= count, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    const seconds = (performance.now() - started) / 1000;
    const stopped = await Promise.all(running.map((p) => p.stop()));
    const rows = await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number);
    // The processor of highest peak: its RSS and, inside it, what the probe saw at that RSS.
    const top = stopped.reduce((a, b) => (b.peakMiB > a.peakMiB ? b : a));
    // Wasted claim work: ids offered to a claim that got nothing (another processor had them, or they were
    // done), per document processed.
    const offered = stopped.reduce((sum, p) => sum + p.batches.candidates, 0);
    const claimed = stopped.reduce((sum, p) => sum + p.batches.claimed, 0);
    const wastedPerDocument = (offered - claimed) / Math.max(1, count);
    return { rate: count / seconds, seconds, peakRssMiB: top.peakMiB, memory: top.memory, rows, wastedPerDocument };
  } finally {
    await dbs.drop();
  }
}

async function ceiling(env: BenchEnv, count: number, batchSize: number, padBytes: number) {
  const dbs = await freshDatabases(env, 'ceiling');
  try {
    const rows = Array.from({ length: count }, (_, i) => {
      const doc = { _id: new ObjectId(), ...newRawTransaction('bench', envelopeOf(i, padBytes)) } as RawTransaction;
      return transformRaw(rawInputOf(doc));
    });
    const started = performance.now();
    for (let i = 0; i < rows.length; i += batchSize) await writeTransactions(dbs.db, rows.slice(i, i + batchSize));
    return { rate: count / ((performance.now() - started) / 1000) };
  } finally {
    await dbs.drop();
  }
}

/**
 * The processor's MongoDB protocol alone, batch after batch as one slot does it: the sweep's page of
 * ids (as many as the processor's BatchSizer asks), the claim (updateMany + read-back by token), the mark,
 * the log entries. No transform, no PostgreSQL: what MongoDB allows the processor at most. Also times each
 * claim.
 */
async function mongoCeiling(env: BenchEnv, count: number, batchSize: number, maxBytes: number, padBytes: number) {
  const dbs = await freshDatabases(env, 'mongoceiling');
  try {
    await preload(dbs, count, padBytes);
    const claimMs: number[] = [];
    const sizer = new BatchSizer(batchSize, maxBytes);
    const started = performance.now();
    for (let batch = 0; ; batch++) {
      const ids = await findWaitingIds(dbs.mongo.raw, sizer.limit());
      if (ids.length === 0) break;
      const claimStarted = performance.now();
      const docs = await claimBatch(dbs.mongo.raw, ids, { worker: 'ceiling', leaseMs: 60_000, maxBytes });
      claimMs.push(performance.now() - claimStarted);
      sizer.observe(docs.map((doc) => doc.bytes));
      await markProcessed(
        dbs.mongo.raw,
        docs.map((doc) => doc.id),
      );
      await writeLogs(
        dbs.mongo.logs,
        docs.map((doc) => ({
          rawId: doc.id,
          tenantId: doc.raw.tenantId,
          outcome: 'processed' as const,
          batchId: `ceiling-${batch}`,
          durationMs: 0,
          latencyMs: 0,
        })),
        'ceiling',
      );
    }
    const sorted = [...claimMs].sort((a, b) => a - b);
    return { rate: count / ((performance.now() - started) / 1000), claimP50Ms: percentile(sorted, 50), claimP99Ms: percentile(sorted, 99) };
  } finally {
    await dbs.drop();
  }
}

/** One document at a time: read it, transform it, write its row, mark it, log it. */
async function floor(env: BenchEnv, count: number, padBytes: number) {
  const dbs = await freshDatabases(env, 'floor');
  try {
    await preload(dbs, count, padBytes);
    const started = performance.now();
    for (;;) {
      const doc = await dbs.mongo.raw.findOne({ processed: false });
      if (!doc) break;
      await writeTransactions(dbs.db, [transformRaw(rawInputOf(doc))]);
      await dbs.mongo.raw.updateOne({ _id: doc._id }, { $set: { processed: true, status: 'processed', processedAt: new Date() } });
      await dbs.mongo.logs.insertOne({
        _id: `naive:${doc._id.toHexString()}`,
        rawId: doc._id,
        tenantId: doc.tenantId,
        outcome: 'processed',
        durationMs: 0,
        latencyMs: 0,
        worker: 'naive',
        batchId: 'naive',
        at: new Date(),
      });
    }
    return { rate: count / ((performance.now() - started) / 1000) };
  } finally {
    await dbs.drop();
  }
}

/** Where the memory was at the peak: V8's heap (used of total), Buffers outside it, and the highest of each. */
const memoryNote = ({ atPeakRss: at, peaks }: MemoryProbe) =>
  `at it: heap ${at.heapUsed}/${at.heapTotal}, external ${at.external} (array buffers ${at.arrayBuffers}); ` +
  `peaks: heap used ${peaks.heapUsed}, external ${peaks.external} MiB`;

export async function drainScenario(
  env: BenchEnv,
  {
    documents,
    floorDocuments,
    processors,
    baselines,
    payloadBytes,
    knobs,
  }: {
    documents: number;
    floorDocuments: number;
    processors: number[];
    baselines: boolean;
    payloadBytes: number;
    knobs: Record<string, string>;
  },
): Promise<ScenarioResult> {
  // An unmeasured drain first: the development MongoDB's JVM compiles its hot paths over the first minute of
  // load, and would otherwise make the first drain measured (one processor, the reference of every ratio
  // here) the slowest for that alone.
  if (documents >= 20_000) await drainWithProcessors(env, Math.min(50_000, documents), 1, knobs, payloadBytes);
  const runs: Array<{ count: number; run: Awaited<ReturnType<typeof drainWithProcessors>> }> = [];
  for (const count of processors) runs.push({ count, run: await drainWithProcessors(env, documents, count, knobs, payloadBytes) });
  const one = runs[0]!.run;
  const processorRow = (count: number, run: typeof one) => ({
    scenario: 'drain',
    variant: `processor x${count}, ${documents} docs`,
    throughput: run.rate,
    unit: 'docs/s',
    peakRssMiB: run.peakRssMiB,
    notes: `${run.seconds.toFixed(1)} s, ${run.rows} rows; wasted claim ids per document ${run.wastedPerDocument.toFixed(3)}; RSS: the processor process's peak (${memoryNote(run.memory)}); node flags: ${processorNodeOptions() || 'none'}`,
  });
  const processorRows = runs.map(({ count, run }) => processorRow(count, run));
  const twoOverOne = runs.slice(1).flatMap(({ count, run }) => [
    { scenario: 'drain', what: `${count} processors / ${runs[0]!.count}: throughput`, value: run.rate / one.rate },
    // An absolute figure, not a ratio: with one processor nothing is wasted, so any ratio would be infinite.
    {
      scenario: 'drain',
      what: `${count} processors: wasted claim ids per document (1: ${one.wastedPerDocument.toFixed(3)})`,
      value: run.wastedPerDocument,
    },
  ]);
  if (!baselines) return { measurements: processorRows, ratios: twoOverOne };
  // The same drain first come, first served: what fair share costs a lone tenant. Fair, first come first
  // served, fair again (A-B-A), one right after the other, so drift on a noisy machine hits both alike; the
  // ratio takes the mean of the two fair drains. The first is the one-processor drain above when nothing ran
  // since, else a drain of its own.
  const fairBefore = runs.length === 1 ? one : await drainWithProcessors(env, documents, 1, knobs, payloadBytes);
  const fifo = await drainWithProcessors(env, documents, 1, { ...knobs, FAIR_SHARE: 'off' }, payloadBytes);
  const fairAgain = await drainWithProcessors(env, documents, 1, knobs, payloadBytes);
  const fairRate = (fairBefore.rate + fairAgain.rate) / 2;
  const batchSize = Number(knobs.BATCH_MAX_SIZE);
  const top = await ceiling(env, documents, batchSize, payloadBytes);
  const mongoTop = await mongoCeiling(env, documents, batchSize, Number(knobs.BATCH_MAX_BYTES), payloadBytes);
  const bottom = await floor(env, floorDocuments, payloadBytes);
  const measurements = [
    ...processorRows,
    ...(fairBefore === one ? [] : [{ ...processorRow(1, fairBefore), variant: `processor x1, ${documents} docs, before FAIR_SHARE=off` }]),
    { ...processorRow(1, fifo), variant: `processor x1, ${documents} docs, FAIR_SHARE=off` },
    { ...processorRow(1, fairAgain), variant: `processor x1, ${documents} docs, again after FAIR_SHARE=off` },
    {
      scenario: 'drain',
      variant: 'PostgreSQL ceiling: bare multi-row INSERT',
      throughput: top.rate,
      unit: 'rows/s',
      notes: 'no MongoDB work',
    },
    {
      scenario: 'drain',
      variant: `MongoDB ceiling: sweep, claim, mark, log (${documents} docs)`,
      throughput: mongoTop.rate,
      unit: 'docs/s',
      p50Ms: mongoTop.claimP50Ms,
      p99Ms: mongoTop.claimP99Ms,
      notes: 'no PostgreSQL, no transform; latency columns: one claim of a batch',
    },
    { scenario: 'drain', variant: `floor: naive one at a time (${floorDocuments})`, throughput: bottom.rate, unit: 'docs/s' },
  ];
  return {
    measurements,
    ratios: [
      { scenario: 'drain', what: 'processor / PostgreSQL ceiling', value: one.rate / top.rate },
      { scenario: 'drain', what: 'processor / MongoDB ceiling', value: one.rate / mongoTop.rate },
      { scenario: 'drain', what: 'processor / naive floor', value: one.rate / bottom.rate },
      ...twoOverOne,
      {
        scenario: 'drain',
        what: 'fair share (mean of the drains before and after) / first come first served (one tenant)',
        value: fairRate / fifo.rate,
      },
    ],
  };
}
