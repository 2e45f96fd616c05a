// What the CLI prints for people: a status table, and progress that is a live line on a terminal and
// plain lines otherwise (logs, CI).
import type { PipelineStatus } from '../ops/pipeline-status.js';

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
      (t) => `  ${t.tenantId.padEnd(24)} ${t.acceptedPerSecond.toFixed(2).padStart(10)} ${t.processedPerSecond.toFixed(2).padStart(11)} ${String(t.backlog).padStart(8)}`,
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
