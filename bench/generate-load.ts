// Runs the load generator (bench/loadgen.ts) in a process of its own, so it does not compete with the
// system for the bench process's event loop, and returns what it printed.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Database } from '../src/db/postgres.js';
import { waitFor } from '../test/support/wait-for.js';
import { percentile, rowsCommitted } from './support.js';

const LOADGEN = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

export interface LoadSpec {
  url: string;
  key: string;
  rate: number;
  durationS: number;
  maxOutstanding: number;
}

export interface Load {
  /** Each accepted id, with the wall-clock time its request was sent. */
  accepted: Array<[string, number]>;
  failed: number;
  shed: number;
  /** Per second: [offered, accepted, shed, failed]. */
  perSecond: Array<[number, number, number, number]>;
  cpuSeconds: number;
  elapsedMs: number;
}

export async function generateLoad(spec: LoadSpec): Promise<Load> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', LOADGEN, JSON.stringify(spec)], {
    maxBuffer: 256 * 1_048_576,
  });
  return JSON.parse(stdout) as Load;
}

/**
 * Seconds of load each e2e and webhooks run sends, unmeasured, right after its processes start: the processor
 * is a new process in every run, and its first seconds go to compiling its hot paths and opening its
 * connections (measured at 1,000/s: latencies up to 0.9 s in the first 2.5 s, then p99 about 100 ms). A
 * deployment's processors run for days; the measured window is their steady state, and each run prints what
 * the warm-up saw, so the cold start stays in view.
 */
export const WARM_UP_S = 3;

export interface WarmUp {
  /** How long it sent load: WARM_UP_S, or the run's own duration when shorter (the smoke run's second). */
  seconds: number;
  /** The documents the warm-up's requests stored: left out of the measured run's figures. */
  ids: Set<string>;
  /** Their send → commit p99, or null when none was accepted. */
  p99Ms: number | null;
}

/** Sends WARM_UP_S of load (at most the run's `durationS`) at `rate` and waits until each accepted document has its row in `db`. */
export async function warmUp(spec: LoadSpec, db: Database): Promise<WarmUp> {
  const seconds = Math.min(WARM_UP_S, spec.durationS);
  const load = await generateLoad({ ...spec, durationS: seconds });
  const sentAt = new Map(load.accepted);
  const rows = await waitFor(
    'every warm-up row',
    async () => {
      const committed = (await rowsCommitted(db)).filter((row) => sentAt.has(row.raw_id));
      return committed.length >= sentAt.size ? committed : null;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
  const latencies = rows.map((row) => row.ms - sentAt.get(row.raw_id)!).sort((a, b) => a - b);
  return { seconds, ids: new Set(sentAt.keys()), p99Ms: latencies.length > 0 ? percentile(latencies, 99) : null };
}
