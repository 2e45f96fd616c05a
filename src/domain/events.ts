// The events clients are told about (docs/api.md, "Events"): one vocabulary for the processor that records
// them, the feed that lists them and the contract that describes them.

export const EVENT_TYPES = [
  'transaction.processed',
  'transaction.updated',
  'transaction.voided',
  'transaction.failed',
  'transaction.dead',
  'statement.processed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
