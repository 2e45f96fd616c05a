// The change-stream source through the real driver: inserts arrive as candidates with resume tokens,
// and a stream opened after a token replays exactly what followed it.

import { BSON } from 'mongodb';
import { firstValueFrom, type SchedulerLike, Subscription, take, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyChangeStreamError } from '../../src/db/mongo-errors.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { watchInserts } from '../../src/raw-store/watch-inserts.js';
import { type ChangeStreamEvent, changeStream$, type InsertEventStream } from '../../src/streams/change-stream.js';
import { createTestMongo, mongoUri, type TestMongo, waitFor } from '../support/databases.js';

describe.skipIf(!mongoUri)('changeStream$', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  const open = (token: unknown) => watchInserts(mongo.raw, token) as unknown as InsertEventStream;
  const insert = async (n: number) => {
    const { insertedIds } = await mongo.raw.insertMany(
      Array.from({ length: n }, (_, i) => newRawTransaction('acme', { source: 'generic', payload: { i } }) as RawTransaction),
    );
    return Object.values(insertedIds).map((id) => id.toHexString());
  };

  it('an insert event carries the id, the token, the time, the tenant and the slot, never the document', async () => {
    const stream = watchInserts(mongo.raw, undefined);
    try {
      // A large document (2 MiB): what the stream's cursor would hold per event if the server sent it whole.
      const big = newRawTransaction('acme', { source: 'generic', payload: { note: 'x'.repeat(2 * 2 ** 20) } }) as RawTransaction;
      const inserted = new Set<string>();
      let event: Record<string, unknown> | null = null;
      // The stream starts "from now": insert until an event arrives (each is one of ours).
      await waitFor('an insert event', async () => {
        inserted.add((await mongo.raw.insertOne({ ...big })).insertedId.toHexString());
        event = (await stream.tryNext()) as Record<string, unknown> | null;
        return event !== null;
      });
      expect(Object.keys(event!).sort()).toEqual(['_id', 'clusterTime', 'documentKey', 'fullDocument']);
      expect(event!.fullDocument).toEqual({ tenantId: 'acme', slot: big.slot });
      expect(big.slot).toBeGreaterThanOrEqual(0);
      expect(inserted.has((event!.documentKey as { _id: { toHexString(): string } })._id.toHexString())).toBe(true);
      expect(BSON.calculateObjectSize(event!)).toBeLessThan(1_024);
    } finally {
      await stream.close();
    }
  });

  it('emits each insert with its resume token, and resuming after a token replays what followed', async () => {
    const seen: Array<{ id: string; resumeToken?: unknown }> = [];
    const subscription = changeStream$({ classify: classifyChangeStreamError, open, retryBaseMs: 10, retryMaxMs: 100 }).subscribe((c) =>
      seen.push(c),
    );
    // The stream starts "from now"; give the server a moment to register it by writing until it is seen.
    await waitFor('the stream to be live', async () => {
      if (seen.length === 0) await insert(1);
      return seen.length > 0;
    });
    const ids = await insert(5);
    await waitFor('five inserts seen', () => ids.every((id) => seen.some((c) => c.id === id)));
    subscription.unsubscribe();
    const third = seen.find((c) => c.id === ids[2])!;
    expect(third.resumeToken).toBeDefined();

    const replay = await firstValueFrom(
      changeStream$({ classify: classifyChangeStreamError, open, resumeToken: third.resumeToken, retryBaseMs: 10, retryMaxMs: 100 }).pipe(
        take(2),
        toArray(),
      ),
    );
    expect(replay.map((c) => c.id)).toEqual(ids.slice(3));
  });

  it('reconnects with backoff after the stream fails, resuming after the last token', async () => {
    const events: ChangeStreamEvent[] = [];
    let opens = 0;
    const flaky = (token: unknown): InsertEventStream => {
      opens++;
      const stream = open(token);
      if (opens > 1) return stream;
      // The first stream fails after 50 ms, as a dropped connection would.
      const blip = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('network blip')), 50));
      return { next: () => Promise.race([stream.next(), blip]), close: () => stream.close() };
    };
    const seen: string[] = [];
    const subscription = changeStream$({
      classify: classifyChangeStreamError,
      open: flaky,
      retryBaseMs: 10,
      retryMaxMs: 100,
      onEvent: (e) => events.push(e),
    }).subscribe((c) => seen.push(c.id));
    await waitFor('a reconnect', () => opens >= 2);
    const ids = await insert(3);
    await waitFor('inserts after the reconnect', () => ids.every((id) => seen.includes(id)));
    subscription.unsubscribe();
    expect(events.map((e) => e.kind)).toEqual(['reconnecting']);
  });
});

/** The i-th insert event as the driver hands it out: its token, and the document id it names. */
const insertEvent = (i: number) => ({ _id: { token: i }, documentKey: { _id: { toHexString: () => i.toString(16).padStart(24, '0') } } });
describe('changeStream$ without a server', () => {
  it('completes with one "unsupported" event when the server has no change streams, leaving the sweep alone', async () => {
    const events: ChangeStreamEvent[] = [];
    let opens = 0;
    const open = (): InsertEventStream => {
      opens++;
      const unsupported = Object.assign(new Error('The $changeStream stage is only supported on replica sets'), { code: 40573 });
      return { next: () => Promise.reject(unsupported), close: async () => undefined };
    };
    const seen = await firstValueFrom(
      changeStream$({ classify: classifyChangeStreamError, open, retryBaseMs: 1, retryMaxMs: 1, onEvent: (e) => events.push(e) }).pipe(
        toArray(),
      ),
    );
    expect(seen).toEqual([]);
    expect(events.map((e) => e.kind)).toEqual(['unsupported']);
    expect(opens).toBe(1);
  });
});

describe('changeStream$ backpressure', () => {
  it('reads the stream only while the pipeline has room: a full pipeline leaves events with the server, not dropped', async () => {
    let room = 0;
    let roomAsked = 0;
    let reads = 0;
    const open = (): InsertEventStream => ({
      next: async () => insertEvent(reads++),
      close: async () => undefined,
    });
    const seen: string[] = [];
    const subscription = changeStream$({
      classify: classifyChangeStreamError,
      open,
      retryBaseMs: 1,
      retryMaxMs: 1,
      roomPollMs: 1,
      room: () => {
        roomAsked++;
        return room - seen.length;
      },
    }).subscribe((candidate) => seen.push(candidate.id));
    await waitFor('the source to look for room a few times', () => roomAsked >= 5);
    expect(reads).toBe(0);
    room = 3;
    await waitFor('three events once there is room for three', () => seen.length === 3);
    await waitFor('the source to look for room again', () => roomAsked >= 12);
    // Exactly as many read as there was room for: nothing read and then dropped.
    expect(reads).toBe(3);
    subscription.unsubscribe();
  });

  it('while events flow, asks the server for more at most once per gatherMs, and hands out buffered events at once', async () => {
    // A clock and timers of the test's own: each server round trip takes 3 ms and brings three events.
    let now = 0;
    const waits: number[] = [];
    let fire: (() => void) | undefined;
    const scheduler = {
      now: () => now,
      schedule: (work: () => void, delay = 0) => {
        waits.push(delay);
        fire = () => work();
        return new Subscription();
      },
    } as unknown as SchedulerLike;
    let buffered = 0;
    let asks = 0;
    let reads = 0;
    const open = (): InsertEventStream => ({
      next: async () => {
        now += 3;
        if (buffered > 0) buffered--;
        else [asks, buffered] = [asks + 1, 2];
        return insertEvent(reads++);
      },
      close: async () => undefined,
      bufferedCount: () => buffered,
    });
    const seen: string[] = [];
    const subscription = changeStream$({
      classify: classifyChangeStreamError,
      open,
      retryBaseMs: 1,
      retryMaxMs: 1,
      gatherMs: 10,
      scheduler,
    }).subscribe((candidate) => seen.push(candidate.id));
    // The first ask goes at once; its three events are handed out without asking again; the next ask waits
    // for the rest of the 10 ms since the first (asked at 0, read through by 9).
    await waitFor('the first reply read through and the reader waiting', () => waits.length === 1);
    expect([seen.length, asks, waits]).toEqual([3, 1, [1]]);
    now = 10;
    fire!();
    await waitFor('the second reply read through and the reader waiting', () => waits.length === 2);
    expect([seen.length, asks, waits]).toEqual([6, 2, [1, 1]]);
    subscription.unsubscribe();
  });
});
