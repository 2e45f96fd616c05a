// The benchmark harness still works: a seconds-long smoke run of every scenario. No figure is asserted
// beyond being a number; benchmarks are read by people, not by tests.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { mongoUri } from './support/databases.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe.skipIf(!mongoUri)('bench --smoke', () => {
  it('runs every scenario against its baseline and writes a JSON report', async () => {
    const out = await mkdtemp(join(tmpdir(), 'prismo-bench-smoke-'));
    try {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, MONGODB_URI: mongoUri!, DATABASE_URL: inject('pgServerUrl') },
        timeout: 240_000,
      });
      expect(stdout).toContain('ratios (same run):');
      const [file] = await readdir(out);
      const report = JSON.parse(await readFile(join(out, file!), 'utf8')) as {
        measurements: Array<{ scenario: string; throughput: number }>;
        ratios: Array<{ value: number }>;
      };
      expect(new Set(report.measurements.map((m) => m.scenario))).toEqual(new Set(['ingest', 'e2e latency', 'drain', 'webhooks']));
      expect(report.measurements.every((m) => Number.isFinite(m.throughput) && m.throughput > 0)).toBe(true);
      expect(report.ratios.length).toBeGreaterThanOrEqual(6);
      expect(report.ratios.every((r) => Number.isFinite(r.value))).toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
    // The run's own limit (240 s) is the bound: a loaded machine takes two minutes where a quiet one takes one.
  }, 300_000);
});
