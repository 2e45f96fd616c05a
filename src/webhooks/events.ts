// Everything the deliverer has to say, as one typed event surface (like the processor's): its log subscriber,
// the metrics subscriber (ops/, wired by cli/) and tests listen here instead of being handed callbacks.
import { EventEmitter } from 'node:events';

export interface WebhookEventMap {
  /**
   * One POST of one event to an endpoint: `ok` for a 2xx, else `status` (null when no answer came) and
   * `error`; `delayMs` from the event's recording to its 2xx (null when not delivered); `resend` when asked for.
   */
  attempt: [
    {
      endpointId: string;
      tenantId: string;
      eventId: string;
      ok: boolean;
      status: number | null;
      error: string | null;
      durationMs: number;
      delayMs: number | null;
      resend: boolean;
    },
  ];
  /** An endpoint failed for WEBHOOK_DISABLE_AFTER_HOURS and was disabled (once per failing spell). */
  'endpoint-disabled': [{ endpointId: string; tenantId: string; error: string }];
  /** A turn on a leased endpoint stopped on an error (the database away): its lease lapses and it is retried. */
  'delivery-interrupted': [{ endpointId: string; tenantId: string; error: unknown }];
  /** The endpoints could not be read: delivery is paused until a claim succeeds again (said once per spell). */
  'delivery-paused': [{ error: unknown }];
  /** A claim succeeded after delivery was paused. */
  'delivery-resumed': [];
  /** The LISTEN connection could not be made (yet): polling covers until it is. */
  'listen-failed': [{ error: unknown }];
  /** Delivery attempts and done resends older than EVENTS_RETENTION_DAYS were deleted. */
  'retention-ran': [{ deleted: number; days: number }];
  'retention-failed': [{ error: unknown }];
}

export class WebhookEvents extends EventEmitter<WebhookEventMap> {}
