// End-to-end latency at fixed arrival rates: from the 202 to the row committed in PostgreSQL (the row's
// created_at is clock_timestamp() at insert), for the real pipeline (change stream + sweep) and for
// poll-only mode, the design we started from (change stream off, the default POLL_INTERVAL_MS).

import { waitFor } from '../../test/support/wait-for.js';
import type { Measurement, Ratio, ScenarioResult } from '../report.js';
import { BENCH_API_KEY, type BenchEnv, envelopeOf, freshDatabases, median, percentile, startBenchSystem } from '../support.js';

const MAX_OUTSTANDING = 256;

async function runOnce(env: BenchEnv, mode: 'stream' | 'poll-only', rate: number, durationS: number, knobs: Record<string, string>) {
  const dbs = await freshDatabases(env, `e2e_${mode.replace('-', '')}_${rate}`);
  const system = await startBenchSystem(env, dbs, ['gateway', 'ingest', 'processor'], {
    ...knobs,
    CHANGE_STREAM: mode === 'stream' ? 'on' : 'off',
  });
  const acceptedAt = new Map<string, number>();
  let failed = 0;
  try {
    const total = Math.round(rate * durationS);
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    // Open loop: requests leave on schedule whether or not earlier ones have been answered, up to
    // MAX_OUTSTANDING; beyond that the generator sheds them (counted) rather than pile up sockets.
    let shed = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        if (inFlight.size >= MAX_OUTSTANDING) {
          shed++;
          continue;
        }
        const i = sent;
        const request = fetch(`${system.gatewayUrl}/api/v1/transactions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
          body: JSON.stringify(envelopeOf(i)),
        })
          .then(async (response) => {
            const at = Date.now();
            if (response.status !== 202) failed++;
            else acceptedAt.set(((await response.json()) as { id: string }).id, at);
          })
          .catch(() => void failed++)
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inFlight);
    const achieved = acceptedAt.size / ((performance.now() - started) / 1000);
    await waitFor(
      'every accepted row',
      async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)) >= acceptedAt.size,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const rows = await dbs.db.any<{ raw_id: string; ms: number }>(
      'SELECT raw_id, (extract(epoch FROM created_at) * 1000)::float8 AS ms FROM transactions',
    );
    const latencies = rows.map((row) => row.ms - acceptedAt.get(row.raw_id)!).sort((a, b) => a - b);
    return { achieved, latencies, failed, shed };
  } finally {
    await system.stop();
    await dbs.drop();
  }
}

export async function e2eLatencyScenario(
  env: BenchEnv,
  { rates, durationS, knobs }: { rates: number[]; durationS: number; knobs: Record<string, string> },
): Promise<ScenarioResult> {
  const measurements: Measurement[] = [];
  const ratios: Ratio[] = [];
  for (const rate of rates) {
    const results: Record<string, Awaited<ReturnType<typeof runOnce>>> = {};
    for (const mode of ['stream', 'poll-only'] as const) {
      const result = await runOnce(env, mode, rate, durationS, knobs);
      results[mode] = result;
      measurements.push({
        scenario: 'e2e latency',
        variant: `${mode === 'stream' ? 'change stream + sweep' : 'poll-only (5 s sweep)'} @ ${rate}/s`,
        throughput: result.achieved,
        unit: 'tx/s accepted',
        p50Ms: percentile(result.latencies, 50),
        p95Ms: percentile(result.latencies, 95),
        p99Ms: percentile(result.latencies, 99),
        notes: [
          result.failed ? `${result.failed} not accepted` : '',
          result.shed ? `${result.shed} shed (>${MAX_OUTSTANDING} outstanding)` : '',
        ]
          .filter(Boolean)
          .join(', '),
      });
    }
    ratios.push({
      scenario: 'e2e latency',
      what: `poll-only p50 / stream p50 @ ${rate}/s`,
      value: median(results['poll-only']!.latencies) / median(results.stream!.latencies),
    });
  }
  return { measurements, ratios };
}
