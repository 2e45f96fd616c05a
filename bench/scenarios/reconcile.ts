// Reconciliation's cost: N documents received over 25 closed days, drained by the processor (the drain's
// documents/s in the same run: the baseline), then a full `prismo reconcile --mode full` in its own process
// (documents/s, peak RSS); on the largest N, 10,000 documents more on yesterday, drained, and an incremental
// run, timed against the full one.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { waitFor } from '../../test/support/wait-for.js';
import { envelopeOf } from '../envelope.js';
import type { Measurement, Ratio, ScenarioResult } from '../report.js';
import { type BenchEnv, type Databases, freshDatabases, type MemoryProbe, spawnProcessor } from '../support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAY_MS = 86_400_000;
const DAYS = 25;
const INCREMENT = 10_000;

/** `count` documents received over the DAYS closed days before yesterday (an import of history: ObjectIds of now). */
async function preload(dbs: Databases, count: number, from: number, day?: number): Promise<void> {
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  for (let start = 0; start < count; start += 5_000) {
    const docs = Array.from({ length: Math.min(5_000, count - start) }, (_, k) => {
      const i = from + start + k;
      const daysAgo = day ?? 2 + (i % DAYS);
      return newRawTransaction('bench', envelopeOf(i), new Date(today - daysAgo * DAY_MS + (i % 86_000) * 1000)) as RawTransaction;
    });
    await dbs.mongo.raw.insertMany(docs, { ordered: false });
  }
}

async function drain(env: BenchEnv, dbs: Databases, total: number, knobs: Record<string, string>) {
  const processor = await spawnProcessor(env, dbs, 'reconcile-bench', { ...knobs, RECONCILE_INTERVAL_SECONDS: '0' });
  const before = await dbs.mongo.raw.countDocuments({ processed: true });
  const started = performance.now();
  // Progress from PostgreSQL (cheap beside the drain), then MongoDB once for the last marks.
  await waitFor(
    'every row written',
    async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number)) >= total,
    {
      timeoutMs: 3_600_000,
      intervalMs: 250,
    },
  );
  await waitFor('the backlog drained', async () => (await dbs.mongo.raw.countDocuments({ processed: false })) === 0, {
    timeoutMs: 60_000,
    intervalMs: 50,
  });
  const seconds = (performance.now() - started) / 1000;
  await processor.stop();
  return { rate: (total - before) / seconds, seconds };
}

/** `prismo reconcile --mode <mode> --json` in its own process: wall time, peak RSS (bench/memory-probe.mjs), what it found. */
async function reconcileProcess(env: BenchEnv, dbs: Databases, mode: 'full' | 'incremental') {
  const probeFile = join(tmpdir(), `prismo-reconcile-${process.pid}-${randomBytes(3).toString('hex')}.json`);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(join(ROOT, 'bench/memory-probe.mjs')).href,
      join(ROOT, 'bin/prismo.js'),
      'reconcile',
      '--mode',
      mode,
      '--json',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        MONGODB_URI: env.mongoUri,
        MONGODB_DB: dbs.mongoDb,
        DATABASE_URL: dbs.pgUrl,
        LOG_LEVEL: 'warn',
        NODE_OPTIONS: '',
        PRISMO_MEMORY_PROBE: probeFile,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const processSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`prismo reconcile --mode ${mode} exited ${code}: ${out.slice(0, 500)}`);
  const found = JSON.parse(out) as { days: Array<{ accepted: number }>; mismatches: unknown[] };
  const memory = JSON.parse(await readFile(probeFile, 'utf8')) as MemoryProbe;
  await rm(probeFile, { force: true });
  const documents = found.days.reduce((sum, day) => sum + day.accepted, 0);
  // The run's own time as it recorded it (the process's start-up, about a second, is in `processSeconds`).
  const run = await dbs.db.one<{ seconds: number }>(
    'SELECT extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM reconciliation_runs ORDER BY id DESC LIMIT 1',
  );
  return {
    seconds: run.seconds,
    processSeconds,
    documents,
    days: found.days.length,
    mismatches: found.mismatches.length,
    peakRssMiB: memory.peaks.rss,
  };
}

export async function reconcileScenario(
  env: BenchEnv,
  { sizes, knobs }: { sizes: number[]; knobs: Record<string, string> },
): Promise<ScenarioResult> {
  const measurements: Measurement[] = [];
  const ratios: Ratio[] = [];
  for (const size of sizes) {
    const dbs = await freshDatabases(env, `reconcile${size}`);
    try {
      await preload(dbs, size, 0);
      const drained = await drain(env, dbs, size, knobs);
      // An incremental run looks back one minute before the last run's start (for clocks that differ): the
      // full run it follows starts a minute after the drain, as it would hours after, not seconds.
      if (size === Math.max(...sizes)) await new Promise((resolve) => setTimeout(resolve, 61_000));
      const full = await reconcileProcess(env, dbs, 'full');
      if (full.documents !== size || full.mismatches !== 0)
        throw new Error(`full run: ${full.documents} documents, ${full.mismatches} mismatches`);
      measurements.push(
        {
          scenario: 'reconcile',
          variant: `drain of ${size} docs (baseline)`,
          throughput: drained.rate,
          unit: 'docs/s',
          notes: `${drained.seconds.toFixed(1)} s`,
        },
        {
          scenario: 'reconcile',
          variant: `full run, ${size} docs over ${full.days} days`,
          throughput: full.documents / full.seconds,
          unit: 'docs/s',
          peakRssMiB: full.peakRssMiB,
          notes: `${full.seconds.toFixed(1)} s (process ${full.processSeconds.toFixed(1)} s), ${full.mismatches} mismatches; own process (prismo reconcile --mode full)`,
        },
      );
      ratios.push({
        scenario: 'reconcile',
        what: `full run / drain, documents per second (${size})`,
        value: full.documents / full.seconds / drained.rate,
      });
      if (size !== Math.max(...sizes)) continue;
      await preload(dbs, INCREMENT, size, 1);
      await drain(env, dbs, size + INCREMENT, knobs);
      const incremental = await reconcileProcess(env, dbs, 'incremental');
      if (incremental.documents !== INCREMENT || incremental.mismatches !== 0)
        throw new Error(`incremental run: ${incremental.documents} documents, ${incremental.mismatches} mismatches`);
      measurements.push({
        scenario: 'reconcile',
        variant: `incremental run after ${INCREMENT} new docs on ${size}`,
        throughput: incremental.documents / incremental.seconds,
        unit: 'docs/s',
        peakRssMiB: incremental.peakRssMiB,
        notes: `${incremental.seconds.toFixed(2)} s (process ${incremental.processSeconds.toFixed(1)} s), ${incremental.days} day redone`,
      });
      ratios.push({
        scenario: 'reconcile',
        what: `incremental run / full run, time (${size} + ${INCREMENT})`,
        value: incremental.seconds / full.seconds,
      });
    } finally {
      await dbs.drop();
    }
  }
  return { measurements, ratios };
}
