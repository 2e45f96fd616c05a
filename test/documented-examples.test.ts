// What a newcomer copies must work: every request example in the OpenAPI document (what /docs "Try it out"
// sends), every envelope in docs/*.md and every curl -d body in README.md is sent to a running system and
// must be accepted and then processed; each example is valid against its schema; each problem example
// carries exactly the fields the real error carries.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { chromium } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../src/cli/system.js';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
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
    system = await sys.start(['gateway', 'ingest', 'processor']);
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
    for (const name of ['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'TooManyRequests', 'ServiceUnavailable']) {
      expect(doc.components.responses[name].content['application/problem+json'].example, name).toBeDefined();
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
    const examples = Object.fromEntries(
      Object.entries(doc.components.responses as Json).map(([name, r]) => [name, (r as Json).content['application/problem+json'].example]),
    );
    const real: Record<string, { status: number; json: Json }> = {
      BadRequest: await call('POST', '/api/v1/transactions', keys.all, { source: 'stirpe', payload: {} }),
      Unauthorized: await call('POST', '/api/v1/transactions', undefined, {}),
      Forbidden: await call('POST', '/api/v1/admin/replay', keys.writer, { dryRun: true }),
      NotFound: await call('GET', `/api/v1/transactions/${doc.paths['/api/v1/transactions/{id}'].get.parameters[0].example}`, keys.all),
    };
    const idempotent = { 'idempotency-key': 'documented-422' };
    await callWith('POST', '/api/v1/transactions', keys.all, { source: 'generic', payload: { a: 1 } }, idempotent);
    Object.assign(real, {
      PayloadTooLarge: await call('POST', '/api/v1/transactions', keys.all, { source: 'generic', payload: { pad: 'x'.repeat(2 ** 21) } }),
      UnsupportedMediaType: await call('POST', '/api/v1/transactions', keys.all, 'source=generic', 'application/x-www-form-urlencoded'),
      UnprocessableContent: await callWith('POST', '/api/v1/transactions', keys.all, { source: 'generic', payload: { a: 2 } }, idempotent),
    });
    for (const [name, { status, json }] of Object.entries(real)) {
      expect(status, name).toBe(examples[name].status);
      expect(json, name).toEqual(examples[name]);
    }
    // 409, 429 and 503 need a race, a quota or an outage: their examples carry the fields those problems carry.
    for (const name of ['Conflict', 'ConflictOnResource', 'TooManyRequests'])
      expect(Object.keys(examples[name]).sort(), name).toEqual(['detail', 'instance', 'status', 'title', 'type']);
    expect(Object.keys(examples.ServiceUnavailable).sort()).toEqual(['detail', 'instance', 'requestId', 'status', 'title', 'type']);
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
});
