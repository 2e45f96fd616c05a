// The log lines are one subscriber of the events; ops/alerts.yml sends operators to some of them by their words.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ReconcileEvents } from './events.js';
import { logReconcileEvents } from './log-events.js';

/** A logger whose JSON lines are kept, as [level, component, msg, extra field]. */
function capture(field: string) {
  const lines: Array<[number, string, string, unknown]> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString()) as Record<string, unknown>;
      lines.push([line.level as number, line.component as string, line.msg as string, line[field]]);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe("reconciliation's log subscriber", () => {
  it('reconciliation says a finished run with its figures, and a scheduled turn that failed', () => {
    const { logger, lines } = capture('mismatches');
    const events = new ReconcileEvents();
    logReconcileEvents(events, logger);
    const window = { from: new Date(0), to: new Date(86_400_000) };
    events.emit('run-started', { runId: '1', mode: 'full', trigger: 'schedule', worker: 'w', window });
    events.emit('run-finished', {
      ...{ runId: '1', mode: 'full', trigger: 'schedule', window, scopes: 1, days: 2, documents: 6, mismatches: 1 },
      ...{ mismatchesByKind: { 'processed-without-row': 1 }, durationMs: 12 },
    });
    events.emit('lease-skipped', { worker: 'w' });
    events.emit('schedule-failed', { error: new Error('away') });
    expect(lines).toEqual([
      [30, 'reconcile', 'reconciliation run finished', 1],
      [40, 'reconcile', 'reconciliation run failed; the next interval tries again', undefined],
    ]);
  });
});
