// The e2e scenario's load generator, in a process of its own so it does not share the system's event
// loop: open-loop POSTs at a fixed rate, up to `maxOutstanding` in flight (beyond that a request is shed
// and counted, not queued). Prints one JSON line: each accepted id with the wall-clock time its request was
// sent, what was offered, accepted, shed and failed in each second, and the CPU the generator used.
import { Agent, request } from 'node:http';
import { envelopeOf } from './envelope.js';

interface LoadSpec {
  url: string;
  key: string;
  rate: number;
  durationS: number;
  maxOutstanding: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

// node:http with keep-alive rather than fetch: measured at 1,000/s, fetch cost the generator about 0.9 of
// one of the machine's two cores, CPU taken from the system it measures.
const agent = new Agent({ keepAlive: true, maxSockets: spec.maxOutstanding });
const target = new URL('/api/v1/transactions', spec.url);
function post(body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const call = request(
      target,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${spec.key}`,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}
const accepted: Array<[string, number]> = [];
let failed = 0;
let shed = 0;
/** Per second of the run: [offered, accepted, shed, failed]. */
const perSecond: Array<[number, number, number, number]> = [];
const second = () => {
  const index = Math.floor((performance.now() - started) / 1000);
  perSecond[index] ??= [0, 0, 0, 0];
  return perSecond[index];
};
const cpuBefore = process.cpuUsage();
const total = Math.round(spec.rate * spec.durationS);
const started = performance.now();
const inFlight = new Set<Promise<void>>();
let sent = 0;
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * spec.rate) + 1);
  for (; sent < due; sent++) {
    const slot = second();
    slot[0]++;
    if (inFlight.size >= spec.maxOutstanding) {
      shed++;
      slot[2]++;
      continue;
    }
    // The clock starts as the request leaves: the row cannot be committed before it.
    const sentAt = Date.now();
    const request = post(JSON.stringify(envelopeOf(sent)))
      .then(({ status, body }) => {
        if (status !== 202) {
          failed++;
          slot[3]++;
        } else {
          accepted.push([(JSON.parse(body) as { id: string }).id, sentAt]);
          slot[1]++;
        }
      })
      .catch(() => {
        failed++;
        slot[3]++;
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await Promise.all(inFlight);
agent.destroy();
const cpu = process.cpuUsage(cpuBefore);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
process.stdout.write(`${JSON.stringify({ accepted, failed, shed, perSecond, cpuSeconds, elapsedMs: performance.now() - started })}\n`);
