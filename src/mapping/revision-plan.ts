// Decides what a batch's revisions of provider objects do to their rows, before any row is written: each
// object's revisions in revision-key order against the row as it stands, a stale one never moving it back.
import canonicalize from 'canonicalize';
import type { Transaction } from '../domain/transaction.js';
import type { CurrentRow, RowFields } from '../pg-store/rows.js';

/** The row's shapes are pg-store's (defined once, in pg-store/rows.ts). */
export type { CurrentRow, RowFields };

/** How one raw document's revision ended; kept in transaction_revisions.outcome. */
export type RevisionOutcome = 'created' | 'updated' | 'unchanged' | 'stale' | 'after-void' | 'superseded';

/** A revision to plan: the mapped snapshot and the fields it would give its row. */
export interface Revision {
  tx: Transaction;
  fields: RowFields;
}

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

export interface PlannedRevision {
  objectKey: string;
  tx: Transaction;
  outcome: RevisionOutcome;
  changes: FieldChanges;
}

export interface ObjectPlan {
  objectKey: string;
  /** The row to insert (a new object): its creating revision's raw id with the latest applied revision. */
  insert: { creator: Transaction; latest: Revision } | null;
  /** The existing row's new state, when a revision changed it. */
  update: { id: bigint; fields: RowFields; revisionKey: bigint[] } | null;
  revisions: PlannedRevision[];
}

/** The identity of a provider object: one row per (tenant, source, provider reference). */
export const objectKeyOf = (tx: { tenantId: string; source: string; providerRef: string | null }) =>
  JSON.stringify([tx.tenantId, tx.source, tx.providerRef]);

/** Element by element; a longer key that starts with a shorter one is the later. */
export function compareKeys(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

const shown = (value: unknown): unknown =>
  typeof value === 'bigint' ? value.toString() : value instanceof Date ? value.toISOString() : value;
const same = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : canonicalize(shown(a)) === canonicalize(shown(b));

/** What moving a row from `before` to `after` changes: each field, and each metadata key, from what to what. */
export function diffFields(before: RowFields, after: RowFields): FieldChanges {
  const changes: FieldChanges = {};
  const pairs: Array<[string, unknown, unknown]> = [
    ['account', before.account, after.account],
    ['counterparty', before.counterparty, after.counterparty],
    ['direction', before.direction, after.direction],
    ['amountMinor', before.amountMinor, after.amountMinor],
    ['currency', before.currency, after.currency],
    ['status', before.status, after.status],
    ['description', before.description, after.description],
    ['category', before.category, after.category],
    ['occurredAt', before.occurredAt, after.occurredAt],
    ['bookedAt', before.bookedAt, after.bookedAt],
    ['supersedes', before.supersedes, after.supersedes],
  ];
  for (const [field, from, to] of pairs) if (!same(from, to)) changes[field] = { from: shown(from), to: shown(to) };
  for (const key of new Set([...Object.keys(before.metadata), ...Object.keys(after.metadata)])) {
    const from = before.metadata[key] ?? null;
    const to = after.metadata[key] ?? null;
    if (!same(from, to)) changes[`metadata.${key}`] = { from, to };
  }
  return changes;
}

/** The order revisions of one object are applied in: by revision key, then raw id (arrival within a batch). */
const byRevision = (a: Revision, b: Revision) =>
  compareKeys(a.tx.revisionKey!, b.tx.revisionKey!) || (a.tx.rawId < b.tx.rawId ? -1 : a.tx.rawId > b.tx.rawId ? 1 : 0);

/**
 * Plans one object's revisions against its current row (undefined: none yet). `superseded` says a posted
 * successor already replaced the object (Plaid pending → posted): its revisions are kept, never applied.
 */
export function planObject(objectKey: string, current: CurrentRow | undefined, revisions: Revision[], superseded: boolean): ObjectPlan {
  const planned: PlannedRevision[] = [];
  let state: { fields: RowFields; key: bigint[] } | null = current ? { fields: current, key: current.revisionKey ?? [] } : null;
  let creator: Transaction | null = null;
  let latest: Revision | null = null;
  for (const revision of [...revisions].sort(byRevision)) {
    const key = revision.tx.revisionKey!;
    const record = (outcome: RevisionOutcome, changes: FieldChanges = {}) => planned.push({ objectKey, tx: revision.tx, outcome, changes });
    if (!current && superseded) record('superseded');
    else if (!state) {
      creator = revision.tx;
      latest = revision;
      state = { fields: revision.fields, key };
      record('created');
    } else if (state.fields.status === 'void') record('after-void');
    else if (compareKeys(key, state.key) < 0) record('stale');
    else {
      const changes = diffFields(state.fields, revision.fields);
      latest = revision;
      state = { fields: revision.fields, key };
      record(Object.keys(changes).length > 0 ? 'updated' : 'unchanged', changes);
    }
  }
  const changed =
    planned.some((p) => p.outcome === 'updated') || (current && state && compareKeys(state.key, current.revisionKey ?? []) !== 0);
  return {
    objectKey,
    insert: creator && latest ? { creator, latest } : null,
    update: current && state && changed ? { id: current.id, fields: state.fields, revisionKey: state.key } : null,
    revisions: planned,
  };
}
