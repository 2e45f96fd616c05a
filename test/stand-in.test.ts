// The development MongoDB narrows queries through the _id index and keeps real secondary indexes
// (tools/mongo-stand-in). That must change speed, never results: the same documents, the same queries and
// updates the product runs, against the stand-in as upstream publishes it and as we run it, answer alike.
import { spawnSync } from 'node:child_process';
import { type Collection, type Document, type Filter, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ResolvedMongo, startStandIn } from '../src/dev/mongo-resolver.js';
import { ensureMongoIndexes, type RawTransaction } from '../src/raw-store/collections.js';
import { claimableFilter, WAITING } from '../src/raw-store/states.js';

const hasJava = !spawnSync('java', ['-version'], { stdio: 'ignore' }).error && !spawnSync('mvn', ['-v'], { stdio: 'ignore' }).error;

describe.skipIf(!hasJava)('the development MongoDB answers as upstream mongo-java-server does, only faster', () => {
  const servers: ResolvedMongo[] = [];
  const clients: MongoClient[] = [];
  let ours: Collection<RawTransaction>;
  let upstream: Collection<RawTransaction>;

  beforeAll(async () => {
    const [indexed, plain] = await Promise.all([
      startStandIn(undefined, { ttlMonitorSeconds: 1 }),
      startStandIn(undefined, { upstream: true }),
    ]);
    servers.push(indexed, plain);
    const collectionsOf = async (uri: string) => {
      const client = await MongoClient.connect(uri);
      clients.push(client);
      const db = client.db('standin_compare');
      const raw = db.collection<RawTransaction>('raw_transactions');
      await ensureMongoIndexes({
        raw,
        logs: db.collection('processing_logs'),
        checkpoints: db.collection('processor_checkpoints'),
        processors: db.collection('processor_reports'),
        members: db.collection('processor_members'),
        statements: db.collection('statements'),
      });
      return raw;
    };
    [ours, upstream] = await Promise.all([collectionsOf(indexed.uri), collectionsOf(plain.uri)]);
    const statuses = ['pending', 'failed', 'processed', 'dead'] as const;
    const docs = Array.from({ length: 3_000 }, (_, i) => ({
      _id: new ObjectId(i.toString(16).padStart(24, '0')),
      tenantId: `t${i % 7}`,
      source: 'generic',
      externalId: i % 3 ? `e${i}` : null,
      ...(i % 3 ? { dedupKey: `["t${i % 7}","generic","e${i}"]` } : {}),
      payload: { i, tags: [`tag${i % 4}`, `tag${i % 9}`] },
      receivedAt: new Date(Date.UTC(2026, 10, 25, 0, 0, i % 600)),
      processed: statuses[i % 4] === 'processed',
      status: statuses[i % 4]!,
      attempts: i % 5,
      // Numbers of different types that are equal, as MongoDB compares them.
      ...(i % 10 === 0 ? { leaseOwner: 'w1', leaseToken: `token-${i % 50}`, leaseUntil: new Date(Date.UTC(2026, 10, 25, 1)) } : {}),
    }));
    await Promise.all([ours.insertMany(docs), upstream.insertMany(docs)]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(servers.map((server) => server.stop()));
  });

  const ids = (docs: Document[]) => docs.map((doc) => String(doc._id));
  const both = async <T>(run: (raw: Collection<RawTransaction>) => Promise<T>) => {
    const [a, b] = [await run(ours), await run(upstream)];
    return { ours: a, upstream: b };
  };
  const someIds = (step: number, count: number) =>
    Array.from({ length: count }, (_, k) => new ObjectId((k * step).toString(16).padStart(24, '0')));
  const now = new Date(Date.UTC(2026, 10, 25, 0, 30));
  /** The documents' receivedAt spans 0:00:00 to 0:09:59 of this day. */
  const minute = (m: number) => new Date(Date.UTC(2026, 10, 25, 0, m));
  /**
   * Distinct values as upstream gives them (ours reads one document per value of an index's first key):
   * through such an index (tenantId, processed, receivedAt, slot that no document holds), and where ours
   * falls back to upstream's scan (no index on status, leaseToken's is sparse, a dotted key).
   */
  const expectSameDistincts = async () => {
    const distincts: Array<[keyof RawTransaction | 'payload.tags', Filter<RawTransaction>]> = [
      ['tenantId', { processed: false }],
      ['tenantId', {}],
      ['tenantId', { status: 'dead' }],
      ['tenantId', { tenantId: 'nobody' }],
      ['processed', {}],
      ['processed', { tenantId: 't3', attempts: { $gte: 2 } }],
      ['receivedAt', { status: 'failed', attempts: 4 }],
      ['slot', {}],
      ['status', WAITING],
      ['leaseToken', {}],
      ['payload.tags', { processed: false }],
    ];
    for (const [key, filter] of distincts) {
      const found = await both((raw) => raw.distinct(key, filter));
      expect(found.ours, `distinct ${key} ${JSON.stringify(filter)}`).toEqual(found.upstream);
    }
    const waitingTenants = await ours.distinct('tenantId', { processed: false });
    expect(waitingTenants.length, 'a comparison of something').toBeGreaterThan(1);
  };
  /**
   * Aggregates as upstream answers them (ours streams only an index's documents into a leading $match that
   * one narrows: a quota's count of one tenant's waiting documents), and a self-$lookup ours leaves alone.
   */
  const expectSameAggregates = async () => {
    const pipelines: Document[][] = [
      [{ $match: { tenantId: 't3', processed: false } }, { $group: { _id: '$status', n: { $sum: 1 } } }, { $sort: { _id: 1 } }],
      [{ $match: { processed: false, attempts: { $gte: 2 } } }, { $limit: 40 }, { $project: { _id: 1, tenantId: 1 } }],
      [{ $match: { tenantId: { $in: ['t1', 't5', 'nobody'] } } }, { $count: 'n' }],
      [{ $match: { $or: [{ tenantId: 't2' }, { status: 'dead' }] } }, { $count: 'n' }],
      [
        { $match: { tenantId: 't4', status: 'failed' } },
        { $limit: 3 },
        { $lookup: { from: 'raw_transactions', localField: 'tenantId', foreignField: 'tenantId', as: 'same' } },
        { $project: { n: { $size: '$same' } } },
      ],
    ];
    for (const pipeline of pipelines) {
      const found = await both((raw) => raw.aggregate(pipeline).toArray());
      expect(found.ours, JSON.stringify(pipeline)).toEqual(found.upstream);
      expect(found.ours.length, `${JSON.stringify(pipeline)} answers something`).toBeGreaterThan(0);
    }
    for (const [filter, limit] of [
      [{ tenantId: 't3', processed: false }, 50],
      [{ tenantId: 't0' }, 100_000],
    ] as const) {
      const counted = await both((raw) => raw.countDocuments(filter, { limit }));
      expect(counted.ours, `count ${JSON.stringify(filter)} limit ${limit}`).toBe(counted.upstream);
    }
  };

  it('finds: the claim and read-back shapes, the sweep, the backlog, equality on arrays and numbers, null and missing', async () => {
    const queries: Array<[string, Document, Document?]> = [
      ['claim shape', { _id: { $in: someIds(3, 500) }, ...claimableFilter(now) }],
      ['_id equality plus a field', { _id: someIds(1, 8)[7]!, status: 'pending' }],
      ['read-back by token', { leaseToken: 'token-10' }],
      ['token $in', { leaseToken: { $in: ['token-0', 'token-20', 'nope'] } }],
      ['sweep', claimableFilter(now), { _id: 1 }],
      ['waiting', WAITING],
      ['processed true', { processed: true }],
      ['dedup key', { dedupKey: { $in: ['["t1","generic","e1"]', '["t2","generic","e2"]', 'none'] } }],
      ['array element equality', { 'payload.tags': 'tag3' }],
      ['number equality across types', { 'payload.i': 42.0 }],
      ['null matches missing', { leaseToken: null, status: 'failed' }],
      ['$or with _id', { $or: [{ _id: someIds(1, 3)[2]! }, { leaseToken: 'token-30' }] }],
      ['no such _id', { _id: { $in: [new ObjectId()] }, processed: false }],
      // Date ranges on an index's first key (ours reads the dates in range: a TTL monitor's delete).
      ['date range', { receivedAt: { $gte: minute(2), $lt: minute(5) } }],
      ['date range and equality', { tenantId: 't2', receivedAt: { $lt: minute(1) } }],
      ['date from, inclusive', { receivedAt: { $gte: new Date(Date.UTC(2026, 10, 25, 0, 9, 59)) } }],
      ['date bounds tightened', { receivedAt: { $lte: minute(4), $lt: minute(3), $gt: minute(1), $gte: minute(1) } }],
      ['empty date range', { receivedAt: { $gt: minute(3), $lt: minute(3) } }],
      ['TTL shape', { processed: true, receivedAt: { $lt: minute(3) } }],
      ['a date bound matches no string', { status: { $lt: minute(3) } }],
    ];
    for (const [name, filter, sort] of queries) {
      const found = await both((raw) => raw.find(filter, sort ? { sort } : {}).toArray());
      expect(ids(found.ours).sort(), name).toEqual(ids(found.upstream).sort());
      if (sort) expect(ids(found.ours), `${name}, in order`).toEqual(ids(found.upstream));
      const counted = await both((raw) => raw.countDocuments(filter));
      expect(counted.ours, name).toBe(counted.upstream);
    }
    // Sorted with a limit, as the sweep runs, and with ties on the sort key (skip included): the same
    // documents in the same order, though ours keeps only the best few while it reads.
    const limited: Array<[Document, { sort: Document; limit: number; skip?: number }]> = [
      [claimableFilter(now), { sort: { _id: 1 }, limit: 50 }],
      [{ receivedAt: { $gte: minute(7) } }, { sort: { receivedAt: 1, _id: 1 }, limit: 40 }],
      [{}, { sort: { status: 1 }, limit: 30, skip: 10 }],
      [{}, { sort: { processed: -1, status: 1 }, limit: 7 }],
      [WAITING, { sort: { _id: -1 }, limit: 3, skip: 2 }],
      // A pass over the backlog continuing after an id (ours walks waiting_by_id from there).
      [
        { ...claimableFilter(now), _id: { $gt: someIds(1, 1501)[1500]! } },
        { sort: { _id: 1 }, limit: 60 },
      ],
      [
        { ...claimableFilter(now), _id: { $gt: someIds(1, 2601)[2600]! } },
        { sort: { _id: 1 }, limit: 50, skip: 1 },
      ],
    ];
    for (const [filter, options] of limited) {
      const found = await both((raw) => raw.find(filter, options).toArray());
      expect(ids(found.ours), JSON.stringify(options)).toEqual(ids(found.upstream));
      expect(found.ours, JSON.stringify(options)).toHaveLength(options.limit);
    }
    // The claim shape and the read-back find something, so the comparison is not of two empty lists.
    expect((await ours.find({ _id: { $in: someIds(3, 500) }, ...claimableFilter(now) }).toArray()).length).toBeGreaterThan(100);
    expect((await ours.find({ leaseToken: 'token-10' }).toArray()).length).toBeGreaterThan(0);
    await expectSameDistincts();
    await expectSameAggregates();
  });

  it('updates, deletes and the queries after them: the indexes follow every change', async () => {
    const claimIds = someIds(2, 700);
    const steps: Array<(raw: Collection<RawTransaction>) => Promise<unknown>> = [
      (raw) =>
        raw.updateMany(
          { _id: { $in: claimIds }, ...claimableFilter(now) },
          { $set: { leaseOwner: 'w2', leaseToken: 'claim-1', leaseUntil: now } },
        ),
      (raw) =>
        raw.updateMany(
          { leaseToken: 'claim-1', attempts: { $lt: 3 } },
          { $set: { processed: true, status: 'processed', leaseToken: null } },
        ),
      (raw) => raw.updateMany({ leaseToken: 'claim-1' }, { $set: { status: 'failed' }, $inc: { attempts: 1 } }),
      (raw) => raw.deleteMany({ _id: { $in: someIds(5, 100) }, processed: true }),
      (raw) => raw.updateOne({ leaseToken: 'token-0' }, { $unset: { leaseToken: '' } }),
      (raw) =>
        raw.insertOne({
          ...({} as RawTransaction),
          _id: new ObjectId('f'.repeat(24)),
          processed: false,
          status: 'pending',
          leaseToken: 'claim-1',
        }),
      // A tenant held as null, and one tenant's documents all processed: distinct must skip that tenant.
      (raw) => raw.insertOne({ ...({} as RawTransaction), _id: new ObjectId('e'.repeat(24)), tenantId: null as never, processed: false }),
      (raw) => raw.updateMany({ tenantId: 't6' }, { $set: { processed: true, status: 'processed' } }),
      // Dates that move (the date order follows) or become another type (they leave it).
      (raw) => raw.updateMany({ tenantId: 't5', status: 'pending' }, { $set: { receivedAt: new Date(Date.UTC(2026, 10, 24)) } }),
      (raw) => raw.updateMany({ tenantId: 't4', status: 'failed' }, { $set: { receivedAt: 'yesterday' as never } }),
      (raw) => raw.deleteMany({ tenantId: 't3', receivedAt: { $lt: new Date(Date.UTC(2026, 10, 25, 0, 2)) } }),
    ];
    for (const step of steps) await both(step);
    // Counts of an update by _id $in (ours applies it id by id): repeated and unknown ids, documents that
    // already hold the value (matched, not modified), a condition beside the ids, and a single id.
    const repeated = [...someIds(7, 50), ...someIds(7, 10), new ObjectId()];
    const updates: Array<[Filter<RawTransaction>, Document]> = [
      [{ _id: { $in: repeated } }, { $set: { attempts: 2 } }],
      [{ _id: { $in: repeated }, status: 'pending' }, { $inc: { attempts: 1 } }],
      [{ _id: someIds(7, 3)[2]! }, { $set: { attempts: 9 } }],
    ];
    for (const [filter, update] of updates) {
      const result = await both((raw) => raw.updateMany(filter, update));
      const counts = (r: { matchedCount: number; modifiedCount: number }) => [r.matchedCount, r.modifiedCount];
      expect(counts(result.ours), JSON.stringify(filter)).toEqual(counts(result.upstream));
    }
    const changed = await both((raw) => raw.find({ _id: { $in: repeated } }, { sort: { _id: 1 } }).toArray());
    expect(changed.ours).toEqual(changed.upstream);
    const filters: Array<Filter<RawTransaction>> = [
      { leaseToken: 'claim-1' },
      { processed: true },
      WAITING,
      { leaseToken: 'token-0' },
      { _id: { $in: claimIds }, status: 'failed' },
      { receivedAt: { $lt: new Date(Date.UTC(2026, 10, 25)) } },
      { receivedAt: { $gte: new Date(Date.UTC(2026, 10, 25)), $lt: new Date(Date.UTC(2026, 10, 25, 0, 4)) } },
      { tenantId: 't4', receivedAt: { $gte: new Date(Date.UTC(2026, 10, 24)) } },
    ];
    for (const filter of filters) {
      const found = await both((raw) => raw.find(filter).toArray());
      expect(ids(found.ours).sort(), JSON.stringify(filter)).toEqual(ids(found.upstream).sort());
    }
    expect(await ours.countDocuments({ leaseToken: 'claim-1' })).toBeGreaterThan(1);
    // Sorted by _id, as the sweep and the backlog's oldest read: ours walks waiting_by_id in _id order and
    // stops after the limit. The last insert took a position freed by the delete, low in the collection, so
    // only a real _id order puts it last (first, descending).
    const sorted: Array<{ sort: { _id: 1 | -1 }; limit: number; skip?: number }> = [
      { sort: { _id: 1 }, limit: 2_000 },
      { sort: { _id: -1 }, limit: 5 },
      { sort: { _id: -1 }, limit: 4, skip: 3 },
      { sort: { _id: 1 }, limit: 0 },
    ];
    for (const options of sorted) {
      const found = await both((raw) => raw.find(claimableFilter(now), options).toArray());
      expect(ids(found.ours), JSON.stringify(options)).toEqual(ids(found.upstream));
    }
    // Continuing after an id, beyond the last one, and after one the deletes removed.
    for (const after of [someIds(1, 2001)[2000]!, new ObjectId('f'.repeat(24)), someIds(5, 3)[2]!]) {
      const options = { sort: { _id: 1 as const }, limit: 100 };
      const found = await both((raw) => raw.find({ ...claimableFilter(now), _id: { $gt: after } }, options).toArray());
      expect(ids(found.ours), `after ${after}`).toEqual(ids(found.upstream));
    }
    const newest = await ours.find(claimableFilter(now), { sort: { _id: -1 }, limit: 1 }).toArray();
    expect(ids(newest)).toEqual(['f'.repeat(24)]);
    await expectSameDistincts();
    await expectSameAggregates();
    expect(await ours.distinct('tenantId', { processed: false }), 'null held, t6 all processed').toEqual([
      null,
      't0',
      't1',
      't2',
      't3',
      't4',
      't5',
    ]);
  });

  it("replies as mongod's do: a find's first batch is 101 documents, and no reply passes 16 MiB", async () => {
    const db = ours.db;
    const big = db.collection('standin_batches');
    const MiB = 2 ** 20;
    // Ten documents of 3 MiB: five fit one 16 MiB reply, the sixth would pass it.
    await big.insertMany(Array.from({ length: 10 }, (_, i) => ({ i, pad: 'x'.repeat(3 * MiB) })));
    const first = await db.command({ find: 'standin_batches', batchSize: 100 });
    expect(first.cursor.firstBatch).toHaveLength(5);
    const more = await db.command({ getMore: first.cursor.id, collection: 'standin_batches' });
    expect(more.cursor.nextBatch).toHaveLength(5);
    // What a client reads is unchanged: every document, in order.
    expect((await big.find({}, { projection: { i: 1 } }).toArray()).map((doc) => doc.i)).toEqual([...Array(10).keys()]);
    // Without a batchSize, 101 documents first; the backend's own reads (a count) still see every one.
    const small = db.collection('standin_small');
    await small.insertMany(Array.from({ length: 150 }, (_, i) => ({ i })));
    expect((await db.command({ find: 'standin_small' })).cursor.firstBatch).toHaveLength(101);
    expect(await small.countDocuments({})).toBe(150);
  });

  it('TTL indexes expire documents as mongod does: dates older than the age, within the partial filter only', async () => {
    const events = ours.db.collection('ttl_probe');
    await events.createIndex({ doneAt: 1 }, { name: 'ttl', expireAfterSeconds: 2, partialFilterExpression: { done: true } });
    const longAgo = new Date(Date.now() - 60_000);
    await events.insertMany([
      { n: 1, done: true, doneAt: longAgo },
      { n: 2, done: false, doneAt: longAgo }, // outside the partial filter: kept
      { n: 3, done: true, doneAt: new Date(Date.now() + 3_600_000) }, // not old enough
      { n: 4, done: true, doneAt: 'yesterday' }, // not a date: kept, as on mongod
      { n: 5, done: true }, // no date at all: kept
    ]);
    const left = async () => (await events.find({}).sort({ n: 1 }).toArray()).map((doc) => doc.n);
    const deadline = Date.now() + 10_000;
    while ((await left()).includes(1) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await left()).toEqual([2, 3, 4, 5]);
  });

  it('change streams deliver every insert once, in order, under concurrent writers, and resume after a token', async () => {
    const events = ours.db.collection('stream_probe');
    const noise = ours.db.collection('stream_noise');
    const received: string[] = [];
    const clusterTimes: bigint[] = [];
    const stream = events.watch([{ $match: { operationType: 'insert' } }]);
    let token: unknown;
    const reader = (async () => {
      while (received.length < 1_000) {
        const change = (await stream.next()) as { _id: unknown; documentKey: { _id: unknown }; clusterTime: { high: number; low: number } };
        received.push(String(change.documentKey._id));
        clusterTimes.push((BigInt(change.clusterTime.high) << 32n) | BigInt(change.clusterTime.low >>> 0));
        token = change._id;
      }
    })();
    // Eight writers at once, each also writing to another collection (which the stream must not see).
    const written: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let i = 0; i < 250; i++) {
          const { insertedId } = await events.insertOne({ writer, i });
          written.push(String(insertedId));
          await noise.insertOne({ writer, i });
          await events.updateOne({ _id: insertedId }, { $set: { seen: true } });
        }
      }),
    );
    await reader;
    await stream.close();
    const first = received.slice(0, 1_000);
    expect(new Set(first).size).toBe(1_000);
    // In the order the server wrote them: cluster times strictly increase.
    expect(clusterTimes.every((time, i) => i === 0 || time > clusterTimes[i - 1]!)).toBe(true);

    // Resuming after the 1,000th event yields exactly the other 1,000, once each.
    const resumed = events.watch([{ $match: { operationType: 'insert' } }], { resumeAfter: token as never });
    const rest: string[] = [];
    while (rest.length < 1_000) rest.push(String(((await resumed.next()) as { documentKey: { _id: unknown } }).documentKey._id));
    await resumed.close();
    expect(new Set([...first, ...rest]).size).toBe(2_000);
    expect([...first, ...rest].sort()).toEqual(written.slice().sort());

    // A token that is not one of ours is refused.
    const foreign = events.watch([], { resumeAfter: { _data: 'not-a-token' } as never });
    await expect(foreign.next()).rejects.toThrow();
    await foreign.close();
  });

  it("a change stream's leading $match on operationType skips the other entries, and still decides with its other conditions", async () => {
    const collection = ours.db.collection('stream_kinds');
    const watch = (pipeline: Document[]) => collection.watch(pipeline);
    const streams = {
      inserts: watch([{ $match: { operationType: 'insert' } }]),
      updates: watch([{ $match: { operationType: 'update' } }]),
      large: watch([{ $match: { operationType: 'insert', 'fullDocument.n': { $gte: 10 } } }]),
      all: watch([]),
    };
    const read = async (stream: (typeof streams)['all'], count: number) => {
      const changes: Array<{ operationType: string; n?: number }> = [];
      while (changes.length < count) {
        const change = (await stream.next()) as { operationType: string; fullDocument?: { n?: number } };
        changes.push({ operationType: change.operationType, n: change.fullDocument?.n });
      }
      await stream.close();
      return changes.map((c) => `${c.operationType}${c.n === undefined ? '' : ` ${c.n}`}`);
    };
    // Each stream's cursor opened (a stream starts from the moment it is), before anything is written.
    for (const stream of Object.values(streams)) expect(await stream.tryNext()).toBeNull();
    const readers = [read(streams.inserts, 20), read(streams.updates, 20), read(streams.large, 10), read(streams.all, 40)];
    for (let n = 0; n < 20; n++) {
      const { insertedId } = await collection.insertOne({ n });
      await collection.updateOne({ _id: insertedId }, { $set: { seen: true } });
    }
    const [inserts, updates, large, all] = await Promise.all(readers);
    const numbers = Array.from({ length: 20 }, (_, n) => n);
    expect(inserts).toEqual(numbers.map((n) => `insert ${n}`));
    expect(updates).toEqual(numbers.map(() => 'update'));
    expect(large).toEqual(numbers.slice(10).map((n) => `insert ${n}`));
    expect(all).toEqual(numbers.flatMap((n) => [`insert ${n}`, 'update']));
  });
});
