// Processors share the key space by hash slots: three `prismo process` children, each claiming only the
// documents of its own slots, so no two race for a document; one killed (-9), its slots go to the others
// once its membership lease lapses, and every document is still processed exactly once. Two processors that
// share a host name and a pid (containers on the host's network) are two members all the same.
import { describe, expect, it } from 'vitest';
import { insertRawMany } from '../../src/raw-store/insert.js';
import { mongoUri, waitFor } from '../support/databases.js';
import { canIsolate, startProcessorProcess } from '../support/processor-process.js';
import { useSystem } from '../support/system.js';

const envelope = (i: number) => ({
  source: 'generic' as const,
  externalId: `slot-${i}`,
  payload: { account: `acc-${i % 7}`, amountMinor: 100 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
});

describe.skipIf(!mongoUri)('processors sharing hash slots', () => {
  const sys = useSystem();

  async function insert(from: number, count: number) {
    for (let i = from; i < from + count; i += 500) {
      const results = await insertRawMany(
        sys.mongo.raw,
        'acme',
        Array.from({ length: Math.min(500, from + count - i) }, (_, k) => envelope(i + k)),
      );
      expect(results.every((r) => 'id' in r && !r.duplicate)).toBe(true);
    }
  }

  /** Which workers processed each slot's documents (from the processing logs), and how often each document was. */
  async function whoProcessed() {
    const logs = await sys.mongo.logs
      .aggregate<{ _id: string; workers: string[]; slot: number }>([
        { $match: { outcome: 'processed' } },
        { $group: { _id: '$rawId', workers: { $push: '$worker' } } },
      ])
      .toArray();
    const slotOf = new Map(
      (await sys.mongo.raw.find({}, { projection: { _id: 1, slot: 1 } }).toArray()).map((d) => [d._id.toHexString(), d.slot!]),
    );
    const bySlot = new Map<number, Set<string>>();
    for (const log of logs) {
      const slot = slotOf.get(String(log._id))!;
      bySlot.set(slot, new Set([...(bySlot.get(slot) ?? []), ...log.workers]));
    }
    return { timesProcessed: logs.map((log) => log.workers.length), bySlot };
  }

  const rows = () => sys.pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number);

  it('each slot is claimed by one processor; a killed one’s slots move to the others and nothing is lost or doubled', async () => {
    const databases = { mongoDb: sys.mongo.dbName, pgUrl: sys.pg.url };
    const env = { POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' };
    const processors = [];
    for (const worker of ['slots-1', 'slots-2', 'slots-3']) {
      const processor = await startProcessorProcess(databases, { ...env, WORKER_ID: worker });
      sys.defer(processor.kill);
      processors.push(processor);
    }
    await waitFor('three members', async () => (await sys.mongo.members.countDocuments({})) === 3);
    // Every member renews every 250 ms: after a second each has seen the other two.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    await insert(0, 3_000);
    await waitFor('3,000 rows', async () => (await rows()) === 3_000, { timeoutMs: 60_000 });
    await waitFor('3,000 logged', async () => (await sys.mongo.logs.countDocuments({ outcome: 'processed' })) === 3_000);
    const first = await whoProcessed();
    expect(first.timesProcessed.every((n) => n === 1)).toBe(true);
    expect([...first.bySlot.values()].every((workers) => workers.size === 1)).toBe(true);
    const owners = new Set([...first.bySlot.values()].flatMap((w) => [...w]));
    expect([...owners].sort()).toEqual(['slots-1', 'slots-2', 'slots-3']);
    const slotsOf2 = [...first.bySlot.entries()].filter(([, w]) => w.has('slots-2')).map(([slot]) => slot);

    // Killed: no clean leave; its membership lease (5 s) lapses and the other two share its slots.
    await processors[1]!.kill();
    await insert(3_000, 1_500);
    await waitFor('4,500 rows', async () => (await rows()) === 4_500, { timeoutMs: 60_000 });
    await waitFor('4,500 logged', async () => (await sys.mongo.logs.countDocuments({ outcome: 'processed' })) === 4_500);
    const after = await whoProcessed();
    expect(after.timesProcessed.every((n) => n === 1)).toBe(true);
    // The documents of its slots that came after it died were taken by the others.
    for (const slot of slotsOf2) expect([...after.bySlot.get(slot)!].some((worker) => worker !== 'slots-2')).toBe(true);
  });

  // As two containers of the image with --network host: both are named vm-1, both run as pid 1. With the
  // old default WORKER_ID (hostname-pid) they were one member, each claiming all 64 slots.
  it.skipIf(!canIsolate)('two processors with the same host name and pid are two members and claim disjoint slots', async () => {
    const databases = { mongoDb: sys.mongo.dbName, pgUrl: sys.pg.url };
    const env = { POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' };
    for (let i = 0; i < 2; i++) {
      const processor = await startProcessorProcess(databases, env, { hostname: 'vm-1' });
      sys.defer(processor.kill);
    }
    await waitFor('two members', async () => (await sys.mongo.members.countDocuments({})) === 2);
    const bothJoined = new Date();
    const members = await sys.mongo.members.find({}).toArray();
    for (const member of members) expect(member._id).toMatch(/^vm-1-1-[0-9a-f]{8}$/);
    // A renewal that started after both had joined has seen both: from then on each claims its own slots.
    await waitFor(
      'each renewed since both joined',
      async () => (await sys.mongo.members.countDocuments({ seenAt: { $gt: bothJoined } })) === 2,
    );

    await insert(0, 2_000);
    await waitFor('2,000 rows', async () => (await rows()) === 2_000, { timeoutMs: 60_000 });
    await waitFor('2,000 logged', async () => (await sys.mongo.logs.countDocuments({ outcome: 'processed' })) === 2_000);
    const { timesProcessed, bySlot } = await whoProcessed();
    expect(timesProcessed.every((n) => n === 1)).toBe(true);
    expect([...bySlot.values()].every((workers) => workers.size === 1)).toBe(true);
    const owners = new Set([...bySlot.values()].flatMap((workers) => [...workers]));
    expect([...owners].sort()).toEqual(members.map((member) => member._id).sort());
  });
});
