// docs/api.md's error table cannot drift from the code: every problem type src/ can send (found by reading
// the sources, as a reviewer would grep them) has a row with its status, and the OpenAPI contract declares it.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GENERIC_PROBLEM_TYPES } from '../http/problem.js';
import { type ProblemCase, ROUTE_PROBLEMS } from './problem-cases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Files that build a problem from a slug held in a variable, and the slugs (with their status) they choose
 * from. Each slug must appear in its file as a literal, so a slug renamed there fails this test too.
 */
const CHOSEN_SLUGS: Record<string, Array<[number, string]>> = {
  'src/gateway/statement-quota.ts': [
    [413, 'stored-statement-bytes-quota'],
    [413, 'daily-bytes-quota'],
    [413, 'waiting-bytes-quota'],
  ],
  // The ingestion service's own problems, passed on as they came (their constructions are in src/ingest/).
  'src/gateway/ingest-client.ts': [],
};

/** Sent for what no operation of the document is: a method the path does not declare (405, with Allow). */
const NOT_AN_OPERATION_RESPONSE = ['method-not-allowed'];

interface Found {
  status?: number;
  type: string;
  where: string;
}

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')).map((e) => join(e.parentPath, e.name));
}

/** Every problem type a source file can send: HttpProblem constructions, `slug:` in a problem, `/problems/…` literals. */
function problemsIn(file: string, text: string): { found: Found[]; dynamic: boolean } {
  const found: Found[] = [];
  for (const m of text.matchAll(/new HttpProblem\(\s*(\d{3}),\s*'([a-z-]+)'/g))
    found.push({ status: Number(m[1]), type: m[2]!, where: file });
  for (const m of text.matchAll(/\bslug: '([a-z-]+)'/g)) found.push({ type: m[1]!, where: file });
  for (const m of text.matchAll(/'\/problems\/([a-z-]+)'/g)) found.push({ type: m[1]!, where: file });
  const dynamic = /new HttpProblem\(\s*[\w.]+,\s*[a-zA-Z_]\w*[,)]/.test(text);
  return { found, dynamic };
}

async function typesTheCodeSends(): Promise<Found[]> {
  const found: Found[] = Object.entries(GENERIC_PROBLEM_TYPES).map(([status, type]) => ({
    status: Number(status),
    type,
    where: 'GENERIC_PROBLEM_TYPES',
  }));
  for (const path of await sources(join(ROOT, 'src'))) {
    const file = relative(ROOT, path);
    const text = await readFile(path, 'utf8');
    const problems = problemsIn(file, text);
    found.push(...problems.found);
    if (!problems.dynamic) continue;
    const chosen = CHOSEN_SLUGS[file];
    expect(chosen, `${file} builds an HttpProblem from a variable slug: list its slugs in CHOSEN_SLUGS`).toBeDefined();
    for (const [status, type] of chosen ?? []) {
      expect(text, `${file} no longer names ${type}`).toContain(`'${type}'`);
      found.push({ status, type, where: file });
    }
  }
  return found;
}

/** The rows of docs/api.md's "## Errors" table: status, the problem types the row names. */
async function errorTable(): Promise<Array<{ status: number; types: string[] }>> {
  const doc = await readFile(join(ROOT, 'docs/api.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Errors\n')) ?? '';
  return section
    .split('\n')
    .filter((line) => /^\| \d{3} \|/.test(line))
    .map((line) => ({
      status: Number(line.slice(2, 5)),
      types: [...line.matchAll(/`\/problems\/([a-z-]+)`/g)].map((m) => m[1]!),
    }));
}

describe("docs/api.md's error table", () => {
  it('has a row, with its status, for every problem type the code can send', async () => {
    const rows = await errorTable();
    expect(rows.length).toBeGreaterThan(10);
    const found = await typesTheCodeSends();
    // The scan finds what it should: a type sent only through a variable, and one only as a literal.
    expect(found.map((f) => f.type)).toEqual(expect.arrayContaining(['daily-bytes-quota', 'not-stored', 'internal-server-error']));
    const missing = found.filter(
      (f) => !rows.some((row) => row.types.includes(f.type) && (f.status === undefined || row.status === f.status)),
    );
    expect(
      missing.map((f) => `${f.status ?? '?'} /problems/${f.type} (${f.where})`),
      'problem types the code sends that docs/api.md, "Errors", does not list under their status',
    ).toEqual([]);
  });

  it('lists every problem the OpenAPI contract declares, and the contract declares every one a route answers', async () => {
    const rows = await errorTable();
    const declared = Object.values(ROUTE_PROBLEMS)
      .flat()
      .filter((c: ProblemCase) => c.type !== null);
    const undocumented = declared.filter((c) => !rows.some((row) => row.status === c.status && row.types.includes(c.type!)));
    expect(undocumented.map((c) => `${c.status} /problems/${c.type}`)).toEqual([]);
    // Every status-and-type a response can carry (the item problems of a batch's 207 aside) is in problem-cases.ts.
    const sent = (await typesTheCodeSends()).filter((f) => f.status !== undefined && !NOT_AN_OPERATION_RESPONSE.includes(f.type));
    const undeclared = sent.filter((f) => !declared.some((c) => c.status === f.status && c.type === f.type));
    expect(undeclared.map((f) => `${f.status} /problems/${f.type} (${f.where})`)).toEqual([]);
  });

  it('says Node answers 408 itself, without a problem body', async () => {
    expect((await errorTable()).some((row) => row.status === 408)).toBe(true);
  });
});
