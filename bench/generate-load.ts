// Runs the load generator (bench/loadgen.ts) in a process of its own, so it does not compete with the
// system for the bench process's event loop, and returns what it printed.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

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
