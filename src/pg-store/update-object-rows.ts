// Existing provider objects' rows moved to their latest revision, in one statement.
import type { Task } from '../db/postgres.js';
import type { RowFields } from './rows.js';
import { keyText } from './unnest-insert.js';

/** A row to move: its id, the fields of its latest revision, and that revision's key. */
export interface ObjectUpdate {
  id: bigint;
  fields: RowFields;
  revisionKey: bigint[];
}

export async function updateObjectRows(t: Task, updates: ObjectUpdate[]): Promise<void> {
  const f = updates.map((u) => u.fields);
  await t.none(
    `UPDATE transactions t
        SET account_id = u.account_id, counterparty_id = u.counterparty_id, direction = u.direction, amount_minor = u.amount_minor,
            currency = u.currency, status = u.status, description = u.description, category = u.category,
            occurred_at = u.occurred_at, booked_at = u.booked_at, supersedes = u.supersedes, metadata = u.metadata,
            revision_key = u.revision_key::bigint[]
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bpchar[], $7::text[], $8::text[], $9::text[],
                   $10::timestamptz[], $11::timestamptz[], $12::text[], $13::jsonb[], $14::text[])
         AS u(id, account_id, counterparty_id, direction, amount_minor, currency, status, description, category, occurred_at,
              booked_at, supersedes, metadata, revision_key)
      WHERE t.id = u.id`,
    [
      updates.map((u) => u.id.toString()),
      f.map((x) => x.accountId.toString()),
      f.map((x) => x.counterpartyId?.toString() ?? null),
      f.map((x) => x.direction),
      f.map((x) => x.amountMinor.toString()),
      f.map((x) => x.currency),
      f.map((x) => x.status),
      f.map((x) => x.description),
      f.map((x) => x.category),
      f.map((x) => x.occurredAt),
      f.map((x) => x.bookedAt),
      f.map((x) => x.supersedes),
      f.map((x) => JSON.stringify(x.metadata)),
      updates.map((u) => keyText(u.revisionKey)),
    ],
  );
}
