// A processor's memory follows its settings, not what the documents weigh: `prismo process` as deployed
// (docker-compose.yml's Node flags), its own process, drains 200 MiB of 200 KiB documents arriving through
// the change stream while it runs, and its peak RSS, read from the kernel, stays under the bound
// docs/operations.md states for its BATCH_MAX_BYTES and BATCH_CONCURRENCY.
import { describe, expect, it } from 'vitest';
import { processorMemoryBoundMiB } from '../../src/processor/memory-bound.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { mongoUri, waitFor } from '../support/databases.js';
import { peakRssMiB } from '../support/peak-rss.js';
import { startProcessorProcess } from '../support/processor-process.js';
import { useSystem } from '../support/system.js';

const MiB = 2 ** 20;

describe.skipIf(!mongoUri || process.platform !== 'linux')('processor memory', () => {
  const sys = useSystem();

  it('holding large documents, a processor stays under the bound its byte budget sets', async () => {
    const settings = { BATCH_MAX_BYTES: String(2 * MiB), BATCH_CONCURRENCY: '2' };
    const processor = await startProcessorProcess(
      { mongoDb: sys.mongo.dbName, pgUrl: sys.pg.url },
      { WORKER_ID: 'memory', POLL_INTERVAL_MS: '500', ...settings },
    );
    sys.defer(processor.kill);

    // 1,000 documents of 200 KiB (200 MiB, far more than the bound) sent while it runs, 10 MiB at a time.
    const count = 1_000;
    for (let from = 0; from < count; from += 50) {
      const docs = Array.from(
        { length: 50 },
        (_, i) =>
          newRawTransaction('acme', {
            source: 'generic',
            payload: {
              account: 'acc-1',
              amountMinor: from + i + 1,
              currency: 'EUR',
              occurredAt: '2026-11-24T10:00:00Z',
              metadata: { pad: 'x'.repeat(200 * 1024) },
            },
          }) as RawTransaction,
      );
      await sys.mongo.raw.insertMany(docs);
    }
    await waitFor(
      'every document processed',
      async () => (await sys.pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number)) === count,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const peak = await peakRssMiB(processor.child.pid!);
    const bound = processorMemoryBoundMiB({ batchMaxBytes: 2 * MiB, batchConcurrency: 2 });
    console.log(`[memory] peak ${peak.toFixed(1)} MiB, bound ${bound}, ${process.version}`);
    expect(peak, `peak RSS ${peak.toFixed(1)} MiB, bound ${bound} MiB`).toBeLessThanOrEqual(bound);
    expect(await processor.stop()).toBe(0);
  });
});
