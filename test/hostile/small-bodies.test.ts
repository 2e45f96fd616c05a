// Issue 42, "one client cannot hurt the others", for the bodies under the sliced parser's threshold (64 KiB): each
// is parsed and checked at once, so many of them together are as much work as one large body. One tenant's 300
// POSTs at once of 45 KB holding 4,500 keys each were all read and checked together (some 8 ms of CPU each, then);
// TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES now bounds the bytes of such bodies a tenant has in progress, and the rest
// are refused 429 before they are read.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { mongoUri } from '../support/databases.js';
import { useGatewayProcesses } from '../support/gateway-process.js';
import { whileProbing } from '../support/health-probe.js';
import { useSystem } from '../support/system.js';

const KEY_A = 'small-a-key-0123456789abcdef';
const KEY_B = 'small-b-key-0123456789abcdef';
const FLOOD = 300;

/**
 * The flood, from a process of its own: `count` POSTs at once, each on its own connection, of a body just under
 * 64 KiB holding `keys` keys; prints the answers counted by status and problem type.
 */
const FLOODER = `
import { request } from 'node:http';
const [url, key, count, keys] = process.argv.slice(1);
const payload = { account: 'acc-1', amount: '1.00', currency: 'EUR', occurredAt: '2026-11-28T12:00:00Z' };
for (let i = 0; i < Number(keys); i++) payload['k' + i] = 1;
// Serialised once (the flooder's own CPU is the machine's too): each request only its externalId apart.
const [head, tail] = JSON.stringify({ source: 'generic', externalId: '#', payload }).split('"#"');
const one = (i) => new Promise((resolve) => {
  const body = Buffer.from(head + JSON.stringify('flood-' + i) + tail);
  const req = request(new URL('/api/v1/transactions', url), { method: 'POST', agent: false,
    headers: { authorization: 'Bearer ' + key, 'content-type': 'application/json', 'content-length': body.length } });
  req.on('response', (res) => {
    let text = '';
    res.on('data', (chunk) => (text += chunk));
    res.on('end', () => resolve(res.statusCode + (res.statusCode === 202 ? '' : ' ' + JSON.parse(text).type)));
  });
  req.on('error', (error) => resolve(error.code));
  req.end(body);
});
const counted = {};
for (const answer of await Promise.all(Array.from({ length: Number(count) }, (_, i) => one(i)))) counted[answer] = (counted[answer] ?? 0) + 1;
process.stdout.write(JSON.stringify(counted));
`;

const flood = (url: string, key: string, count: number, keys: number) =>
  new Promise<Record<string, number>>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', FLOODER, url, key, String(count), String(keys)], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as Record<string, number>),
    ),
  );

/** One ordinary POST of another tenant's: its status. */
async function postOnce(url: string, key: string): Promise<number> {
  const response = await fetch(new URL('/api/v1/transactions', url), {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      source: 'generic',
      externalId: 'b-during',
      payload: { account: 'acc-1', amount: '1.00', currency: 'EUR', occurredAt: '2026-11-28T12:00:00Z' },
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe.skipIf(!mongoUri)('hostile: many small bodies at once from one tenant', () => {
  const sys = useSystem();
  const startProcess = useGatewayProcesses();

  it(`${FLOOD} POSTs at once of 45 KB holding 4,500 keys each: the excess is 429 unread, another tenant is taken, /healthz answered promptly`, async () => {
    const gateway = await startProcess({ mongoDb: sys.mongo.dbName, pgUrl: sys.pg.url }, { API_KEYS: `ta:${KEY_A},tb:${KEY_B}` });
    const url = gateway.gatewayUrl;
    const { result, worstMs } = await whileProbing(url, () => Promise.all([flood(url, KEY_A, FLOOD, 4_500), postOnce(url, KEY_B)]));
    const [counted, other] = result;
    console.info(`flood ${FLOOD} x 45 KB / 4,500 keys: ${JSON.stringify(counted)}; B ${other}; worst /healthz ${worstMs.toFixed(0)} ms`);
    // 512 KiB (the default) holds 11 of these bodies at once: the rest of those sent together are refused unread.
    expect(Object.keys(counted).sort()).toEqual(['202', '429 /problems/inflight-small-bodies-quota']);
    // How many are refused depends on how fast the admitted ones are answered; some always are.
    expect(counted['429 /problems/inflight-small-bodies-quota']).toBeGreaterThan(0);
    expect(other).toBe(202);
    // Measured (2 cores, shared with the flooder and the suite, quiet machine): with no bound, all 300 read and
    // checked, /healthz 1.3-2.1 s; with it, 136-264 ms, most of it the 300 connections and refusals themselves,
    // and 444 ms once in a CI run where the flood arrived spread out and 68 of the 300 were admitted in turn
    // (11 at a time) instead of 11. The bound caps the bodies at once, not how many are admitted over the
    // flood, so the bar sits between the two: under 800 ms, where no bound took 1.3 s at the least.
    expect(worstMs).toBeLessThan(800);
  });
});
