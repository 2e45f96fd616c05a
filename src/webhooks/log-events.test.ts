// The log lines are one subscriber of the events; ops/alerts.yml sends operators to some of them by their words.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { WebhookEvents } from './events.js';
import { logWebhookEvents } from './log-events.js';

/** A logger whose JSON lines are kept, as [level, component, msg, extra field]. */
function capture(field: string) {
  const lines: Array<[number, string, string, unknown]> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString()) as Record<string, unknown>;
      lines.push([line.level as number, line.component as string, line.msg as string, line[field]]);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

describe("the deliverer's log subscriber", () => {
  it('the deliverer says a pause once per spell, a disabled endpoint, retention that deleted something; never an attempt', () => {
    const { logger, lines } = capture('endpoint');
    const events = new WebhookEvents();
    logWebhookEvents(events, logger);
    const attempt = { endpointId: 'e1', tenantId: 't1', eventId: 'ev', ok: true, status: 200, error: null, durationMs: 3, delayMs: 9 };
    events.emit('attempt', { ...attempt, resend: false });
    events.emit('delivery-paused', { error: new Error('away') });
    events.emit('delivery-resumed');
    events.emit('endpoint-disabled', { endpointId: 'e1', tenantId: 't1', error: 'HTTP 503' });
    events.emit('delivery-interrupted', { endpointId: 'e2', tenantId: 't1', error: new Error('lost') });
    events.emit('retention-ran', { deleted: 0, days: 30 });
    events.emit('retention-ran', { deleted: 5, days: 30 });
    events.emit('listen-failed', { error: new Error('no') });
    expect(lines).toEqual([
      [40, 'webhooks', 'webhook delivery paused: cannot read endpoints', undefined],
      [40, 'webhooks', 'webhook endpoint disabled: failing too long', 'e1'],
      [40, 'webhooks', 'webhook delivery interrupted; retried', 'e2'],
      [30, 'webhooks', 'old delivery attempts deleted', undefined],
      [20, 'webhooks', 'cannot listen for events yet; polling', undefined],
    ]);
  });
});
