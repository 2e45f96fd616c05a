// The events clients are told about (docs/api.md, "GET /api/v1/events"): one vocabulary for the processor that records
// them, the feed that lists them and the contract that describes them.

export const EVENT_TYPES = [
  'transaction.processed',
  'transaction.updated',
  'transaction.voided',
  'transaction.failed',
  'transaction.dead',
  'statement.processed',
  /** A webhook endpoint of the tenant failed for WEBHOOK_DISABLE_AFTER_HOURS and was disabled. */
  'webhook_endpoint.disabled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
