// What ops counts of webhook delivery in this process, fed by the deliverer's events (ops declares this port;
// cli/ wires it): each attempt by endpoint and outcome, and a delivered event's delay.
import { boundedTenantLabel, type Metrics } from './metrics.js';

/** A delivery attempt, as far as metrics care; `delayMs` from the event's recording to its 2xx, else null. */
export interface WebhookAttemptFigures {
  endpointId: string;
  ok: boolean;
  delayMs: number | null;
}

/** Endpoint ids are bounded as tenant ids are: the first 100 seen keep their own series, later ones are "other". */
export function createWebhookTracker(metrics: Pick<Metrics, 'webhookAttempts' | 'webhookDelay'>) {
  const labelled = new Set<string>();
  return {
    attempt({ endpointId, ok, delayMs }: WebhookAttemptFigures) {
      metrics.webhookAttempts.inc({ endpoint: boundedTenantLabel(labelled, endpointId), outcome: ok ? 'delivered' : 'failed' });
      if (delayMs !== null) metrics.webhookDelay.observe(delayMs / 1000);
    },
  };
}

export type WebhookTracker = ReturnType<typeof createWebhookTracker>;
