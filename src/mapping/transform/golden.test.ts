// Golden tests: every fixture under fixtures/<source>/ is a realistic payload of that source with what
// the mapper must make of it (`expected`, compared field by field) or the error it must give (`error`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SOURCES } from '../../domain/envelope.js';
import type { Mapped } from '../../domain/transaction.js';
import { transformRaw } from './index.js';

interface Fixture {
  description: string;
  payload: Record<string, unknown>;
  externalId?: string;
  expected?: Record<string, unknown>;
  error?: string;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The transaction as JSON: bigint as a string, dates as ISO strings. */
const asJson = (tx: Mapped) =>
  JSON.parse(JSON.stringify(tx, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as Record<
    string,
    unknown
  >;

describe.each([...SOURCES])('%s mapper', (source) => {
  const dir = join(FIXTURES, source);
  const files = readdirSync(dir).filter((file) => file.endsWith('.json'));

  it('has fixtures', () => expect(files.length).toBeGreaterThanOrEqual(5));

  it.each(files)('%s', (file) => {
    const fixture = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Fixture;
    const raw = {
      rawId: '6b0680b3075f51a30f180db7',
      tenantId: 'acme',
      source,
      externalId: fixture.externalId ?? null,
      payload: fixture.payload,
      receivedAt: new Date('2026-11-25T00:00:00Z'),
    };
    if (fixture.error !== undefined) {
      expect(() => transformRaw(raw), fixture.description).toThrow(fixture.error);
      return;
    }
    expect(fixture.expected, `${file} says neither expected nor error`).toBeDefined();
    const tx = asJson(transformRaw(raw));
    expect(tx).toMatchObject({ rawId: raw.rawId, tenantId: 'acme', source, receivedAt: '2026-11-25T00:00:00.000Z', ...fixture.expected });
  });
});
