// Marble tests of the pipeline on virtual time: the sinks are our own interfaces, recording what they
// were asked to do, so every property here holds without a database.
import { from, map, mergeMap, type ObservableInput, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError, UnavailableError } from '../domain/errors.js';
import { InFlight } from './in-flight.js';
import {
  type BatchOutcome,
  type Candidate,
  type ClaimedDoc,
  type Failure,
  type PipelineOptions,
  pipeline,
  type Sinks,
} from './pipeline.js';

interface Doc extends ClaimedDoc {
  poison?: boolean;
  /** The mapper refuses it for good (a PermanentError). */
  refused?: boolean;
  rejected?: boolean;
}

const stream = (id: string): Candidate => ({ id, via: 'stream', resumeToken: `tok-${id}` });
const swept = (id: string): Candidate => ({ id, via: 'sweep' });
/** Marble values a, b, c… for the change events of documents 1, 2, 3… */
const streamEvents = (count: number): Record<string, Candidate> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [String.fromCharCode(97 + i), stream(String(i + 1))]));
/** A change event of a tenant's document. */
const ofTenant = (tenantId: string, id: string): Candidate => ({ ...stream(id), tenantId });

function newScheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Sinks that record each call as `stage:ids` in order, with per-stage overrides. */
function recordingSinks(overrides: Partial<Sinks<Doc, string>> & { docs?: Record<string, Partial<Doc>> } = {}) {
  const calls: string[] = [];
  const claimed: string[][] = [];
  const sinks: Sinks<Doc, string> = {
    claim: (ids) => {
      claimed.push(ids);
      calls.push(`claim:${ids.join(',')}`);
      return of(ids.map((id) => ({ id, attempts: 0, receivedAt: new Date(0), ...overrides.docs?.[id] })));
    },
    transform: (doc) => {
      if (doc.poison) throw new Error(`cannot read ${doc.id}`);
      if (doc.refused) throw new PermanentError('invalid_payload', `payload.occurredAt: ${doc.id} is not a date`);
      return doc.rejected ? `${doc.id}!` : doc.id;
    },
    writeBatch: (rows) => {
      calls.push(`write:${rows.join(',')}`);
      if (rows.some((row) => row.endsWith('!'))) return throwError(() => new PermanentError('constraint', 'violates a check constraint'));
      return of(true);
    },
    markProcessed: (docs) => {
      calls.push(`processed:${docs.map((d) => d.id).join(',')}`);
      return of(true);
    },
    markFailed: (failures) => {
      calls.push(`failed:${failures.map((f) => `${f.doc.id}=${f.outcome}`).join(',')}`);
      return of(true);
    },
    log: (entries) => {
      calls.push(`log:${entries.map((e) => `${e.id}=${e.outcome}`).join(',')}`);
      return of(true);
    },
    checkpoint: (token) => {
      calls.push(`checkpoint:${String(token)}`);
      return of(true);
    },
    ...overrides,
  };
  return { sinks, calls, claimed };
}

const baseOptions = (scheduler: TestScheduler, extra: Partial<PipelineOptions> = {}): PipelineOptions => ({
  batchMaxSize: 3,
  batchMaxWaitMs: 10,
  concurrency: 1,
  maxAttempts: 3,
  retryBaseMs: 100,
  retryMaxMs: 1_000,
  scheduler,
  random: () => 0,
  ...extra,
});

const summary = (outcome: BatchOutcome) => `${outcome.claimed}/${outcome.processed}/${outcome.failed}/${outcome.dead}`;

describe('pipeline', () => {
  it('merges stream and sweep and claims each id once, whichever source saw it first', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { sinks, claimed } = recordingSinks();
      const changes$ = cold('a-b|', { a: stream('1'), b: stream('2') });
      const sweep$ = cold('-xy|', { x: swept('1'), y: swept('3') });
      const out$ = pipeline({ changes$, sweep$ }, sinks, baseOptions(scheduler)).pipe(map(summary));
      // The third distinct id fills the batch (BATCH_MAX_SIZE 3) at frame 2.
      expectObservable(out$).toBe('--a|', { a: '3/3/0/0' });
      scheduler.flush();
      expect(claimed).toEqual([['1', '2', '3']]);
    });
  });

  it('offers an id again once its batch is done, so a later sighting is not lost', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { sinks, claimed } = recordingSinks();
      const changes$ = cold('a 19ms |', { a: stream('1') });
      const sweep$ = cold('25ms x|', { x: swept('1') });
      const out$ = pipeline({ changes$, sweep$ }, sinks, baseOptions(scheduler)).pipe(map(summary));
      expectObservable(out$).toBe('10ms a 15ms (b|)', { a: '1/1/0/0', b: '1/1/0/0' });
      scheduler.flush();
      expect(claimed).toEqual([['1'], ['1']]);
    });
  });

  it('cuts a batch when it reaches BATCH_MAX_SIZE, without waiting for the timer', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { sinks, claimed } = recordingSinks();
      const changes$ = cold('(abcd) 20ms |', { a: stream('1'), b: stream('2'), c: stream('3'), d: stream('4') });
      const out$ = pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler)).pipe(map(summary));
      expectObservable(out$).toBe('a 9ms b 15ms |', { a: '3/3/0/0', b: '1/1/0/0' });
      scheduler.flush();
      expect(claimed).toEqual([['1', '2', '3'], ['4']]);
    });
  });

  it('cuts a batch once its oldest document has waited BATCH_MAX_WAIT_MS when fewer arrive: a lone event waits at most that', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { sinks } = recordingSinks();
      const changes$ = cold('a 14ms b 9ms |', { a: stream('1'), b: stream('2') });
      const out$ = pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler)).pipe(map(summary));
      // a at 0 leaves at 10; b at 15 leaves at 25, 10 ms after it arrived (not at a fixed window's end).
      expectObservable(out$).toBe('10ms a 14ms (b|)', { a: '1/1/0/0', b: '1/1/0/0' });
    });
  });

  /** 30 stream events, one per frame, ids 0..29. */
  const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCD';
  const steady = (cold: TestScheduler['createColdObservable']) =>
    cold(`${LETTERS}|`, Object.fromEntries([...LETTERS].map((letter, i) => [letter, stream(String(i))])));

  it('under overload batches grow: while the slot is busy documents accumulate, and the next batch takes them at once', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const slowWrite = { writeBatch: () => cold('50ms (x|)', { x: true }) };
      const { sinks, claimed } = recordingSinks(slowWrite);
      pipeline({ changes$: steady(cold), sweep$: cold('|') }, sinks, baseOptions(scheduler, { batchMaxSize: 100 })).subscribe();
      scheduler.flush();
      // The first batch leaves when its oldest has waited 10 ms; the rest arrive while it writes and leave
      // together when the slot frees: two batches, where fixed 10 ms windows would have queued three.
      expect(claimed.map((ids) => ids.length)).toEqual([claimed[0]!.length, 30 - claimed[0]!.length]);
      expect(claimed[0]!.length).toBeGreaterThanOrEqual(10);
      expect(claimed[0]!.length).toBeLessThanOrEqual(11);
    });
  });

  it('a freed slot takes at most BATCH_MAX_SIZE of what accumulated, and the next slot the next BATCH_MAX_SIZE', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const slowWrite = { writeBatch: () => cold('50ms (x|)', { x: true }) };
      const { sinks, claimed } = recordingSinks(slowWrite);
      pipeline(
        { changes$: steady(cold), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler, { batchMaxSize: 8, maxInFlight: 100 }),
      ).subscribe();
      scheduler.flush();
      // 8 reached at frame 7: the first batch leaves full; the 22 that accumulate leave 8, 8, then 6.
      expect(claimed.map((ids) => ids.length)).toEqual([8, 8, 8, 6]);
      expect(claimed.flat()).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    });
  });

  it('asks batchSizeLimit for each batch: a lowered limit cuts smaller batches, within 1..BATCH_MAX_SIZE', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const slowWrite = { writeBatch: () => cold('50ms (x|)', { x: true }) };
      const { sinks, claimed } = recordingSinks(slowWrite);
      // The limit the processor would learn from document sizes: 3, then 0 (still one), then above the maximum.
      const limits = [3, 0, 50];
      const batchSizeLimit = () => limits[Math.min(claimed.length, limits.length - 1)]!;
      pipeline(
        { changes$: steady(cold), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler, { batchMaxSize: 8, maxInFlight: 100, batchSizeLimit }),
      ).subscribe();
      scheduler.flush();
      expect(claimed.map((ids) => ids.length)).toEqual([3, 1, 8, 8, 8, 2]);
      expect(claimed.flat()).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    });
  });

  it('commits, then marks, then logs, then checkpoints the last stream token of the batch', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const { sinks, calls } = recordingSinks();
      const changes$ = cold('ab|', { a: stream('1'), b: stream('2') });
      const sweep$ = cold('c|', { c: swept('3') });
      pipeline({ changes$, sweep$ }, sinks, baseOptions(scheduler)).subscribe();
      scheduler.flush();
      expect(calls).toEqual([
        'claim:1,3,2',
        'write:1,3,2',
        'processed:1,3,2',
        'log:1=processed,3=processed,2=processed',
        'checkpoint:tok-2',
      ]);
    });
  });

  it('does not mark anything while the write has not committed', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const slow = recordingSinks();
      const sinks = {
        ...slow.sinks,
        writeBatch: (rows: string[]) => {
          slow.calls.push(`write:${rows.join(',')}`);
          return cold('50ms (w|)', { w: true });
        },
      };
      const out$ = pipeline({ changes$: cold('a 99ms |', { a: stream('1') }), sweep$: cold('|') }, sinks, baseOptions(scheduler)).pipe(
        map(summary),
      );
      expectObservable(out$).toBe('60ms a 39ms |', { a: '1/1/0/0' });
      scheduler.schedule(() => expect(slow.calls).toEqual(['claim:1', 'write:1']), 59);
    });
  });

  it('a batch seen only by the sweep stores no checkpoint', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const { sinks, calls } = recordingSinks();
      const outcomes: BatchOutcome[] = [];
      pipeline({ changes$: cold('|'), sweep$: cold('a|', { a: swept('1') }) }, sinks, baseOptions(scheduler)).subscribe((o) =>
        outcomes.push(o),
      );
      scheduler.flush();
      expect(calls.some((call) => call.startsWith('checkpoint'))).toBe(false);
      expect(outcomes.map((o) => o.checkpointed)).toEqual([false]);
    });
  });

  it('with checkpointEveryMs, stores a token only when the last one stored is that old', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const { sinks, calls } = recordingSinks();
      const outcomes: BatchOutcome[] = [];
      // batchMaxSize 3: batches of 1,2,3 at 0 ms, 4,5,6 at 41 ms, 7,8,9 at 122 ms (a group takes 5 frames).
      const changes$ = cold('(abc) 36ms (def) 76ms (ghi) |', streamEvents(9));
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { checkpointEveryMs: 100 })).subscribe((o) =>
        outcomes.push(o),
      );
      scheduler.flush();
      expect(calls.filter((call) => call.startsWith('checkpoint'))).toEqual(['checkpoint:tok-3', 'checkpoint:tok-9']);
      expect(outcomes.map((o) => o.checkpointed)).toEqual([true, false, true]);
    });
  });

  it('with checkpointEveryMs, the newest token left unstored is stored when the pipeline completes (a stop)', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const { sinks, calls } = recordingSinks();
      const changes$ = cold('(abc) 36ms (def) |', streamEvents(6));
      let completed = false;
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { checkpointEveryMs: 100 })).subscribe({
        complete: () => (completed = true),
      });
      scheduler.flush();
      expect(completed).toBe(true);
      expect(calls.filter((call) => call.startsWith('checkpoint'))).toEqual(['checkpoint:tok-3', 'checkpoint:tok-6']);
    });
  });

  it('an older batch finishing after a newer one that stored its token stores none', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      // The first batch's mark takes 50 ms; the second, started 10 ms later, is recorded first.
      const sinks = {
        ...base.sinks,
        markProcessed: (docs: Doc[]) => {
          base.calls.push(`processed:${docs.map((d) => d.id).join(',')}`);
          return docs.some((d) => d.id === '1') ? cold('50ms (m|)', { m: true }) : of(true);
        },
      };
      const changes$ = cold('(abc) 6ms (def) |', streamEvents(6));
      const outcomes: BatchOutcome[] = [];
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { concurrency: 2 })).subscribe((o) => outcomes.push(o));
      scheduler.flush();
      expect(base.calls.filter((call) => call.startsWith('checkpoint'))).toEqual(['checkpoint:tok-6']);
      expect(outcomes.map((o) => [o.batchId, o.checkpointed])).toEqual([
        ['batch-2', true],
        ['batch-1', false],
      ]);
    });
  });
  it('retries a write while the database is unavailable, with exponential backoff, charging no attempt, then commits', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const base = recordingSinks();
      let failuresLeft = 2;
      const retries: Array<[string, number, number]> = [];
      const ended: Array<[string, number, boolean]> = [];
      const sinks = {
        ...base.sinks,
        writeBatch: (rows: string[]): ObservableInput<unknown> => {
          base.calls.push(`write:${rows.join(',')}`);
          if (failuresLeft-- > 0) return throwError(() => new UnavailableError('pg_unavailable', 'connection refused'));
          return of(true);
        },
      };
      const options = baseOptions(scheduler, {
        onRetry: (stage, _error, attempt, delayMs) => retries.push([stage, attempt, delayMs]),
        onRetryEnded: (stage, { retries: count, recovered }) => ended.push([stage, count, recovered]),
      });
      const out$ = pipeline({ changes$: cold('a 199ms |', { a: stream('1') }), sweep$: cold('|') }, sinks, options).pipe(map(summary));
      // random() = 0 gives the lower bound of each jittered delay: 100/2 after the first failure, 200/2 after the second.
      expectObservable(out$).toBe('160ms a 39ms |', { a: '1/1/0/0' });
      scheduler.flush();
      expect(retries).toEqual([
        ['write', 1, 50],
        ['write', 2, 100],
      ]);
      expect(base.calls.filter((call) => call.startsWith('write'))).toHaveLength(3);
      expect(base.calls.filter((call) => call.startsWith('processed'))).toEqual(['processed:1']);
      expect(base.calls.filter((call) => call.startsWith('failed'))).toEqual([]);
      expect(ended).toEqual([['write', 2, true]]);
    });
  });

  it('a plain Error from the write is charged to the document it concerns: split out, failed, the others commit', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const reasons: string[] = [];
      const retries: string[] = [];
      const sinks = {
        ...base.sinks,
        writeBatch: (rows: string[]): ObservableInput<unknown> => {
          base.calls.push(`write:${rows.join(',')}`);
          return rows.includes('3') ? throwError(() => new Error('writer bug on 3')) : of(true);
        },
        markFailed: (failures: Array<Failure<Doc>>) => {
          reasons.push(...failures.map((f) => `${f.doc.id}:${f.outcome}:${f.error}`));
          return base.sinks.markFailed(failures);
        },
      };
      const outcomes: BatchOutcome[] = [];
      const changes$ = cold('(abcd)|', { a: stream('1'), b: stream('2'), c: stream('3'), d: stream('4') });
      const options = baseOptions(scheduler, { batchMaxSize: 4, onRetry: (stage) => retries.push(stage) });
      pipeline({ changes$, sweep$: cold('|') }, sinks, options).subscribe((o) => outcomes.push(o));
      scheduler.flush();
      expect(base.calls).toContain('processed:1,2,4');
      expect(reasons).toEqual(['3:failed:writer bug on 3']);
      expect(retries).toEqual([]);
      expect(outcomes.map(summary)).toEqual(['4/3/1/0']);
    });
  });

  it('a write that keeps failing for one document, a TransientError not saying the database is away, ends dead at maxAttempts', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks({ docs: { '2': { attempts: 2 } } });
      const sinks = {
        ...base.sinks,
        writeBatch: (rows: string[]): ObservableInput<unknown> =>
          rows.includes('2') ? throwError(() => new TransientError('pg_P0001', 'PostgreSQL: raised by a trigger')) : of(true),
      };
      pipeline(
        { changes$: cold('(ab)|', { a: stream('1'), b: stream('2') }), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler),
      ).subscribe();
      scheduler.flush();
      expect(base.calls).toContain('processed:1');
      expect(base.calls).toContain('failed:2=dead');
    });
  });

  it('a document whose transform fails is failed with the reason and the rest of its batch commits', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const failed: string[] = [];
      const { sinks, calls } = recordingSinks({
        docs: { '2': { poison: true } },
        markFailed: (failures) => {
          failed.push(...failures.map((f) => `${f.doc.id}:${f.error}`));
          return of(true);
        },
      });
      const outcomes: BatchOutcome[] = [];
      const changes$ = cold('(abc)|', { a: stream('1'), b: stream('2'), c: stream('3') });
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler)).subscribe((o) => outcomes.push(o));
      scheduler.flush();
      expect(calls).toContain('write:1,3');
      expect(calls).toContain('processed:1,3');
      expect(failed).toEqual(['2:cannot read 2']);
      expect(calls).toContain('log:1=processed,3=processed,2=failed');
      expect(outcomes.map(summary)).toEqual(['3/2/1/0']);
    });
  });

  it('a poison row rejected by the database is isolated by halving and the rest of its batch commits', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const { sinks, calls } = recordingSinks({ docs: { '3': { rejected: true } } });
      const outcomes: BatchOutcome[] = [];
      const changes$ = cold('(abcd)|', { a: stream('1'), b: stream('2'), c: stream('3'), d: stream('4') });
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { batchMaxSize: 4 })).subscribe((o) => outcomes.push(o));
      scheduler.flush();
      expect(calls.filter((call) => call.startsWith('write'))).toEqual([
        'write:1,2,3!,4',
        'write:1,2',
        'write:3!,4',
        'write:3!',
        'write:4',
      ]);
      expect(calls).toContain('processed:1,2,4');
      expect(calls).toContain('failed:3=failed');
      expect(outcomes.map(summary)).toEqual(['4/3/1/0']);
    });
  });

  it('dead-letters a document failing its MAX_ATTEMPTS-th attempt', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const { sinks, calls } = recordingSinks({ docs: { '1': { poison: true, attempts: 2 }, '2': { poison: true, attempts: 0 } } });
      pipeline(
        { changes$: cold('(ab)|', { a: stream('1'), b: stream('2') }), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler),
      ).subscribe();
      scheduler.flush();
      expect(calls).toContain('failed:1=dead,2=failed');
    });
  });

  it('dead-letters at once, on its first attempt, a document the mapper refuses for good; a transient failure is retried', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const reasons: string[] = [];
      const { sinks, calls } = recordingSinks({ docs: { '1': { refused: true }, '2': { poison: true } } });
      const markFailed = sinks.markFailed;
      sinks.markFailed = (failures) => {
        reasons.push(...failures.map((f) => `${f.doc.id}:${f.error}`));
        return markFailed(failures);
      };
      pipeline(
        { changes$: cold('(abc)|', { a: stream('1'), b: stream('2'), c: stream('3') }), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler),
      ).subscribe();
      scheduler.flush();
      expect(calls).toContain('failed:1=dead,2=failed');
      expect(calls).toContain('log:3=processed,1=dead,2=failed');
      expect(reasons).toEqual(['1:payload.occurredAt: 1 is not a date', '2:cannot read 2']);
    });
  });

  it('skips ids already claimed elsewhere: only what claim returns is written', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const sinks = {
        ...base.sinks,
        claim: (ids: string[]) => of(ids.filter((id) => id !== '2').map((id) => ({ id, attempts: 0, receivedAt: new Date(0) }))),
      };
      const outcomes: BatchOutcome[] = [];
      pipeline(
        { changes$: cold('(abc)|', { a: stream('1'), b: stream('2'), c: stream('3') }), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler),
      ).subscribe((o) => outcomes.push(o));
      scheduler.flush();
      expect(base.calls).toContain('write:1,3');
      expect(outcomes.map((o) => `${o.candidates}/${o.claimed}`)).toEqual(['3/2']);
    });
  });

  it('holds at most maxInFlight candidates and drops the rest for the sweep to find again', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const sinks = { ...base.sinks, writeBatch: () => cold('100ms (w|)', { w: true }) };
      const changes$ = cold('(abcde)|', { a: stream('1'), b: stream('2'), c: stream('3'), d: stream('4'), e: stream('5') });
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { batchMaxSize: 2, maxInFlight: 3 })).subscribe();
      scheduler.flush();
      expect(base.claimed.flat()).toEqual(['1', '2', '3']);
    });
  });

  it("with fair share, a quiet tenant's candidates go in the next batch, not behind another tenant's backlog", () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const sinks = { ...base.sinks, writeBatch: () => cold('100ms (w|)', { w: true }) };
      // Tenant b's twelve (A to L) arrive first, then a's two; batches of four, one at a time.
      const backlog = Object.fromEntries([...'ABCDEFGHIJKL'].map((letter, i) => [letter, ofTenant('b', `b${i}`)]));
      const changes$ = cold('(ABCDEFGHIJKL)-(xy)|', { ...backlog, x: ofTenant('a', 'a0'), y: ofTenant('a', 'a1') });
      const fair = { weightOf: () => 1 };
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { batchMaxSize: 4, maxInFlight: 100, fair })).subscribe();
      scheduler.flush();
      // The first batch left before a's arrived; a's two are claimed next (express batches beside the busy
      // slot), not after b's remaining eight.
      expect(base.claimed[0]).toEqual(['b0', 'b1', 'b2', 'b3']);
      expect(base.claimed.slice(1, 3).flat().sort()).toEqual(['a0', 'a1']);
      expect(base.claimed.flat()).toHaveLength(14);
    });
  });

  it("with fair share, a quiet tenant's documents start in an express batch while every slot is busy", () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const express: boolean[] = [];
      const sinks = {
        ...base.sinks,
        claim: (ids: string[], options: { express: boolean }) => {
          express.push(options.express);
          return base.sinks.claim(ids, options);
        },
        writeBatch: () => cold('100ms (w|)', { w: true }),
      };
      // b fills the one slot with a backlog; a's document arrives 10 ms later.
      const backlog = Object.fromEntries([...'ABCDEFGH'].map((letter, i) => [letter, ofTenant('b', `b${i}`)]));
      const changes$ = cold('(ABCDEFGH) 9ms x|', { ...backlog, x: ofTenant('a', 'a0') });
      pipeline(
        { changes$, sweep$: cold('|') },
        sinks,
        baseOptions(scheduler, { batchMaxSize: 4, maxInFlight: 100, concurrency: 1, fair: { weightOf: () => 1 } }),
      ).subscribe();
      scheduler.flush();
      expect(base.claimed[1]).toEqual(['a0']);
      expect(express.slice(0, 2)).toEqual([false, true]);
    });
  });

  it('with fair share, a backlog yields while a quiet tenant is served: one slot, smaller batches, then all again', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const claims: Array<{ at: number; size: number; express: boolean }> = [];
      const sinks = {
        ...base.sinks,
        claim: (ids: string[], options: { express: boolean }) => {
          claims.push({ at: scheduler.now(), size: ids.length, express: options.express });
          return base.sinks.claim(ids, options);
        },
        writeBatch: () => cold('100ms (w|)', { w: true }),
      };
      // b's 101 fill both slots; a's one document arrives 10 ms later.
      const backlog = Array.from({ length: 101 }, (_, i) => ofTenant('b', `b${i}`));
      const source$ = cold('b 9ms a|', { b: backlog, a: [ofTenant('a', 'a0')] }).pipe(mergeMap((list) => from(list)));
      const fair = { weightOf: () => 1, backlogSlots: 1 };
      pipeline(
        { changes$: source$, sweep$: cold('|') },
        sinks,
        baseOptions(scheduler, { batchMaxSize: 10, maxInFlight: 1_000, concurrency: 2, fair }),
      ).subscribe();
      scheduler.flush();
      expect(claims.slice(0, 3)).toEqual([
        { at: 0, size: 10, express: false },
        { at: 0, size: 10, express: false },
        { at: 10, size: 1, express: true },
      ]);
      // Until 3 s after the express batch began: one batch at a time, of a fifth of batchMaxSize.
      const yielded = claims.slice(3).filter((claim) => claim.at < 3_010);
      expect(yielded.length).toBeGreaterThan(10);
      for (const claim of yielded) expect(claim.size).toBeLessThanOrEqual(2);
      for (const [i, claim] of yielded.entries()) if (i > 0) expect(claim.at - yielded[i - 1]!.at).toBeGreaterThanOrEqual(100);
      // Then both slots and whole batches again, and nothing is lost.
      const after = claims.filter((claim) => claim.at >= 3_010);
      expect(after[0]!.size).toBe(10);
      expect(after[1]!.at).toBe(after[0]!.at);
      expect(base.claimed.flat()).toHaveLength(102);
    });
  });

  it('with a reserve, one tenant never fills the pipeline: another finds room while the first is dropped', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const sinks = { ...base.sinks, writeBatch: () => cold('100ms (w|)', { w: true }) };
      const changes$ = cold('(abcdex)|', {
        a: ofTenant('b', '1'),
        b: ofTenant('b', '2'),
        c: ofTenant('b', '3'),
        d: ofTenant('b', '4'),
        e: ofTenant('b', '5'),
        x: ofTenant('a', '6'),
      });
      // Four places, one kept for an arriving tenant: b alone takes three, a the kept one.
      const inFlight = new InFlight(4, 1);
      pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { batchMaxSize: 4, inFlight })).subscribe();
      scheduler.flush();
      expect(base.claimed.flat().sort()).toEqual(['1', '2', '3', '6']);
    });
  });

  it('works on at most BATCH_CONCURRENCY batches at once', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const base = recordingSinks();
      const sinks = { ...base.sinks, writeBatch: () => cold('100ms (w|)', { w: true }) };
      const changes$ = cold('(abc)|', { a: stream('1'), b: stream('2'), c: stream('3') });
      const out$ = pipeline({ changes$, sweep$: cold('|') }, sinks, baseOptions(scheduler, { batchMaxSize: 1, concurrency: 2 })).pipe(
        map(summary),
      );
      expectObservable(out$).toBe('100ms (ab) 96ms (c|)', { a: '1/1/0/0', b: '1/1/0/0', c: '1/1/0/0' });
    });
  });

  it('a batch failing beyond retry is reported and the pipeline goes on with the next', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks();
      const sinks = {
        ...base.sinks,
        markProcessed: (docs: Doc[]) =>
          docs.some((d) => d.id === '1') ? throwError(() => new PermanentError('mongo_rejected', 'refused')) : of(true),
      };
      const outcomes: BatchOutcome[] = [];
      pipeline(
        { changes$: cold('a 19ms b|', { a: stream('1'), b: stream('2') }), sweep$: cold('|') },
        sinks,
        baseOptions(scheduler),
      ).subscribe((o) => outcomes.push(o));
      scheduler.flush();
      // The first batch's mark was refused: claimed, nothing recorded as processed.
      expect(outcomes.map((o) => [o.claimed, o.processed, o.error])).toEqual([
        [1, 0, 'refused'],
        [1, 1, undefined],
      ]);
      expect(base.calls.filter((call) => call.startsWith('checkpoint'))).toEqual(['checkpoint:tok-2']);
    });
  });

  it('a batch failing after its marks still reports what it recorded', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold }) => {
      const base = recordingSinks({ docs: { '2': { poison: true } } });
      const sinks = { ...base.sinks, log: () => throwError(() => new PermanentError('mongo_rejected', 'logs refused')) };
      const outcomes: BatchOutcome[] = [];
      pipeline({ changes$: cold('(ab)|', { a: stream('1'), b: stream('2') }), sweep$: cold('|') }, sinks, baseOptions(scheduler)).subscribe(
        (o) => outcomes.push(o),
      );
      scheduler.flush();
      expect(outcomes.map((o) => [o.claimed, o.processed, o.failed, o.dead, o.checkpointed, o.error])).toEqual([
        [2, 1, 1, 0, false, 'logs refused'],
      ]);
    });
  });
});
