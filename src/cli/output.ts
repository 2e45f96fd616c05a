// What the CLI prints for people: a status table, and progress that is a live line on a terminal and
// plain lines otherwise (logs, CI).

import { setTimeout as sleep } from 'node:timers/promises';
import { MONGO_DEADLINES_MS, readWithin } from '../db/mongo.js';
import { drainProgress, type PipelineStatus } from '../raw-store/backlog.js';
import type { MongoCollections } from '../raw-store/collections.js';

const age = (seconds: number) =>
  seconds < 90 ? `${seconds.toFixed(1)} s` : seconds < 5_400 ? `${(seconds / 60).toFixed(1)} min` : `${(seconds / 3_600).toFixed(1)} h`;

export function formatStatus(status: PipelineStatus): string {
  const lines = [
    `backlog                 ${status.backlog}`,
    `oldest unprocessed age  ${status.backlog ? age(status.oldestUnprocessedAgeSeconds) : '-'}`,
    `failed (will retry)     ${status.failed}`,
    `dead                    ${status.dead}`,
    `processed               ${status.processed}`,
    ...(status.checkpoints.length
      ? status.checkpoints.map((c) => `checkpoint ${c.group.padEnd(12)} ${age(c.ageSeconds)} old (by ${c.worker})`)
      : ['checkpoint              none stored (sweep only, or nothing processed yet)']),
    '',
    `per tenant, last ${status.windowSeconds} s:`,
    `  ${'tenant'.padEnd(24)} ${'accepted/s'.padStart(10)} ${'processed/s'.padStart(11)} ${'backlog'.padStart(8)}`,
    ...status.tenants.map(
      (t) =>
        `  ${t.tenantId.padEnd(24)} ${t.acceptedPerSecond.toFixed(2).padStart(10)} ${t.processedPerSecond.toFixed(2).padStart(11)} ${String(t.backlog).padStart(8)}`,
    ),
  ];
  return lines.join('\n');
}

export function progressReporter(verb: string, stream: NodeJS.WriteStream = process.stderr) {
  let last = '';
  return {
    update: (done: number, total: number) => {
      last = `${verb} ${done}/${total} (${total ? Math.round((done / total) * 100) : 100}%)`;
      if (stream.isTTY) stream.write(`\r${last}`);
      else stream.write(`${last}\n`);
    },
    done: () => {
      if (stream.isTTY && last) stream.write('\n');
    },
  };
}

/** Follows the backlog as it drains: one line per interval (a live line on a terminal). */
export async function watchDrain(
  mongo: MongoCollections,
  { untilEmpty, intervalMs, stream = process.stderr }: { untilEmpty: boolean; intervalMs: number; stream?: NodeJS.WriteStream },
): Promise<void> {
  let previous: { backlog: number; processed: number; at: number } | undefined;
  for (;;) {
    const { backlog, processed } = await readWithin(MONGO_DEADLINES_MS.command, (bound) => drainProgress(mongo, bound));
    const at = Date.now();
    const rate = previous ? ((processed - previous.processed) * 1000) / (at - previous.at) : 0;
    const eta = rate > 0 ? `${Math.ceil(backlog / rate)} s to empty` : backlog ? 'no progress' : 'empty';
    const line = `backlog ${backlog}, processed ${processed}, ${rate.toFixed(0)} docs/s, ${eta}`;
    stream.write(stream.isTTY ? `\r${line.padEnd(72)}` : `${line}\n`);
    if (untilEmpty && backlog === 0) break;
    previous = { backlog, processed, at };
    await sleep(intervalMs);
  }
  if (stream.isTTY) stream.write('\n');
}
