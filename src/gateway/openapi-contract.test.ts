// The contract says what each route really answers: its problems declared beside it, not inferred from its
// HTTP method (the document as GET /openapi.json serves it, built without a database).
import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayDocument } from '../../scripts/generate-client-types.js';

// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document
type Json = Record<string, any>;
let doc: Json;
const operation = (method: string, path: string) => doc.paths[path][method];
const typesOf = (method: string, path: string, status: string) =>
  operation(method, path).responses[status]?.content['application/problem+json'].schema.allOf[1].properties.type.enum;

beforeAll(async () => {
  doc = await gatewayDocument();
});

describe('the OpenAPI contract', () => {
  it('names every operation once, and links what creates to what reads it', () => {
    const ids = Object.values(doc.paths as Json).flatMap((ops) => Object.values(ops as Json).map((op) => op.operationId));
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(operation('post', '/api/v1/statements').responses['202'].links)).toEqual(['getStatement']);
    expect(Object.keys(operation('post', '/api/v1/webhook-endpoints').responses['201'].links)).toEqual(
      expect.arrayContaining(['getWebhookEndpoint', 'updateWebhookEndpoint', 'deleteWebhookEndpoint', 'listWebhookDeliveries']),
    );
  });

  it("declares each route's own problems: XML on statements, a refused URL on PATCH, no 404 where none can be", () => {
    expect(operation('post', '/api/v1/statements').responses['415'].description).toMatch(/application\/xml/);
    expect(operation('post', '/api/v1/transactions').responses['415'].description).toMatch(/application\/json/);
    expect(typesOf('patch', '/api/v1/webhook-endpoints/{id}', '422')).toEqual(['/problems/webhook-url-refused']);
    expect(typesOf('post', '/api/v1/webhook-endpoints/{id}/resends', '409')).toContain('/problems/endpoint-disabled');
    expect(typesOf('post', '/api/v1/admin/documents/{id}/payload', '409')).toContain('/problems/not-correctable');
    for (const [method, path] of [
      ['get', '/api/v1/webhook-endpoints'],
      ['post', '/api/v1/webhook-endpoints'],
      ['post', '/api/v1/transactions'],
      ['get', '/api/v1/admin/board/overview'],
    ])
      expect(operation(method!, path!).responses['404'], `${method} ${path}`).toBeUndefined();
  });

  it('declares 408 without a body and 500 as a problem on every operation; Idempotency-Key on every POST alone', () => {
    for (const [path, ops] of Object.entries(doc.paths as Json))
      for (const [method, op] of Object.entries(ops as Json)) {
        expect(op.responses['408'].content, `${method} ${path}`).toBeUndefined();
        expect(typesOf(method, path, '500')).toEqual(['/problems/internal-server-error']);
        const keyed = (op.parameters ?? []).some((p: Json) => p.in === 'header' && p.name === 'Idempotency-Key');
        expect(keyed, `${method} ${path}`).toBe(method === 'post');
      }
  });

  it('keeps the old pagination fields, marked deprecated, beside the public ones', () => {
    const documents = operation('get', '/api/v1/admin/documents');
    expect(documents.parameters.find((p: Json) => p.name === 'before').deprecated).toBe(true);
    const page = documents.responses['200'].content['application/json'].schema.properties;
    expect(page.next_before.deprecated).toBe(true);
    expect(Object.keys(page)).toEqual(expect.arrayContaining(['has_more', 'next_starting_after']));
    const deliveries = operation('get', '/api/v1/webhook-endpoints/{id}/deliveries').responses['200'].content['application/json'].schema;
    expect(deliveries.properties.hasMore.deprecated).toBe(true);
  });
});
