// The fence around PostgreSQL's tables: SQL on them lives in pg-store/ (and the migrations that make them),
// so that a change to a table is one folder's change. The lint fences imports; this fences statements.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..');
const TABLES = [
  'transactions',
  'transaction_revisions',
  'transaction_aliases',
  'transaction_removals',
  'accounts',
  'counterparties',
  'events',
  'webhook_endpoints',
  'webhook_deliveries',
  'webhook_resends',
  'reconciliation_\\w+',
];
/**
 * A table named where SQL names one: after FROM, JOIN, INTO, UPDATE, TABLE (DELETE FROM is a FROM), or passed as a
 * call's first argument (a statement built from the name, as the writer's multi-row inserts are).
 */
const STATEMENT = new RegExp(
  `\\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\\s+(?:ONLY\\s+)?(${TABLES.join('|')})\\b|\\(\\s*'(${TABLES.join('|')})'\\s*,`,
  'g',
);

/** The source files outside pg-store/ and the migrations, tests left out. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const rel = relative(SRC, path);
    if (entry.isDirectory()) return rel === 'pg-store' || rel === join('db', 'migrations') ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Each file's statements on the tables, as `file: TABLE`. */
function offenders(files: string[]): string[] {
  return files.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(STATEMENT)].map((m) => `${relative(SRC, file)}: ${m[0].replace(/\s+/g, ' ')}`),
  );
}

describe('pg-store owns the SQL on its tables', () => {
  it('the pattern finds a statement on a table and leaves prose and other tables alone', () => {
    const hits = (text: string) => [...text.matchAll(STATEMENT)].map((m) => m[1] ?? m[2]);
    expect(hits('SELECT 1 FROM events e JOIN webhook_endpoints w ON true')).toEqual(['events', 'webhook_endpoints']);
    expect(hits(`DELETE FROM reconciliation_days WHERE x\nUPDATE\n  transactions t SET`)).toEqual(['reconciliation_days', 'transactions']);
    expect(hits('INSERT INTO transaction_revisions (a) VALUES (1)')).toEqual(['transaction_revisions']);
    expect(hits("new UnnestInsert<Row>('accounts', [")).toEqual(['accounts']);
    expect(
      hits("the events from the feed; SELECT name FROM pgmigrations; FROM raw_transactions; { component: 'events' }; 'transactions:read'"),
    ).toEqual([]);
  });

  it('no file in src/ outside pg-store/ and db/migrations/ holds SQL on them', () => {
    expect(offenders(sources(SRC))).toEqual([]);
  });
});
