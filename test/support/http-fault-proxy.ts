// An HTTP proxy on 127.0.0.1 between a client and the gateway that misbehaves on cue: it forwards a request
// and then drops its answer (the socket destroyed unanswered: the work was done, the client never hears),
// or answers a status of its own without forwarding. What the client-side retry tests stand on.
import { createServer, type IncomingHttpHeaders } from 'node:http';

/** What the proxy does with the next request: forward and drop the answer, answer this instead, or pass. */
export type Fault = 'drop-after-forward' | { status: number; headers?: Record<string, string>; body?: unknown } | 'pass';

export interface HttpFaultProxy {
  url: string;
  /** The faults for the next requests, in order; requests past them pass. */
  plan(faults: Fault[]): void;
  /** Every request seen, as `METHOD path`, with its Idempotency-Key and X-Request-Id. */
  readonly seen: Array<{ line: string; idempotencyKey?: string; requestId?: string }>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

const forwardable = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).flatMap(([k, v]) => (HOP_BY_HOP.has(k) || v === undefined ? [] : [[k, String(v)]])));

export async function startHttpFaultProxy(target: string): Promise<HttpFaultProxy> {
  let faults: Fault[] = [];
  const seen: HttpFaultProxy['seen'] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    seen.push({
      line: `${request.method} ${request.url}`,
      idempotencyKey: request.headers['idempotency-key'] as string | undefined,
      requestId: request.headers['x-request-id'] as string | undefined,
    });
    const fault = faults.shift() ?? 'pass';
    if (typeof fault === 'object') {
      response.writeHead(fault.status, { 'content-type': 'application/problem+json', ...fault.headers });
      response.end(JSON.stringify(fault.body ?? {}));
      return;
    }
    const upstream = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers: forwardable(request.headers),
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (fault === 'drop-after-forward') {
      request.socket.destroy();
      return;
    }
    const headers = Object.fromEntries([...upstream.headers].filter(([k]) => !HOP_BY_HOP.has(k)));
    response.writeHead(upstream.status, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    plan(next) {
      faults = [...next];
    },
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
