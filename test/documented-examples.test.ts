// What a newcomer copies must work: every request example in the OpenAPI document (what /docs "Try it out"
// sends), every envelope in docs/*.md and every curl -d body in README.md is sent to a running system and
// must be accepted and then processed; each example is valid against its schema; each problem example
// carries exactly the fields the real error carries; every ```ts block of docs/clients.md is type-checked and run,
// its webhook receivers receiving real deliveries.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../src/cli/system.js';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import { GUIDE_FILES } from '../src/gateway/guide.js';
import { signatureHeader } from '../src/webhook-endpoints/signature.js';
import { mongoUri, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const ROOT = new URL('../', import.meta.url);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document and the answers are walked as untyped JSON.
type Json = Record<string, any>;
type Example = { where: string; route: string; body: unknown; contentType?: string };

/** Fenced ```json blocks that are whole envelopes (source + payload), from every page of docs/. */
async function docsEnvelopes(): Promise<Example[]> {
  const found: Example[] = [];
  const dir = new URL('docs/', ROOT);
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.md'))) {
    const text = await readFile(new URL(name, dir), 'utf8');
    for (const [index, [, block]] of [...text.matchAll(/```json\n([\s\S]*?)```/g)].entries()) {
      let value: unknown;
      try {
        value = JSON.parse(block!);
      } catch {
        continue; // an illustration with "…" in it, not a request
      }
      if (value && typeof value === 'object' && 'source' in value && 'payload' in value) {
        found.push({ where: `docs/${name} json block ${index}`, route: '/api/v1/transactions', body: value });
      }
    }
  }
  return found;
}

/** README's curl commands that POST a JSON body (-d '…') to the transactions routes. */
async function readmeBodies(): Promise<Example[]> {
  const text = await readFile(new URL('README.md', ROOT), 'utf8');
  const commands = text.split(/\n(?=curl )/).filter((c) => c.startsWith('curl ') && c.includes("-d '"));
  return commands.flatMap((command, index) => {
    const route = /localhost:3000(\/api\/v1\/transactions(?:\/batch)?)\b/.exec(command)?.[1];
    const body = /-d '([^']*)'/.exec(command)?.[1];
    return route && body ? [{ where: `README.md curl ${index}`, route, body: JSON.parse(body) }] : [];
  });
}

/** The request examples of every POST in the OpenAPI document. */
function openapiExamples(doc: Json): Example[] {
  const found: Example[] = [];
  for (const [path, operations] of Object.entries(doc.paths as Json)) {
    const content = (operations as Json).post?.requestBody?.content ?? {};
    for (const [contentType, media] of Object.entries(content as Json)) {
      for (const [name, example] of Object.entries((media as Json).examples ?? {})) {
        found.push({ where: `openapi POST ${path} ${contentType} ${name}`, route: path, body: (example as Json).value, contentType });
      }
    }
  }
  return found;
}

/** docs/clients.md's ```ts blocks, written where they run: `@prismo/client` is the package's own source. */
const CLIENT_SRC = new URL('clients/typescript/src/', ROOT);
const BLOCKS_DIR = new URL('node_modules/.cache/docs-clients/', ROOT);
const ISO_SAMPLE = new URL('src/mapping/transform/vendor/camt053/iso20022-business-sample.camt.053.001.04.xml', ROOT);
/** What webhooks.ts exports: a block importing nothing else runs before the rest of the client exists. */
const WEBHOOKS_NAMES = new Set(['webhooks', 'WebhookVerificationError']);

interface ClientsBlock {
  where: string;
  /** Where it is written (a .mts beside node_modules, so that its bare imports resolve). */
  file: string;
  code: string;
  /** A webhook receiver: it listens, and is run until it has verified a real delivery. */
  receiver: boolean;
  /** What it needs that this checkout lacks (it is then skipped, saying so). */
  missing?: string;
}

function resolvable(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** The value names (not types) a block imports from '@prismo/client'. */
function clientImports(code: string): string[] {
  const clause = /import\s*\{([^}]*)\}\s*from\s*'@prismo\/client'/.exec(code)?.[1] ?? '';
  return clause
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name && !name.startsWith('type '));
}

async function clientsBlocks(): Promise<ClientsBlock[]> {
  const text = await readFile(new URL('docs/clients.md', ROOT), 'utf8');
  const hasClient = existsSync(new URL('index.ts', CLIENT_SRC));
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match, index) => {
    const code = match[1]!;
    const needsClient = clientImports(code).some((name) => !WEBHOOKS_NAMES.has(name));
    const module = fileURLToPath(new URL(hasClient ? 'index.js' : 'webhooks.js', CLIENT_SRC));
    let missing: string | undefined;
    if (needsClient && !hasClient) missing = 'clients/typescript/src/index.ts, the client';
    else if (code.includes("from 'express'") && !resolvable('express')) missing = 'express, not a dependency of this repository';
    return {
      where: `docs/clients.md ts block ${index} (line ${text.slice(0, match.index).split('\n').length})`,
      file: fileURLToPath(new URL(`block-${index}.mts`, BLOCKS_DIR)),
      code: code.replaceAll("from '@prismo/client'", `from '${module}'`),
      receiver: code.includes('.listen('),
      missing,
    };
  });
}
const CLIENTS_BLOCKS = await clientsBlocks();

/** Runs a block with tsx in BLOCKS_DIR (where statement.xml is), collecting what it prints. */
function startBlock(block: ClientsBlock, env: Record<string, string>) {
  const loader = new URL('node_modules/tsx/dist/loader.mjs', ROOT).href;
  const child: ChildProcess = spawn(process.execPath, ['--import', loader, block.file], {
    cwd: fileURLToPath(BLOCKS_DIR),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  child.stdout!.on('data', (chunk: Buffer) => {
    output.text += chunk;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output.text += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!mongoUri)('documented examples', () => {
  const sys = useSystem({ POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' }, { resetAfterEach: false });
  let system: System;
  let doc: Json;
  const keys = { all: '', writer: '' };
  const callWith = async (method: string, path: string, key: string | undefined, body: unknown, headers: Record<string, string>) =>
    call(method, path, key, body, 'application/json', headers);
  const call = async (
    method: string,
    path: string,
    key: string | undefined,
    body?: unknown,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${system.gatewayUrl}${path}`, {
      method,
      headers: {
        ...headers,
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': contentType }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Json };
  };

  beforeAll(async () => {
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    keys.all = (await createApiKey(accept, 'dev', ['transactions:write', 'transactions:read', 'admin'])).key;
    keys.writer = (await createApiKey(accept, 'dev', ['transactions:write'])).key;
    system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    doc = (await call('GET', '/openapi.json', undefined)).json;
  });

  it('every POST has request examples, each valid against its schema; GETs have parameter examples; problems show theirs', () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const resolve = (schema: Json) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    for (const [path, operations] of Object.entries(doc.paths as Json)) {
      for (const [method, operation] of Object.entries(operations as Json)) {
        const content = (operation as Json).requestBody?.content as Json | undefined;
        if (method === 'post') {
          const json = content?.['application/json'];
          const examples = Object.entries((json ?? content?.['application/xml'])?.examples ?? {});
          expect(examples.length, `${method} ${path} has request examples`).toBeGreaterThan(0);
          if (json) {
            const validate = ajv.compile(resolve(json.schema));
            for (const [name, example] of examples) {
              expect(validate((example as Json).value), `${path} ${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
            }
          }
        }
        for (const [status, response] of Object.entries(((operation as Json).responses ?? {}) as Json)) {
          const media = (response as Json).content?.['application/json'];
          if (!media?.examples) continue;
          const validate = ajv.compile(resolve(media.schema));
          for (const [name, example] of Object.entries(media.examples as Json)) {
            expect(validate((example as Json).value), `${method} ${path} ${status} ${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
          }
        }
        for (const parameter of ((operation as Json).parameters ?? []) as Json[]) {
          if (parameter.in === 'path') expect(parameter.example, `${method} ${path} ${parameter.name}`).toBeDefined();
        }
      }
    }
    const sources = Object.keys(doc.paths['/api/v1/transactions'].post.requestBody.content['application/json'].examples);
    expect(sources.sort()).toEqual(['generic', 'iso20022', 'plaid', 'stripe']);
    for (const [path, method, status] of [
      ['/api/v1/transactions', 'post', '400'],
      ['/api/v1/transactions', 'post', '401'],
      ['/api/v1/admin/replay', 'post', '403'],
      ['/api/v1/transactions/{id}', 'get', '404'],
      ['/api/v1/transactions', 'post', '429'],
      ['/api/v1/transactions', 'get', '503'],
    ] as const) {
      const examples = doc.paths[path][method].responses[status].content['application/problem+json'].examples;
      expect(Object.keys(examples ?? {}).length, `${method} ${path} ${status}`).toBeGreaterThan(0);
    }
  });

  it('every example in the OpenAPI document, docs/ and README.md is accepted and then processed', async () => {
    const examples = [...openapiExamples(doc), ...(await docsEnvelopes()), ...(await readmeBodies())];
    // One per source in the OpenAPI document and in docs/model.md, a batch, a statement, README's three.
    expect(examples.filter((e) => e.where.startsWith('docs/')).length).toBeGreaterThanOrEqual(4);
    expect(examples.filter((e) => e.where.startsWith('README')).length).toBe(3);
    const sent: Array<{ where: string; id: string }> = [];
    // Admin examples below; the webhook endpoint's names a host the tests never look up (test/webhooks.test.ts
    // sends it with the URL of its own receiver).
    for (const example of examples.filter(
      (e) => !e.route.startsWith('/api/v1/admin/') && !e.route.startsWith('/api/v1/webhook-endpoints'),
    )) {
      const answer = await call('POST', example.route, keys.all, example.body, example.contentType);
      if (example.route.endsWith('/batch')) {
        expect(answer.status, example.where).toBe(207);
        expect(answer.json.rejected, `${example.where}: ${JSON.stringify(answer.json)}`).toBe(0);
        for (const item of answer.json.results) sent.push({ where: `${example.where} item ${item.index}`, id: item.id });
      } else {
        expect(answer.status, `${example.where}: ${JSON.stringify(answer.json)}`).toBe(202);
        sent.push({ where: example.where, id: answer.json.id });
      }
    }
    for (const { where, id } of sent) {
      const path = where.includes('/api/v1/statements') ? `/api/v1/statements/${id}` : `/api/v1/transactions/${id}`;
      const final = await waitFor(`${where} processed`, async () => {
        const { json } = await call('GET', path, keys.all);
        return json.status === 'pending' || json.status === 'failed' ? undefined : json;
      });
      expect(final.status, `${where}: ${JSON.stringify(final)}`).toBe('processed');
    }
  });

  it('the admin examples are accepted as sent', async () => {
    const replays = openapiExamples(doc).filter((e) => e.route === '/api/v1/admin/replay');
    expect(replays.length).toBeGreaterThan(0);
    for (const example of replays) expect((await call('POST', example.route, keys.all, example.body)).status, example.where).toBe(200);
  });

  it('each problem example carries exactly the fields, type and detail of the real error it shows', async () => {
    // Each problem example the operations show, by its type.
    const examples: Json = {};
    for (const operations of Object.values(doc.paths as Json))
      for (const operation of Object.values(operations as Json))
        for (const response of Object.values(((operation as Json).responses ?? {}) as Json)) {
          const shown = (response as Json).content?.['application/problem+json']?.examples ?? {};
          for (const [type, example] of Object.entries(shown as Json)) examples[type] = example.value;
        }
    const real: Record<string, { status: number; json: Json }> = {
      'validation-error': await call('POST', '/api/v1/transactions', keys.all, { source: 'stirpe', payload: {} }),
      unauthorized: await call('POST', '/api/v1/transactions', undefined, {}),
      forbidden: await call('POST', '/api/v1/admin/replay', keys.writer, { dryRun: true }),
      'not-found': await call('GET', `/api/v1/transactions/${doc.paths['/api/v1/transactions/{id}'].get.parameters[0].example}`, keys.all),
    };
    const idempotent = { 'idempotency-key': 'documented-422' };
    await callWith('POST', '/api/v1/transactions', keys.all, { source: 'generic', payload: { a: 1 } }, idempotent);
    Object.assign(real, {
      'payload-too-large': await call('POST', '/api/v1/transactions', keys.all, {
        source: 'generic',
        payload: { pad: 'x'.repeat(2 ** 21) },
      }),
      'unsupported-media-type': await call('POST', '/api/v1/transactions', keys.all, 'source=generic', 'application/x-www-form-urlencoded'),
      'idempotency-key-reused': await callWith(
        'POST',
        '/api/v1/transactions',
        keys.all,
        { source: 'generic', payload: { a: 2 } },
        idempotent,
      ),
    });
    for (const [name, { status, json }] of Object.entries(real)) {
      expect(status, name).toBe(examples[name].status);
      expect(json, name).toEqual(examples[name]);
    }
    // 409, 429 and 503 need a race, a quota or an outage: their examples carry the fields those problems carry.
    for (const name of ['idempotency-in-flight', 'not-correctable', 'rate-quota'])
      expect(Object.keys(examples[name]).sort(), name).toEqual(['detail', 'instance', 'status', 'title', 'type']);
    expect(Object.keys(examples.unavailable).sort()).toEqual(['detail', 'instance', 'requestId', 'status', 'title', 'type']);
  });

  it.skipIf(!existsSync(CHROMIUM))(
    '/docs in Chromium: authorize, pick the stripe example, Try it out, Execute: 202, then processed',
    async () => {
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
      });
      try {
        const page = await browser.newPage();
        // Loopback only: the page may ask for nothing outside this machine.
        await page.route('**/*', (route) =>
          /^https?:\/\/127\.0\.0\.1[:/]/.test(route.request().url()) ? route.continue() : route.abort(),
        );
        await page.goto(`${system.gatewayUrl}/docs`);
        await page.locator('button.authorize').first().click();
        await page.locator('.modal-ux input').first().fill(keys.all);
        await page.locator('.modal-ux button.authorize').first().click();
        await page.locator('.modal-ux button.btn-done').first().click();
        const operation = page.locator('.opblock-post').filter({ has: page.locator('[data-path="/api/v1/transactions"]') });
        await operation.locator('.opblock-summary').first().click();
        await operation.locator('button.try-out__btn').click();
        await operation.locator('.examples-select select').first().selectOption('stripe');
        await operation.locator('button.execute').click();
        const status = operation.locator('.live-responses-table tr.response .response-col_status').first();
        await status.waitFor({ timeout: 30_000 });
        expect((await status.textContent())?.trim()).toBe('202');
        const body = JSON.parse((await operation.locator('.live-responses-table .highlight-code code').first().textContent()) ?? '{}');
        const final = await waitFor('the document sent from /docs processed', async () => {
          const { json } = await call('GET', `/api/v1/transactions/${body.id}`, keys.all);
          return json.status === 'pending' ? undefined : json;
        });
        expect(final).toMatchObject({ status: 'processed', source: 'stripe', transaction: { amount: { minor: '100', currency: 'USD' } } });
      } finally {
        await browser.close();
      }
    },
  );

  it('links /docs to the guides it names, served at /guide/<page>.md', async () => {
    const links = [...String(doc.info.description).matchAll(/\]\((\/guide\/[a-z]+\.md)\)/g)].map((m) => m[1]!);
    expect(links.length).toBe(4);
    for (const link of links) {
      const response = await fetch(`${system.gatewayUrl}${link}`);
      expect(response.status, link).toBe(200);
      const page = link.replace('/guide/', '');
      expect(await response.text()).toBe(await readFile(fileURLToPath(new URL(`docs/${page}`, ROOT)), 'utf8'));
    }
    expect((await fetch(`${system.gatewayUrl}/guide/secrets.md`)).status).toBe(404);
  });

  it('serves whatever a served guide links to: no relative link on a /guide page is a 404', async () => {
    const pages = ['api.md', 'model.md', 'processor.md', 'operations.md'];
    const seen = new Set<string>();
    while (pages.length > 0) {
      const page = pages.pop()!;
      if (seen.has(page)) continue;
      seen.add(page);
      const response = await fetch(`${system.gatewayUrl}/guide/${page}`);
      expect(response.status, page).toBe(200);
      if (!page.endsWith('.md')) continue;
      const links = [...(await response.text()).matchAll(/\]\(([a-z-]+\.[a-z]+)(#[^)]*)?\)/g)].map((m) => m[1]!);
      pages.push(...links);
    }
    expect([...seen].sort()).toEqual([...GUIDE_FILES].sort());
    expect((await fetch(`${system.gatewayUrl}/guide/board.jpg`)).headers.get('content-type')).toBe('image/jpeg');
  });
  describe('docs/clients.md', () => {
    beforeAll(async () => {
      await rm(BLOCKS_DIR, { recursive: true, force: true });
      await mkdir(BLOCKS_DIR, { recursive: true });
      await copyFile(ISO_SAMPLE, new URL('statement.xml', BLOCKS_DIR));
      for (const block of CLIENTS_BLOCKS) await writeFile(block.file, block.code);
    });

    it('every ts block type-checks (strict) against the client it imports', async () => {
      // Configure, transactions, pagination, statements, events, endpoints, errors, three webhook receivers.
      expect(CLIENTS_BLOCKS.length).toBe(10);
      const files = CLIENTS_BLOCKS.filter((block) => !block.missing).map((block) => block.file);
      const tsc = fileURLToPath(new URL('node_modules/typescript/bin/tsc', ROOT));
      const options = ['--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--types', 'node'];
      const checked = await promisify(execFile)(process.execPath, [tsc, ...options, ...files], { cwd: fileURLToPath(ROOT) }).then(
        () => 'clean',
        (error: { stdout: string }) => error.stdout,
      );
      expect(checked).toBe('clean');
    });

    /** A block that runs to its end against the system: exit code 0. */
    async function runsToEnd(block: ClientsBlock) {
      const run = startBlock(block, {
        PRISMO_BASE_URL: system.gatewayUrl!,
        PRISMO_API_KEY: keys.all,
        PRISMO_WEBHOOK_URL: `http://127.0.0.1:${await freePort()}/hook`,
      });
      const deadline = setTimeout(() => run.child.kill(), 45_000);
      const code = await run.exited.finally(() => clearTimeout(deadline));
      expect(code, `${block.where}:\n${run.output.text}`).toBe(0);
    }

    /** A receiver: refuses unsigned and forged deliveries with their reason, and verifies a real one. */
    async function receives(block: ClientsBlock) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/webhooks/prismo`;
      const endpoint = await call('POST', '/api/v1/webhook-endpoints', keys.all, { url, events: ['transaction.processed'] });
      expect(endpoint.status).toBe(201);
      const run = startBlock(block, { PORT: String(port), HOST: '127.0.0.1', PRISMO_WEBHOOK_SECRETS: endpoint.json.secret });
      const post = (signature?: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(signature ? { 'prismo-signature': signature } : {}) },
          body: '{}',
        })
          .then(async (response) => `${response.status} ${await response.text()}`)
          .catch(() => undefined);
      try {
        expect(await waitFor(`${block.where} listening`, () => post())).toBe('400 missing-header');
        expect(await post(signatureHeader(['whsec_not-the-secret'], Math.floor(Date.now() / 1000), '{}'))).toBe(
          '400 no-matching-signature',
        );
        const payload = { account: 'acc-1', amountMinor: 42, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' };
        const sent = await call('POST', '/api/v1/transactions', keys.all, { source: 'generic', payload });
        const line = `transaction.processed ${sent.json.id}`;
        await waitFor(`${block.where} printing "${line}"`, () => run.output.text.includes(line));
      } finally {
        run.child.kill();
        await run.exited;
        await fetch(`${system.gatewayUrl}/api/v1/webhook-endpoints/${endpoint.json.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${keys.all}` },
        });
      }
    }

    for (const block of CLIENTS_BLOCKS)
      it.skipIf(block.missing !== undefined)(`${block.where} runs${block.missing ? ` (needs ${block.missing})` : ''}`, () =>
        block.receiver ? receives(block) : runsToEnd(block),
      );
  });
});
