// Recording events in the outbox table `events` (docs/api.md, "GET /api/v1/events"): deterministic ids, so that recording
// the same event again (a batch replayed, a relay repeated) adds nothing.
import { createHash } from 'node:crypto';
import type { Database, Task } from '../db/postgres.js';
import type { EventType } from '../domain/events.js';

/**
 * The same event of the same document (or of the same failed attempt: its log entry's id) has the same id,
 * so recording it again adds nothing.
 */
export const eventIdOf = (type: EventType, key: string) =>
  `evt_${createHash('sha256').update(`${type}:${key}`).digest('hex').slice(0, 24)}`;

/** eventIdOf in SQL, for events recorded without leaving PostgreSQL. */
export const EVENT_ID_SQL = (type: EventType, key: string) =>
  `'evt_' || left(encode(sha256(convert_to('${type}:' || ${key}, 'UTF8')), 'hex'), 24)`;

/** An event to record with its data; `created` when it happened earlier than now (a failure from its log entry). */
export interface EventRecord {
  id: string;
  tenant_id: string;
  type: EventType;
  raw_id: string;
  data: unknown;
  created?: Date;
}

/** Records events with their data; one already recorded (the same id) is left as it is. */
export async function insertEvents(db: Database | Task, events: EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  await db.none(
    `INSERT INTO events (id, tenant_id, type, raw_id, created, data)
     SELECT e.id, e.tenant_id, e.type, e.raw_id, coalesce(e.created, clock_timestamp()), e.data
       FROM jsonb_to_recordset($1::jsonb) AS e(id text, tenant_id text, type text, raw_id text, created timestamptz, data jsonb)
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify(events)],
  );
}
