import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalHash } from './canonical-hash.js';

const digestOf = (value: unknown) => createHash('sha256').update(canonicalize(value)!).digest('hex');

class Marker {
  constructor(readonly path: string) {}
}

describe('canonicalHash', () => {
  it('is the SHA-256 of canonicalize to the byte, so records written before it still match', async () => {
    const values: unknown[] = [
      ['POST', '/api/v1/transactions', { source: 'generic', payload: { b: 1, a: [1, 'x', null, true, { z: 1e21, y: -0 }] } }],
      [
        'POST',
        '/api/v1/transactions/batch',
        { items: [{ b: { d: { e: [1, { g: 2, f: 'é😀' }] } }, a: undefined }, undefined, new Marker('items.2')] },
      ],
      ['POST', '/x', null],
      ['POST', '/x', { '': [], é: {}, a: [[[]]], B: 0.1 }],
      { items: [[[[{ k: 'deep' }]]]] },
      'plain',
    ];
    for (const value of values) expect(await canonicalHash(value)).toBe(digestOf(value));
  });

  it('hashes a lone surrogate (which canonicalize refuses) the same way each time, and apart from its neighbours', async () => {
    const lone = ['POST', '/x', { items: [{ note: 'a\ud800' }] }];
    expect(() => canonicalize(lone)).toThrow();
    expect(await canonicalHash(lone)).toBe(await canonicalHash(structuredClone(lone)));
    expect(await canonicalHash(lone)).not.toBe(await canonicalHash(['POST', '/x', { items: [{ note: 'a\udc00' }] }]));
  });

  it('lets the event loop run while it hashes a 14 MiB batch', async () => {
    const items = Array.from({ length: 1_000 }, (_, i) => ({
      source: 'generic',
      externalId: `i-${i}`,
      payload: { d: 'd'.repeat(15_000) },
    }));
    const value = ['POST', '/api/v1/transactions/batch', { items }];
    let turns = 0;
    let longestMs = 0;
    let last = performance.now();
    let hashing = true;
    const tick = () => {
      const now = performance.now();
      longestMs = Math.max(longestMs, now - last);
      last = now;
      turns++;
      if (hashing) setImmediate(tick);
    };
    setImmediate(tick);
    const started = performance.now();
    const digest = await canonicalHash(value);
    hashing = false;
    console.info(
      `14 MiB batch hashed in ${(performance.now() - started).toFixed(0)} ms, ${turns} turns, longest stretch ${longestMs.toFixed(0)} ms`,
    );
    // canonicalize then one update: one stretch of 85–140 ms here, no turn at all.
    expect(turns).toBeGreaterThan(3);
    expect(digest).toBe(digestOf(value));
  });
});
