// One signed POST of one event to an endpoint: the connection's own lookup refuses private addresses
// (address-guard), redirects are not followed, and WEBHOOK_TIMEOUT_MS bounds the whole attempt.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkedAddresses, guardedLookup, type Resolve } from '../webhook-endpoints/address-guard.js';
import { signatureHeader } from '../webhook-endpoints/signature.js';

export interface PostOptions {
  allowPrivateUrls: boolean;
  allowedHosts?: readonly string[];
  resolve: Resolve;
  timeoutMs: number;
}

export interface PostTarget {
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
}

export interface PostOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  ms: number;
}

/**
 * A 2xx is delivered; anything else, a timeout or a refused address is a failed attempt. A redirect is an
 * answer like any other 3xx (node:http never follows one): a failure. Signed with both secrets during a rotation.
 *
 * One deadline covers the lookup, the connection, the answer's head and its body: a socket timeout would
 * be reset by each byte, and a receiver dripping a header line a second would hold the attempt for ever.
 */
export async function post(options: PostOptions, endpoint: PostTarget, body: string): Promise<PostOutcome> {
  const started = performance.now();
  const url = new URL(endpoint.url);
  const guard = { allowPrivate: options.allowPrivateUrls, allowedHosts: options.allowedHosts, resolve: options.resolve };
  // node:net skips the lookup for a literal address: checked here against today's settings instead.
  if (isIP(url.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    const refused = await checkedAddresses(url.hostname, guard).then(
      () => null,
      (error: Error) => error.message,
    );
    if (refused) return { ok: false, status: null, error: refused, ms: Math.round(performance.now() - started) };
  }
  const secrets = [endpoint.secret];
  if (endpoint.previous_secret && endpoint.previous_secret_until && endpoint.previous_secret_until > new Date())
    secrets.push(endpoint.previous_secret);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    let deadline: NodeJS.Timeout | undefined;
    const done = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ok: status !== null && status >= 200 && status < 300, status, error, ms: Math.round(performance.now() - started) });
    };
    const req = request(
      url,
      {
        method: 'POST',
        lookup: guardedLookup(guard),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Prismo-Webhooks/1',
          'prismo-signature': signatureHeader(secrets, Math.floor(Date.now() / 1000), body),
        },
      },
      (response) => {
        response.resume(); // the answer's body is not read
        response.on('end', () => done(response.statusCode ?? null, null));
        response.on('error', (error) => done(null, error.message));
      },
    );
    deadline = setTimeout(() => {
      const reason = `no complete answer within WEBHOOK_TIMEOUT_MS (${options.timeoutMs} ms)`;
      done(null, reason);
      req.destroy(new Error(reason));
    }, options.timeoutMs);
    req.on('error', (error) => done(null, error.message));
    req.end(body);
  });
}
