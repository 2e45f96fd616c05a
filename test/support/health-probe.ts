// The hostile tests' measure of a blocked event loop: /healthz asked on a fixed schedule while an attack runs,
// each time on a new connection. A probe's wait runs from when it was due, not from when a busy loop got round
// to sending it, so a loop blocked for a second shows as a second, however few probes it let out meanwhile.
import { request } from 'node:http';

export const PROBE_EVERY_MS = 50;
/** Issue 42's bar: no probe may wait this long while a hostile request is served. */
export const PROBE_BAR_MS = 250;

/**
 * GET `url` on a connection of its own, as a new client would: a kept-alive connection would skip the wait for
 * the server to accept one, which an attack can lengthen while requests on open connections are served promptly.
 */
function askOnNewConnection(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url.pathname} answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Probes `url`'s /healthz every PROBE_EVERY_MS until stopped, each on a new connection; the longest wait and how many probes ran. */
export function probeHealth(url: string): { stop(): Promise<{ worstMs: number; probes: number }> } {
  const started = performance.now();
  const waits: Array<Promise<number>> = [];
  let stopped = false;
  const tick = (k: number) => {
    if (stopped) return;
    const due = started + k * PROBE_EVERY_MS;
    waits.push(askOnNewConnection(new URL('/healthz', url)).then(() => performance.now() - due));
    setTimeout(() => tick(k + 1), Math.max(0, started + (k + 1) * PROBE_EVERY_MS - performance.now()));
  };
  tick(0);
  return {
    async stop() {
      stopped = true;
      const all = await Promise.all(waits);
      return { worstMs: Math.max(...all), probes: all.length };
    },
  };
}

/**
 * Runs `attack` while probing `url`: its result and the worst probe's wait. The probe stops however the attack
 * ends; a run in which no probe was sent measured nothing, and fails.
 */
export async function whileProbing<T>(url: string, attack: () => Promise<T>): Promise<{ result: T; worstMs: number }> {
  const probe = probeHealth(url);
  const outcome = await attack().then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const { worstMs, probes } = await probe.stop();
  if (!outcome.ok) throw outcome.error;
  if (probes === 0) throw new Error(`no /healthz probe was sent to ${url} while the attack ran`);
  return { result: outcome.result, worstMs };
}
