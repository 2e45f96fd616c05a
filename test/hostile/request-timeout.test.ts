// Issue 42, slow uploads: a body dripped a byte a second is cut at REQUEST_TIMEOUT_MS (Node checks every quarter
// of it; its default, every 30 s, cut it up to 30 s late), and the place it took among the large bodies is given back. Before, Node's headersTimeout (60 s) governed in
// its place: the connection, and the place, were held 90 s whatever REQUEST_TIMEOUT_MS said.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connectionsCheckingMs } from '../../src/http/create-http-app.js';
import { mongoUri } from '../support/databases.js';
import { useSystem } from '../support/system.js';

const API_KEY = 'hostile-timeout-key-0123456789';
const INGEST_TOKEN = 'hostile-timeout-ingest-token-0123';
/** How often Node looks for requests past their time with REQUEST_TIMEOUT_MS 2000 (http/create-http-app.ts). */
const NODE_CHECK_MS = connectionsCheckingMs(2_000);

/**
 * A POST to `path` announcing 16 MiB that sends one byte a second (with `authorization`); resolves with its first
 * answer line and when it came.
 */
function dripBody(base: string, path: string, authorization: string): Promise<{ statusLine: string; ms: number }> {
  const url = new URL(base);
  const started = performance.now();
  const socket = net.connect(Number(url.port), url.hostname);
  let received = '';
  let drip: NodeJS.Timeout | undefined;
  return new Promise((resolve) => {
    socket.on('data', (data) => {
      received += data.toString();
      clearInterval(drip);
      resolve({ statusLine: received.split('\r\n')[0] ?? '', ms: performance.now() - started });
      socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ statusLine: received.split('\r\n')[0] ?? '', ms: performance.now() - started });
    });
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${authorization}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${16 * 1024 * 1024}\r\n\r\n{`,
    );
    drip = setInterval(() => socket.write(' '), 1_000);
  });
}

describe.skipIf(!mongoUri)('hostile: a body sent a byte a second', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}` });

  it('is cut with 408 within 1.25 × REQUEST_TIMEOUT_MS, on the gateway and on ingestion, and its place is given back', async () => {
    const system = await sys.start(['gateway', 'ingest'], {
      REQUEST_TIMEOUT_MS: '2000',
      JSON_PARSE_PER_TENANT: '1',
      INGEST_TOKEN: INGEST_TOKEN,
    });
    // Ingestion's port too (reached by the gateway alone, but a wait without a limit all the same).
    const [cut, cutAtIngestion] = await Promise.all([
      dripBody(system.gatewayUrl!, '/api/v1/transactions/batch', `Bearer ${API_KEY}`),
      dripBody(system.ingestUrl!, '/internal/v1/raw/batch', `Bearer ${INGEST_TOKEN}`),
    ]);
    console.info(
      `dripped: gateway "${cut.statusLine}" after ${cut.ms.toFixed(0)} ms, ingestion "${cutAtIngestion.statusLine}" after ${cutAtIngestion.ms.toFixed(0)} ms`,
    );
    for (const { statusLine, ms } of [cut, cutAtIngestion]) {
      expect(statusLine).toBe('HTTP/1.1 408 Request Timeout');
      // Before, Node's default check every 30 s: cut after 30 s.
      expect(ms).toBeLessThan(2_000 + NODE_CHECK_MS + 1_500);
    }
    // The tenant's one place for a large body is free again: the next is read.
    const body = JSON.stringify({
      items: [
        {
          source: 'generic',
          externalId: 'after',
          payload: { account: 'a', amount: '1.00', currency: 'EUR', occurredAt: '2026-11-28T12:00:00Z', d: 'x'.repeat(1_100_000) },
        },
      ],
    });
    const next = await fetch(`${system.gatewayUrl}/api/v1/transactions/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body,
    });
    expect(next.status).toBe(207);
  }, 90_000);
});
