// The OpenAPI document, generated from the same zod schemas the routes validate with, at /openapi.json,
// and a human page for it at /docs.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { completeContract } from '../openapi-contract.js';
import { webhooksContract } from '../webhooks-contract.js';

/**
 * The /docs page's Content-Security-Policy: swagger-ui's page loads its scripts and styles from /docs/static
 * (no inline script), so everything may come from this origin alone; the page is never framed (clickjacking).
 * One exception, by its hash: the one <style> element swagger-ui's bundle adds as it starts (the hash changes
 * only with swagger-ui-dist's version; test/hostile/edges.test.ts renders the page in Chromium and fails on
 * any violation).
 * Its own default would allow framing by the same origin and upgrade requests to https, which a plain-http
 * development gateway cannot serve.
 */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

export const openapiPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        // 3.1: schemas are JSON Schema 2020-12, so propertyNames (the payload's key rules) is understood.
        openapi: '3.1.0',
        info: {
          title: 'Prismo Cloud transactions API',
          version: '1.0.0',
          description: [
            'Every POST example below is processed as sent: one per source. The guides:',
            '[API](/guide/api.md): the envelope, errors, idempotency, the two status vocabularies;',
            "[model](/guide/model.md): each source's format, its required fields and a copy-paste payload;",
            '[processor](/guide/processor.md): retries, dead letters, replay;',
            '[operations](/guide/operations.md): running it.',
          ].join(' '),
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'An API key as a Bearer token' },
            apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          },
        },
        security: [{ bearer: [] }, { apiKey: [] }],
      },
      transform: jsonSchemaTransform,
      transformObject: (documentObject) =>
        'openapiObject' in documentObject
          ? // What Prismo sends to webhook endpoints: OpenAPI 3.1's `webhooks`.
            ({
              ...completeContract(documentObject.openapiObject as Record<string, unknown>),
              webhooks: webhooksContract(),
            } as typeof documentObject.openapiObject)
          : documentObject.swaggerObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);
