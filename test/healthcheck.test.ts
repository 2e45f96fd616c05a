// bin/healthcheck.js, the image's HEALTHCHECK, run as Docker runs it: exit 0 only when /readyz answers 2xx.
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../bin/healthcheck.js', import.meta.url));

function healthcheck(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env: { ...process.env, ...env }, timeout: 20_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stderr }),
    );
  });
}

describe('bin/healthcheck.js', () => {
  let ready = true;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.statusCode = request.url === '/readyz' && ready ? 200 : 503;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('is healthy when /readyz on OPS_PORT answers 2xx, unhealthy when it answers 503', async () => {
    ready = true;
    expect((await healthcheck({ OPS_PORT: String(port), OPS_HOST: '' })).code).toBe(0);
    ready = false;
    expect((await healthcheck({ OPS_PORT: String(port), OPS_HOST: '' })).code).toBe(1);
  });

  it('with OPS_PORT=0 (a port picked at start) says it cannot know the port, and is unhealthy', async () => {
    const { code, stderr } = await healthcheck({ OPS_PORT: '0', OPS_HOST: '' });
    expect(code).toBe(1);
    expect(stderr).toContain('set a fixed OPS_PORT');
  });
});
