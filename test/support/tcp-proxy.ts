// A loopback TCP proxy the fault tests put between a service and its database, to take the database
// away (every connection cut, new ones refused) and give it back, without touching the shared server.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port clients should use instead of the target. */
  address: string;
  port: number;
  /** Cuts every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Holds every chunk from clients for this long before passing it on (0: none). */
  setDelay(ms: number): void;
  /** How many chunks clients have sent through it so far (a query is one): what a suite counts requests by. */
  readonly chunksFromClients: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  let delayMs = 0;
  let chunksFromClients = 0;
  // Chunks held back by setDelay, dropped when the proxy closes.
  const held = new Set<NodeJS.Timeout>();
  const later = (ms: number, pass: () => void) => {
    const timer = setTimeout(() => {
      held.delete(timer);
      pass();
    }, ms);
    held.add(timer);
  };
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      chunksFromClients++;
      if (delayMs === 0) upstream.write(chunk);
      else later(delayMs, () => upstream.write(chunk));
    });
    client.on('end', () => later(delayMs, () => upstream.end()));
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    get chunksFromClients() {
      return chunksFromClients;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of held) clearTimeout(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A database URL rewritten to go through the proxy (credentials and options kept). */
export const throughProxy = (url: string, proxy: Pick<TcpProxy, 'address'>) =>
  url.replace(/@?(127\.0\.0\.1|localhost):\d+/, (match) => `${match.startsWith('@') ? '@' : ''}${proxy.address}`);
