// The client package as CI checks it: its generated types equal what the gateway's OpenAPI document gives
// today (so client and API cannot drift), and `npm pack` yields a tarball that installs, offline, into an
// empty directory where a plain ESM script imports it and a TypeScript consumer type-checks against it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedTypes, TYPES_FILE } from '../../scripts/generate-client-types.js';

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL('../../clients/typescript/', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));

/** What a new API client writes first: the package imported by name, a client made, its resources there. */
const CONSUMER_MJS = `import { createClient, PrismoError } from '@prismo/client';
const client = createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', retries: 0 });
const methods = [client.transactions.create, client.transactions.list, client.statements.upload, client.events.follow];
if (!methods.every((m) => typeof m === 'function')) throw new Error('a resource method is missing');
const error = await client.transactions.get('0'.repeat(24)).catch((e) => e);
if (error instanceof PrismoError || !(error instanceof Error)) throw new Error('a refused connection should fail as a network error');
const problem = new PrismoError({ type: '/problems/not-found', title: 'Not Found', status: 404, detail: 'x' });
if (problem.status !== 404 || problem.errors.length !== 0) throw new Error('PrismoError lost its fields');
console.log('imported @prismo/client');
`;

/** The same from TypeScript, strict, with the DOM's globals and no @types/node (none above the temp dir): the .d.ts must suffice. */
const CONSUMER_TS = `import { createClient, type Envelope, type TransactionRow } from '@prismo/client';
const client = createClient({ baseUrl: 'https://api.example.com', apiKey: 'k' });
const envelope: Envelope = { source: 'generic', payload: { account: 'a', amountMinor: 1, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' } };
export async function main(): Promise<string[]> {
  await client.transactions.create(envelope, { idempotencyKey: 'order-1' });
  const rows: TransactionRow[] = [];
  for await (const row of client.transactions.list({ status: 'posted' }, { pageSize: 50 })) rows.push(row);
  return rows.map((row) => row.amount.currency);
}
`;

describe('@prismo/client package', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('the committed openapi.d.ts equals the types generated from the gateway document (npx tsx scripts/generate-client-types.ts)', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8');
    const generated = await generatedTypes();
    expect(committed === generated, 'clients/typescript/src/openapi.d.ts is stale: run npx tsx scripts/generate-client-types.ts').toBe(
      true,
    );
  });

  it('npm pack gives a tarball that installs offline into an empty directory, is imported by an ESM script and type-checks', async () => {
    const packed = await mkdtemp(join(tmpdir(), 'prismo-client-pack-'));
    const consumer = await mkdtemp(join(tmpdir(), 'prismo-client-consumer-'));
    dirs.push(packed, consumer);
    // prepack builds dist/ (tsc) first.
    const { stdout } = await run('npm', ['pack', '--pack-destination', packed, '--json'], { cwd: PACKAGE_DIR });
    const [{ filename, files }] = JSON.parse(stdout) as [{ filename: string; files: Array<{ path: string }> }];
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/openapi.d.ts']));
    expect(files.some((f) => f.path.startsWith('src/'))).toBe(false);

    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(packed, filename)], { cwd: consumer });
    await writeFile(join(consumer, 'main.mjs'), CONSUMER_MJS);
    expect((await run(process.execPath, ['main.mjs'], { cwd: consumer })).stdout).toBe('imported @prismo/client\n');

    await writeFile(join(consumer, 'main.ts'), CONSUMER_TS);
    const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--lib', 'es2023,dom', 'main.ts'];
    const checked = await run(process.execPath, [TSC, ...flags], { cwd: consumer }).catch((error: { stdout: string }) => error);
    expect(checked.stdout).toBe('');
  }, 120_000);
});
