import { describe, expect, it } from 'vitest';
import { InFlight } from './in-flight.js';

const admitMany = (inFlight: InFlight, tenant: string, count: number) =>
  Array.from({ length: count }, (_, i) => inFlight.admit(`${tenant}-${i}`, tenant)).filter(Boolean).length;

describe('InFlight', () => {
  it('a lone tenant takes all but the reserve; an arriving tenant the reserve; then they share', () => {
    const inFlight = new InFlight(100, 10);
    expect(admitMany(inFlight, 'b', 200)).toBe(90);
    expect(inFlight.roomFor('a')).toBe(10);
    expect(admitMany(inFlight, 'a', 5)).toBe(5);
    // Two tenants hold candidates now: each may hold 45; b is over, so b takes nothing until it settles.
    expect(inFlight.roomFor('b')).toBeLessThanOrEqual(0);
    inFlight.settle(Array.from({ length: 60 }, (_, i) => `b-${i}`));
    expect(inFlight.roomFor('b')).toBe(45 - 30);
    expect(inFlight.roomFor('a')).toBe(45 - 5);
  });

  it('without a reserve, first come first served up to the maximum', () => {
    const inFlight = new InFlight(10);
    expect(admitMany(inFlight, 'b', 20)).toBe(10);
    expect(inFlight.admit('a-0', 'a')).toBe(false);
    expect(inFlight.admit('b-0', 'b')).toBe(false);
  });
});
