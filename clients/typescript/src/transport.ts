// Every call's one way to the API: the key, a timeout per attempt, the caller's AbortSignal, and retries only
// where a second attempt cannot do the work twice: reads, and writes carrying an Idempotency-Key.
import { PrismoError, problemOf } from './errors.js';
import { backoffMs, RETRYABLE_STATUSES, type RetryPolicy, retryAfterMs, sleep } from './retry.js';

export interface TransportOptions {
  baseUrl: string;
  apiKey: string;
  fetch: typeof fetch;
  retry: RetryPolicy;
  /** Each attempt's limit; an attempt that takes longer is abandoned (and retried where safe). */
  timeoutMs: number;
}

/** What a caller may give any call. */
export interface CallOptions {
  /** Cancels the call, its retries and its waits. */
  signal?: AbortSignal;
  /** This call's attempts' limit instead of the client's. */
  timeoutMs?: number;
}

export interface Request extends CallOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  /** JSON, or the raw bytes/text of another media type (with contentType). */
  body?: unknown;
  contentType?: string;
  idempotencyKey?: string;
}

/** One attempt's outcome: an answer, or an error thrown before one arrived. */
type Attempt = { response: Response; text: string; requestId: string } | { error: unknown };

export type Send = <T>(request: Request) => Promise<T>;

export function createTransport(options: TransportOptions): Send {
  return async <T>(request: Request): Promise<T> => {
    // Retrying is safe for a read, or when the API can recognise the second attempt as the first.
    const safe = request.method === 'GET' || request.idempotencyKey !== undefined;
    for (let attempt = 0; ; attempt++) {
      const outcome = await attemptOnce(options, request);
      const retryable = 'error' in outcome || RETRYABLE_STATUSES.has(outcome.response.status);
      if (safe && retryable && attempt < options.retry.retries && !request.signal?.aborted) {
        const after = 'response' in outcome ? retryAfterMs(outcome.response.headers.get('retry-after')) : undefined;
        await sleep(backoffMs(options.retry, attempt, after), request.signal);
        continue;
      }
      if ('error' in outcome) throw outcome.error;
      return resultOf<T>(outcome);
    }
  };
}

/** One HTTP exchange, bounded by the attempt's timeout and the caller's signal. */
async function attemptOnce(options: TransportOptions, request: Request): Promise<Attempt> {
  const timeout = AbortSignal.timeout(request.timeoutMs ?? options.timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  // The API logs each request under the X-Request-Id it is sent: an attempt's id is the one to quote to support.
  const requestId = crypto.randomUUID();
  try {
    const response = await options.fetch(urlOf(options.baseUrl, request), {
      method: request.method,
      headers: { ...headersOf(options, request), 'x-request-id': requestId },
      body: bodyOf(request),
      signal,
    });
    return { response, text: await response.text(), requestId };
  } catch (error) {
    // The caller's cancellation ends the call; anything else (a reset, a refused connection, a timeout) may be retried.
    if (request.signal?.aborted) throw request.signal.reason;
    return { error };
  }
}

function urlOf(baseUrl: string, { path, query = {} }: Request): string {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
  return url.toString();
}

function headersOf({ apiKey }: TransportOptions, request: Request): Record<string, string> {
  return {
    authorization: `Bearer ${apiKey}`,
    accept: 'application/json, application/problem+json',
    ...(request.body === undefined ? {} : { 'content-type': request.contentType ?? 'application/json' }),
    ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
  };
}

function bodyOf({ body, contentType }: Request): string | Uint8Array<ArrayBuffer> | undefined {
  if (body === undefined) return undefined;
  if (contentType) return body as string | Uint8Array<ArrayBuffer>;
  return JSON.stringify(body);
}

/** A 2xx's JSON (undefined for a 204), else the problem as a PrismoError. */
function resultOf<T>({ response, text, requestId }: { response: Response; text: string; requestId: string }): T {
  if (response.ok) return (text === '' ? undefined : JSON.parse(text)) as T;
  const retryAfter = retryAfterMs(response.headers.get('retry-after'));
  throw new PrismoError(problemOf(response.status, response.statusText, text), {
    requestId: response.headers.get('x-request-id') ?? requestId,
    retryAfterSeconds: retryAfter === undefined ? undefined : Math.ceil(retryAfter / 1000),
  });
}
