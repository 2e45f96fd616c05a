// A webhook receiver on 127.0.0.1 for the suites and the benchmark: records what it receives, verifies
// signatures with node:crypto alone (as docs/api.md shows a receiver doing), and can fail, stall, stop and
// come back on the same port; and a hostile one that drips its answer's head a line at a time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';

/** What a receiver does with Prismo-Signature, with node:crypto alone (docs/api.md shows the same). */
export function verifySignature(header: string, body: string, secret: string, toleranceSeconds = 300): boolean {
  const parts = header.split(',').map((part) => part.split('=') as [string, string]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.some(([k, v]) => k === 'v1' && v.length === 64 && timingSafeEqual(Buffer.from(v, 'hex'), expected));
}

export interface Received {
  body: string;
  signature: string;
  event: { id: string; type: string; created: string; documentId: string; data: unknown };
  /** performance.timeOrigin + now() when the body had arrived, in ms since the epoch. */
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** The distinct event ids received. */
  ids(): Set<string>;
  /** Requests being held (answered after the delay). */
  inFlight(): number;
  /** The most requests held at once so far. */
  peakInFlight(): number;
  /** Answers 500 to the next delivery of the event `match` picks, once, whatever answer() says. */
  failOnce(match: (event: Received['event']) => boolean): void;
  /** Answers this status to what comes next (200 by default), or waits `ms` before answering. */
  answer(status: number, ms?: number): void;
  /** Stops listening (connections refused), keeping the port to come back on. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let status = 200;
  let delayMs = 0;
  let peak = 0;
  let failing: ((event: Received['event']) => boolean) | undefined;
  const open = new Set<ServerResponse>();
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const event = JSON.parse(body) as Received['event'];
      const fails = failing?.(event) ?? false;
      if (fails) failing = undefined;
      const reply = () => {
        open.delete(response);
        const answer = fails ? 500 : status;
        if (answer >= 200 && answer < 300)
          received.push({ body, signature: String(request.headers['prismo-signature']), event, at: Date.now() });
        response.writeHead(answer).end();
      };
      open.add(response);
      peak = Math.max(peak, open.size);
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    });
  };
  let server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    ids: () => new Set(received.map((r) => r.event.id)),
    inFlight: () => open.size,
    peakInFlight: () => peak,
    failOnce(match) {
      failing = match;
    },
    answer(next, ms = 0) {
      status = next;
      delayMs = ms;
    },
    down: stop,
    async up() {
      server = createServer(handle);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
    close: stop,
  };
}

export interface DrippingReceiver {
  /** The receiver's base URL; any path is served the same way. */
  url: string;
  /** Each connection: when it opened and (once the client gave up) closed, in performance.now() ms. */
  connections: Array<{ openedAt: number; closedAt?: number }>;
  open(): number;
  close(): Promise<void>;
}

/**
 * A hostile receiver on 127.0.0.1: answers `HTTP/1.1 200 OK` at once, then one header line every `everyMs`,
 * never ending the head, so that a client bounded by an idle timeout waits for ever.
 */
export async function startDrippingReceiver(everyMs = 2000): Promise<DrippingReceiver> {
  const connections: DrippingReceiver['connections'] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    const connection: { openedAt: number; closedAt?: number } = { openedAt: performance.now() };
    connections.push(connection);
    sockets.add(socket);
    let line = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\n');
      timer = setInterval(() => socket.write(`X-Drip-${++line}: ${line}\r\n`), everyMs);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      connection.closedAt = performance.now();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
