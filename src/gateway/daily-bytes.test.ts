import { describe, expect, it } from 'vitest';
import { type AddTenantBytes, DailyBytes, secondsToNextUtcDay, utcDayOf } from './daily-bytes.js';

/** One shared store of counters, as MongoDB is for every gateway; counts its round trips. */
function sharedStore() {
  const counters = new Map<string, number>();
  const calls: number[] = [];
  const add: AddTenantBytes = async (adds) => {
    calls.push(adds.length);
    const totals = new Map<string, number>();
    for (const { tenantId, day, bytes } of adds) {
      const id = JSON.stringify([tenantId, day]);
      counters.set(id, (counters.get(id) ?? 0) + bytes);
      totals.set(id, counters.get(id)!);
    }
    return totals;
  };
  return { add, counters, calls };
}

describe('DailyBytes', () => {
  it('writes what a gateway charged once per round, all tenants together, and sees the other gateways after it', async () => {
    const store = sharedStore();
    const now = () => Date.parse('2026-12-07T12:00:00Z');
    const one = new DailyBytes(store.add, { now, writeEveryMs: 0 });
    const two = new DailyBytes(store.add, { now, writeEveryMs: 0 });
    expect(await one.today('a')).toBe(0);
    expect(await one.today('b')).toBe(0);
    expect(await two.today('a')).toBe(0);
    const reads = store.calls.length;
    for (let i = 0; i < 100; i++) one.charge('a', 10);
    one.charge('b', 5);
    two.charge('a', 7);
    // Before a round, each gateway knows its own.
    expect(await one.today('a')).toBe(1_000);
    expect(await two.today('a')).toBe(7);
    await one.write();
    await two.write();
    expect(store.calls.slice(reads)).toEqual([2, 1]);
    expect(await two.today('a')).toBe(1_007);
    // A tenant asked for since the last round is read again with the next.
    await one.write();
    expect(await one.today('a')).toBe(1_000);
    await one.write();
    expect(await one.today('a')).toBe(1_007);
    expect(store.counters.get(JSON.stringify(['a', '2026-12-07']))).toBe(1_007);
  });

  it('a new UTC day starts from its own counter; the day before keeps what was charged', async () => {
    const store = sharedStore();
    let at = Date.parse('2026-12-07T23:59:59Z');
    const gateway = new DailyBytes(store.add, { now: () => at, writeEveryMs: 0 });
    await gateway.today('a');
    gateway.charge('a', 500);
    at += 2_000;
    expect(await gateway.today('a')).toBe(0);
    await gateway.write();
    expect(store.counters.get(JSON.stringify(['a', '2026-12-07']))).toBe(500);
    expect(store.counters.get(JSON.stringify(['a', '2026-12-08']))).toBe(0);
  });

  it('names the UTC day and the seconds left in it', () => {
    expect(utcDayOf(Date.parse('2026-12-07T23:59:59.999Z'))).toBe('2026-12-07');
    expect(secondsToNextUtcDay(Date.parse('2026-12-07T00:00:00Z'))).toBe(86_400);
    expect(secondsToNextUtcDay(Date.parse('2026-12-07T23:59:59.999Z'))).toBe(1);
  });
});
