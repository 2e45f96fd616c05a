// The e2e scenario's load generator, in a process of its own so it does not share the system's event
// loop: open-loop POSTs at a fixed rate, up to `maxOutstanding` in flight (beyond that a request is shed
// and counted, not queued). Prints one JSON line: each accepted id with the time its 202 arrived.
import { envelopeOf } from './support.js';

interface LoadSpec {
  url: string;
  key: string;
  rate: number;
  durationS: number;
  maxOutstanding: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const accepted: Array<[string, number]> = [];
let failed = 0;
let shed = 0;
const total = Math.round(spec.rate * spec.durationS);
const started = performance.now();
const inFlight = new Set<Promise<void>>();
let sent = 0;
while (sent < total) {
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * spec.rate) + 1);
  for (; sent < due; sent++) {
    if (inFlight.size >= spec.maxOutstanding) {
      shed++;
      continue;
    }
    const request = fetch(`${spec.url}/api/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${spec.key}` },
      body: JSON.stringify(envelopeOf(sent)),
    })
      .then(async (response) => {
        const at = Date.now();
        if (response.status !== 202) failed++;
        else accepted.push([((await response.json()) as { id: string }).id, at]);
      })
      .catch(() => void failed++)
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await Promise.all(inFlight);
process.stdout.write(`${JSON.stringify({ accepted, failed, shed, elapsedMs: performance.now() - started })}\n`);
