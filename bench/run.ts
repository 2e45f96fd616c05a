// `npm run bench`: starts what it needs on loopback, runs each scenario against its baseline in the same
// run, prints a table and writes the results as JSON under bench/results/. Not part of `npm test`
// (which only runs `--smoke` to prove the harness works). See docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEnv } from '../src/config/config.js';
import { profileInto, summariseProfiles } from './cpu-profiles.js';
import { formatTables, type ScenarioResult } from './report.js';
import { drainScenario } from './scenarios/drain.js';
import { e2eLatencyScenario } from './scenarios/e2e-latency.js';
import { fairnessScenario } from './scenarios/fairness.js';
import { ingestScenario } from './scenarios/ingest.js';
import { reconcileScenario } from './scenarios/reconcile.js';
import { webhooksScenario } from './scenarios/webhooks.js';
import { startBenchEnv } from './support.js';

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    only: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    rates: { type: 'string' },
    repeats: { type: 'string' },
    documents: { type: 'string' },
    million: { type: 'boolean', default: false },
    'payload-kib': { type: 'string' },
    'two-processors': { type: 'boolean', default: false },
    processors: { type: 'string' },
    'no-baselines': { type: 'boolean', default: false },
    out: { type: 'string' },
    'reconcile-sizes': { type: 'string' },
    'cpu-prof': { type: 'string' },
    'webhook-in-flight': { type: 'string' },
  },
});

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const smoke = values.smoke ?? false;
const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : Number(text));
const settings = {
  durationS: number(values.duration, smoke ? 1 : 10),
  connections: number(values.connections, smoke ? 4 : 32),
  rates: (values.rates ?? (smoke ? '50' : '100,500,1000')).split(',').map(Number),
  /** The e2e scenario's runs of the pipeline at each rate; its verdict is their median. */
  repeats: number(values.repeats, smoke ? 1 : 3),
  documents: values.million ? 1_000_000 : number(values.documents, smoke ? 1_000 : 200_000),
  floorDocuments: smoke ? 100 : 2_000,
  batchItems: smoke ? 10 : 100,
  /** How many processors drain the backlog, one drain per count (`--processors 1,2,4`; --two-processors: 1,2). */
  processors: smoke ? [1] : (values.processors ?? (values['two-processors'] ? '1,2' : '1')).split(',').map(Number),
  /** The drain's processor runs alone, without its ceilings and floor (for before/after comparisons). */
  baselines: !(values['no-baselines'] ?? false),
  /** The fairness scenario: tenant B's backlog, and how long tenant A sends at 10/s each time. */
  fairnessBacklog: number(values.documents, 200_000),
  fairnessDurationS: number(values.duration, 20),
  /** Metadata added to each drained document: large documents, against BATCH_MAX_BYTES. */
  payloadBytes: number(values['payload-kib'], 0) * 1024,
  /** The reconciliation scenario's documents (full runs), the last with an incremental run on top. */
  reconcileSizes: (values['reconcile-sizes'] ?? '200000,1000000').split(',').map(Number),
  /** The webhooks scenario: its rates (beside the e2e figures of the same runs) and its backlog. */
  webhookRates: (values.rates ?? (smoke ? '50' : '100,1000')).split(',').map(Number),
  webhookBacklog: smoke ? 500 : 20_000,
  /** The webhooks scenario's endpoint: each row once per maxInFlight (1: one at a time, in order; more: several at once). */
  webhookInFlight: (values['webhook-in-flight'] ?? (smoke ? '1' : '1,8')).split(',').map(Number),
};
// Not in the smoke run: fairness (a 200,000 backlog) and reconcile (it waits a minute before its incremental run).
const scenarios = (values.only ?? (smoke ? 'drain,ingest,e2e,webhooks' : 'drain,ingest,e2e,webhooks,fairness,reconcile')).split(',');
// The processor's knobs are the product's defaults unless the environment sets them (BATCH_MAX_SIZE=… npm run bench).
const defaults = parseEnv();
const knobs = {
  BATCH_MAX_SIZE: String(defaults.BATCH_MAX_SIZE),
  BATCH_MAX_BYTES: String(defaults.BATCH_MAX_BYTES),
  BATCH_MAX_WAIT_MS: String(defaults.BATCH_MAX_WAIT_MS),
  BATCH_CONCURRENCY: String(defaults.BATCH_CONCURRENCY),
  POLL_INTERVAL_MS: String(defaults.POLL_INTERVAL_MS),
  PG_POOL_MAX: String(defaults.PG_POOL_MAX),
};

// The drain runs the compiled processor (`prismo process`): build it, unless this is the test suite's smoke
// run, whose global setup has just built it (a second build would rewrite dist/ under other suites' feet).
if (!smoke || !existsSync(join(ROOT, 'dist/src/cli/main.js'))) {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
}

// CPU profiles of our processes (the processor, the deliverer, the bench process's measured windows).
if (values['cpu-prof']) {
  await mkdir(values['cpu-prof'], { recursive: true });
  profileInto(values['cpu-prof']);
}

const env = await startBenchEnv({
  DATABASE_URL: process.env.DATABASE_URL,
  MONGODB_URI: process.env.MONGODB_URI,
  MONGOMS_SYSTEM_BINARY: process.env.MONGOMS_SYSTEM_BINARY,
});
const machine = {
  cores: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgresql: env.pgVersion,
  mongodb: `${env.mongoKind} (reports ${env.mongoVersion})`,
};
console.log(`machine: ${JSON.stringify(machine)}\nknobs: ${JSON.stringify({ ...knobs, ...settings })}\n`);

const all: ScenarioResult = { measurements: [], ratios: [] };
try {
  for (const scenario of scenarios) {
    const startedAt = Date.now();
    let result: ScenarioResult;
    if (scenario === 'ingest') result = await ingestScenario(env, settings);
    else if (scenario === 'e2e') result = await e2eLatencyScenario(env, { ...settings, knobs });
    else if (scenario === 'drain') result = await drainScenario(env, { ...settings, knobs });
    else if (scenario === 'fairness')
      result = await fairnessScenario(env, { backlog: settings.fairnessBacklog, durationS: settings.fairnessDurationS, knobs });
    else if (scenario === 'reconcile') result = await reconcileScenario(env, { sizes: settings.reconcileSizes, knobs });
    else if (scenario === 'webhooks')
      result = await webhooksScenario(env, {
        rates: settings.webhookRates,
        durationS: settings.durationS,
        backlog: settings.webhookBacklog,
        inFlight: settings.webhookInFlight,
        repeats: settings.repeats,
        knobs,
      });
    else throw new Error(`unknown scenario "${scenario}" (ingest, e2e, drain, fairness, reconcile, webhooks)`);
    all.measurements.push(...result.measurements);
    all.ratios.push(...result.ratios);
    console.log(`[${scenario}] done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  }
} finally {
  await env.stop();
}

console.log(`\n${formatTables(all)}`);
if (values['cpu-prof']) console.log(`\n${await summariseProfiles()}`);
const dir = values.out ?? fileURLToPath(new URL('./results/', import.meta.url));
await mkdir(dir, { recursive: true });
const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}${smoke ? '-smoke' : ''}.json`);
await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), machine, knobs, settings, ...all }, null, 2)}\n`);
console.log(`\nresults: ${file}`);
