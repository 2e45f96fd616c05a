// The gateway's side of a separately running ingestion service (INGEST_URL). Unreachable, timing out or
// answering 5xx is transient (the gateway answers 503 with Retry-After); anything else is a bug.

import type { Accepted, Envelope } from '../domain/envelope.js';
import { TransientError } from '../domain/errors.js';
import { HttpProblem, type Problem } from '../http/problem.js';
import type { ReplayResult } from '../raw-store/replay.js';
import type { EntriesPage, StatementStatusView } from '../raw-store/statement-status.js';
import type { RawStatusView } from '../raw-store/status-view.js';
import type { Ingest } from './ingest-port.js';

/**
 * `token` is INGEST_TOKEN, sent with every call. `timeoutMs` bounds every call but a statement's, which waits `statementTimeoutMs`: the ingestion service's
 * own deadline for storing one (STATEMENT_STORE_TIMEOUT_MS) and a second more, so its 503 comes through.
 */
export function createHttpIngest(
  baseUrl: string,
  { token, timeoutMs = 5_000, statementTimeoutMs = 31_000 }: { token: string; timeoutMs?: number; statementTimeoutMs?: number },
): Ingest {
  // INGEST_TOKEN: the ingestion service answers nobody else.
  const client: Client = { base: baseUrl.replace(/\/+$/, ''), authorization: `Bearer ${token}`, timeoutMs };
  const call = (method: 'GET' | 'POST', path: string, body?: unknown, contentType?: string, waitMs?: number) =>
    send(client, method, path, body, contentType, waitMs);
  const read = <T>(path: string, what: string) => readResource<T>(client, path, what);

  return {
    async accept(tenantId: string, envelope: Envelope): Promise<Accepted> {
      const response = await call('POST', '/internal/v1/raw', { tenantId, envelope });
      if (response.status !== 201)
        throw new Error(`ingestion service refused an envelope the gateway accepted: ${response.status} ${await response.text()}`);
      return (await response.json()) as Accepted;
    },
    async acceptMany(tenantId: string, envelopes: Envelope[]) {
      const response = await call('POST', '/internal/v1/raw/batch', { tenantId, envelopes });
      if (response.status !== 200)
        throw new Error(`ingestion service refused a batch the gateway accepted: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { results: Array<Accepted | { error: string }> }).results;
    },
    async replay(tenantId, selectors) {
      const response = await call('POST', '/internal/v1/replay', { tenantId, selectors });
      if (response.status !== 200) throw new Error(`ingestion service answered ${response.status} for a replay`);
      return (await response.json()) as ReplayResult;
    },
    status: (tenantId: string, id: string) =>
      read<RawStatusView>(`/internal/v1/raw/${encodeURIComponent(tenantId)}/${encodeURIComponent(id)}`, 'a status'),
    // The file as sent: the ingestion service parses it again rather than receive its far larger rendering.
    async acceptStatement(tenantId, xml) {
      const path = `/internal/v1/statements/${encodeURIComponent(tenantId)}`;
      const response = await call('POST', path, xml, 'application/xml', statementTimeoutMs);
      // The client's own answers, as the service gave them: the tenant at its share of the service's statement
      // places (several gateways sending), 429; a file too large to store (document-too-large), 413.
      if (response.status === 429 || response.status === 413) throw await passedOn(response);
      if (response.status !== 201)
        throw new Error(`ingestion service refused a statement the gateway accepted: ${response.status} ${await response.text()}`);
      return (await response.json()) as Accepted;
    },
    statementStatus: (tenantId: string, id: string, page?: EntriesPage) =>
      read<StatementStatusView>(
        `/internal/v1/statements/${encodeURIComponent(tenantId)}/${encodeURIComponent(id)}${page ? `?start=${page.start}&limit=${page.limit}` : ''}`,
        'a statement',
      ),
  };
}

/** Where the ingestion service answers, and how the gateway calls it. */
interface Client {
  base: string;
  authorization: string;
  timeoutMs: number;
}

/** One call; unreachable or 5xx is transient, a refused token is a bug of the deployment. */
async function send(
  { base, authorization, timeoutMs }: Client,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  contentType = 'application/json',
  waitMs = timeoutMs,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? { authorization } : { authorization, 'content-type': contentType },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(waitMs),
    });
  } catch (error) {
    throw new TransientError('ingest_unreachable', `ingestion service at ${base} is unreachable`, { cause: error });
  }
  if (response.status === 401) {
    await response.body?.cancel();
    throw new Error('the ingestion service refused INGEST_TOKEN: give the gateway and ingestion the same one');
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw new TransientError('ingest_unavailable', `ingestion service answered ${response.status}`);
  }
  return response;
}

/** GET of an internal resource; undefined for 404. */
async function readResource<T>(client: Client, path: string, what: string): Promise<T | undefined> {
  const response = await send(client, 'GET', path);
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status !== 200) throw new Error(`ingestion service answered ${response.status} for ${what}`);
  return (await response.json()) as T;
}

/** The ingestion service's problem, answered to the client as it is (its Retry-After included). */
async function passedOn(response: Response): Promise<HttpProblem> {
  const problem = (await response.json()) as Problem;
  const slug = problem.type.replace(/^\/problems\//, '');
  const retryAfter = response.headers.get('retry-after');
  return new HttpProblem(response.status, slug, problem.detail, {
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...(retryAfter ? { headers: { 'Retry-After': retryAfter } } : {}),
  });
}
