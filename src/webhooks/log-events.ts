// The deliverer's log lines, one subscriber of its events: failures and state changes, never each attempt
// (those are counted by the metrics and kept in webhook_deliveries).
import type { Logger } from '../config/logger.js';
import type { WebhookEvents } from './events.js';

export function logWebhookEvents(events: WebhookEvents, parent: Logger): void {
  const logger = parent.child({ component: 'webhooks' });
  events.on('endpoint-disabled', ({ endpointId, error }) =>
    logger.warn({ endpoint: endpointId, error }, 'webhook endpoint disabled: failing too long'),
  );
  events.on('delivery-interrupted', ({ endpointId, error }) =>
    logger.warn({ endpoint: endpointId, err: error }, 'webhook delivery interrupted; retried'),
  );
  // ops/alerts.yml points operators at this line.
  events.on('delivery-paused', ({ error }) => logger.warn({ err: error }, 'webhook delivery paused: cannot read endpoints'));
  events.on('listen-failed', ({ error }) => logger.debug({ err: error }, 'cannot listen for events yet; polling'));
  events.on('retention-ran', ({ deleted, days }) => {
    if (deleted > 0) logger.info({ deleted, days }, 'old delivery attempts deleted');
  });
  events.on('retention-failed', ({ error }) => logger.warn({ err: error }, 'deleting old delivery attempts failed; next time'));
}
