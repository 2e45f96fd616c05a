// End-to-end latency at fixed arrival rates, open loop: from the moment each request is sent to its row's
// commit in PostgreSQL (the row's created_at is clock_timestamp() in the inserting statement), so it cannot
// be negative. A run that shed requests or accepted less than 98 % of the offered rate did not keep up and
// gets no latency verdict. For the real pipeline (change stream + sweep) and for poll-only mode, the design
// we started from (change stream off, the default POLL_INTERVAL_MS); and where the CPU went.

import { waitFor } from '../../test/support/wait-for.js';
import { cpuPerDocument, cpuReading, formatCpu, formatPerDocument } from '../cpu.js';
import { profileThisProcess } from '../cpu-profiles.js';
import { generateLoad, warmUp } from '../generate-load.js';
import type { Measurement, Ratio, ScenarioResult } from '../report.js';
import {
  BENCH_API_KEY,
  type BenchEnv,
  batchesSince,
  formatBatches,
  freshDatabases,
  median,
  percentile,
  rowsCommitted,
  spawnProcessor,
  startBenchSystem,
} from '../support.js';

const MAX_OUTSTANDING = 256;

/** Below this share of the offered rate accepted, a run did not keep up. */
const KEPT_UP = 0.98;

async function runOnce(env: BenchEnv, mode: 'stream' | 'poll-only', rate: number, durationS: number, knobs: Record<string, string>) {
  const dbs = await freshDatabases(env, `e2e_${mode.replace('-', '')}_${rate}`);
  const modeKnobs = { ...knobs, CHANGE_STREAM: mode === 'stream' ? 'on' : 'off' };
  // Gateway and ingestion here, the processor in a process of its own (`prismo process`), as deployed:
  // sharing one event loop, the processor's batches delayed the 202s and the 202s the batches.
  const system = await startBenchSystem(env, dbs, ['gateway', 'ingest'], modeKnobs);
  let processor: Awaited<ReturnType<typeof spawnProcessor>> | undefined;
  try {
    processor = await spawnProcessor(env, dbs, `e2e-${mode}`, modeKnobs);
    // The generator runs in its own process (bench/loadgen.ts), so it does not compete with the system
    // for this process's event loop. The new processor's first seconds first, not measured (WARM_UP_S).
    const warm = await warmUp({ url: system.gatewayUrl!, key: BENCH_API_KEY, rate, durationS, maxOutstanding: MAX_OUTSTANDING }, dbs.db);
    const cpu = await cpuReading();
    const batchesBefore = { ...processor.batches };
    const profile = await profileThisProcess(`bench-e2e-${mode}-${rate}`);
    const load = await generateLoad({ url: system.gatewayUrl!, key: BENCH_API_KEY, rate, durationS, maxOutstanding: MAX_OUTSTANDING });
    const sentAt = new Map(load.accepted);
    const { failed, shed } = load;
    const achieved = sentAt.size / (load.elapsedMs / 1000);
    await waitFor(
      'every accepted row',
      async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)) >= sentAt.size + warm.ids.size,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const cpuByRole = { ...(await cpu.since()), 'load generator': load.cpuSeconds };
    const batches = batchesSince(batchesBefore, processor.batches);
    await profile.stop();
    const rows = (await rowsCommitted(dbs.db)).filter((row) => sentAt.has(row.raw_id));
    const latencies = rows.map((row) => row.ms - sentAt.get(row.raw_id)!).sort((a, b) => a - b);
    const keptUp = shed === 0 && failed === 0 && achieved >= KEPT_UP * rate;
    const cpuPerDoc = cpuPerDocument(cpuByRole, sentAt.size);
    return { achieved, latencies, failed, shed, keptUp, cpuByRole, cpuPerDoc, batches, perSecond: load.perSecond, warmUp: warm };
  } finally {
    await processor?.stop();
    await system.stop();
    await dbs.drop();
  }
}

type Run = Awaited<ReturnType<typeof runOnce>>;

/** One run's row: a latency verdict only when it kept up. */
function runRow(mode: 'stream' | 'poll-only', rate: number, result: Run, label: string): Measurement {
  // A run that did not keep up has no latency to quote: its figures describe an overload.
  const latency = result.keptUp
    ? { p50Ms: percentile(result.latencies, 50), p95Ms: percentile(result.latencies, 95), p99Ms: percentile(result.latencies, 99) }
    : {};
  // The second that accepted the smallest share of what it offered (by the second each request was sent):
  // the fewest accepted would pick the run's last, partial second (a request or two sent after the 10th).
  const seconds = result.perSecond.filter((s): s is [number, number, number, number] => Boolean(s) && s[0] > 0);
  const worstSecond = seconds.reduce((worst, s) => (s[1] * worst[0] < worst[1] * s[0] ? s : worst), seconds[0] ?? [0, 0, 0, 0]);
  return {
    scenario: 'e2e latency',
    variant: `${mode === 'stream' ? 'change stream + sweep' : 'poll-only (5 s sweep)'} @ ${rate}/s offered${label}`,
    throughput: result.achieved,
    unit: 'tx/s accepted',
    ...latency,
    notes: [
      result.keptUp
        ? 'kept up; latency from send to commit'
        : `DID NOT KEEP UP (accepted ${((100 * result.achieved) / rate).toFixed(1)} % of offered): no latency verdict`,
      `${result.shed} shed (>${MAX_OUTSTANDING} outstanding), ${result.failed} errors`,
      `slowest second (least accepted of offered): offered ${worstSecond[0]}, accepted ${worstSecond[1]}`,
      `warm-up (the processor's first ${result.warmUp.seconds} s, not measured): p99 ${result.warmUp.p99Ms?.toFixed(1) ?? '-'} ms`,
      `CPU: ${formatCpu(result.cpuByRole)}`,
      `CPU per document: ${formatPerDocument(result.cpuPerDoc)}`,
      `the processor's batches: ${formatBatches(result.batches)}`,
    ].join('; '),
  };
}

/**
 * The repeated runs at one rate as one row: each percentile the median of the runs' own, and only when
 * every run kept up (one that did not is an overload at this rate, whatever the others say).
 */
function medianRow(rate: number, runs: Run[]): Measurement {
  const kept = runs.filter((run) => run.keptUp).length;
  const all = kept === runs.length;
  const of = (p: number) => median(runs.map((run) => percentile(run.latencies, p)));
  const perDoc = Object.fromEntries(
    Object.keys(runs[0]!.cpuPerDoc).map((name) => [name, median(runs.map((run) => run.cpuPerDoc[name] ?? Number.NaN))]),
  );
  return {
    scenario: 'e2e latency',
    variant: `change stream + sweep @ ${rate}/s offered, median of ${runs.length} runs`,
    throughput: median(runs.map((run) => run.achieved)),
    unit: 'tx/s accepted',
    ...(all ? { p50Ms: of(50), p95Ms: of(95), p99Ms: of(99) } : {}),
    notes: `${
      all
        ? `kept up in every run; p99 of each run: ${runs.map((run) => percentile(run.latencies, 99).toFixed(1)).join(', ')} ms`
        : `DID NOT KEEP UP in ${runs.length - kept} of ${runs.length} runs: no latency verdict`
    }; CPU per document, medians: ${formatPerDocument(perDoc)}`,
  };
}

export async function e2eLatencyScenario(
  env: BenchEnv,
  { rates, durationS, repeats, knobs }: { rates: number[]; durationS: number; repeats: number; knobs: Record<string, string> },
): Promise<ScenarioResult> {
  const measurements: Measurement[] = [];
  const ratios: Ratio[] = [];
  // Warm-up, not measured: the development MongoDB is a JVM, whose first seconds under load go to compiling
  // its hot paths (measured: the first 1,000/s run after a fresh start had p99 924 ms, the same run right
  // after it 287 ms). mongod has no such phase, so no measured run should include it.
  await runOnce(env, 'stream', Math.max(...rates), Math.min(durationS, 5), knobs);
  for (const rate of rates) {
    // The pipeline `repeats` times at each rate: on these machines one run's tail moves by several times
    // between neighbouring runs (500/s: p99 802, 152 and 106 ms in three runs of one morning), so the
    // verdict is the median run's, with every run shown.
    const streamRuns: Run[] = [];
    for (let i = 0; i < repeats; i++) {
      const result = await runOnce(env, 'stream', rate, durationS, knobs);
      streamRuns.push(result);
      measurements.push(runRow('stream', rate, result, repeats > 1 ? `, run ${i + 1} of ${repeats}` : ''));
    }
    if (repeats > 1) measurements.push(medianRow(rate, streamRuns));
    const pollOnly = await runOnce(env, 'poll-only', rate, durationS, knobs);
    measurements.push(runRow('poll-only', rate, pollOnly, ''));
    if (streamRuns.every((run) => run.keptUp) && pollOnly.keptUp) {
      ratios.push({
        scenario: 'e2e latency',
        what: `poll-only p50 / stream p50 (median of ${repeats}) @ ${rate}/s`,
        value: median(pollOnly.latencies) / median(streamRuns.map((run) => median(run.latencies))),
      });
    }
  }
  return { measurements, ratios };
}
