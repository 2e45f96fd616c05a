import { describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { connectionsCheckingMs, createHttpApp } from './create-http-app.js';

describe('the base HTTP app', () => {
  it("names each request by the client's X-Request-Id when it is a plain token, else by one of its own, and echoes it", async () => {
    const app = await createHttpApp({ logger: createLogger('silent'), component: 'test' });
    app.get('/id', async (request) => ({ id: request.id }));
    const ask = (id?: string) => app.inject({ method: 'GET', url: '/id', headers: id === undefined ? {} : { 'x-request-id': id } });
    const kept = await ask('b7d1c1a2-1f0e-4c7e-9a51-3f0f2c9d8e11');
    expect(kept.json().id).toBe('b7d1c1a2-1f0e-4c7e-9a51-3f0f2c9d8e11');
    expect(kept.headers['x-request-id']).toBe('b7d1c1a2-1f0e-4c7e-9a51-3f0f2c9d8e11');
    // Too long, or holding what a log line should not carry: replaced, and the replacement echoed.
    for (const sent of [undefined, 'x'.repeat(129), 'two words', 'line\u2028break']) {
      const answer = await ask(sent);
      expect(answer.json().id).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers['x-request-id']).toBe(answer.json().id);
    }
    // On an error's answer too.
    const missing = await app.inject({ method: 'GET', url: '/nowhere', headers: { 'x-request-id': 'trace-404' } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['x-request-id']).toBe('trace-404');
    await app.close();
  });

  it('checks for requests past their time every quarter of REQUEST_TIMEOUT_MS, within Node’s 30 s', () => {
    expect(connectionsCheckingMs(30_000)).toBe(7_500);
    expect(connectionsCheckingMs(2_000)).toBe(500);
    expect(connectionsCheckingMs(100)).toBe(250);
    expect(connectionsCheckingMs(600_000)).toBe(30_000);
  });
});
