// One signed POST of one event to an endpoint: the connection's own lookup refuses private addresses
// (address-guard), redirects are not followed, and WEBHOOK_TIMEOUT_MS bounds the wait.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardedLookup, type Resolve } from './address-guard.js';
import { signatureHeader } from './signature.js';

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
 */
export function post(options: PostOptions, endpoint: PostTarget, body: string): Promise<PostOutcome> {
  const started = performance.now();
  const secrets = [endpoint.secret];
  if (endpoint.previous_secret && endpoint.previous_secret_until && endpoint.previous_secret_until > new Date())
    secrets.push(endpoint.previous_secret);
  const url = new URL(endpoint.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const done = (status: number | null, error: string | null) =>
      resolve({ ok: status !== null && status >= 200 && status < 300, status, error, ms: Math.round(performance.now() - started) });
    const req = request(
      url,
      {
        method: 'POST',
        lookup: guardedLookup({ allowPrivate: options.allowPrivateUrls, allowedHosts: options.allowedHosts, resolve: options.resolve }),
        timeout: options.timeoutMs,
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
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (error) => done(null, error.message));
    req.end(body);
  });
}
