// The webhooks scenario's receiver, in a process of its own (as a client's would be): answers 200 to each
// POST on 127.0.0.1 and keeps, per event, when its body had arrived. Tells its port over IPC, and answers a
// "report" message with what it received.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** [event id, document id, wall-clock ms when the body had arrived], in arrival order. */
const received: Array<[string, string, number]> = [];

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const at = Date.now();
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; documentId: string };
    received.push([event.id, event.documentId, at]);
    response.writeHead(200).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
process.on('message', (message: string) => {
  if (message === 'report') process.send!({ received, cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6 });
});
process.on('disconnect', () => process.exit(0));
