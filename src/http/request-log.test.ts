import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from './create-http-app.js';

/** An app whose logger writes JSON lines into `lines`, at `level`; one GET answered. */
async function linesAfterOneRequest(level: string): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = await createHttpApp({ logger: pino({ level }, sink), component: 'test' });
  app.get('/ping', async () => ({ ok: true }));
  const response = await app.inject({ method: 'GET', url: '/ping' });
  expect(response.statusCode).toBe(200);
  await app.close();
  return lines;
}

describe('one line per request', () => {
  it('at debug: method, url, status and duration', async () => {
    const lines = await linesAfterOneRequest('debug');
    expect(lines.filter((line) => line.msg === 'request')).toEqual([
      expect.objectContaining({ level: 20, method: 'GET', url: '/ping', statusCode: 200, ms: expect.any(Number), component: 'test' }),
    ]);
  });

  it('at info: none (and no hook runs for it)', async () => {
    const lines = await linesAfterOneRequest('info');
    expect(lines.filter((line) => line.msg === 'request')).toEqual([]);
  });
});
