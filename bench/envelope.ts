// The envelopes every bench scenario sends, in a module of their own: the load generator (bench/loadgen.ts)
// needs only this, not the whole system support.ts brings in (1.9 s of CPU to import that, 0.3 s for
// this module, at every generator start).

/** The i-th bench envelope; `padBytes` adds that many bytes of metadata (large documents, `--payload-kib`). */
export const envelopeOf = (i: number, padBytes = 0) => ({
  source: 'generic' as const,
  payload: {
    account: `acc-${i % 50}`,
    amountMinor: (i % 10_000) + 1,
    currency: 'EUR',
    occurredAt: '2026-11-24T10:00:00Z',
    description: `bench ${i}`,
    ...(padBytes > 0 ? { metadata: { pad: 'x'.repeat(padBytes) } } : {}),
  },
});
