// Which failed or dead documents an operator means: one selection, turned into one MongoDB filter, shared
// by the replay (API, CLI, board) and the board's list, so the set a dry run counts is the set listed.
import { type Filter, ObjectId } from 'mongodb';
import { z } from 'zod';
import { sourceSchema, tenantIdSchema, textSchema, transactionIdSchema } from '../domain/ids.js';
import type { RawTransaction } from './collections.js';
import { REPLAYABLE_STATUSES } from './states.js';

export const selectionSchema = z.strictObject({
  ids: z.array(transactionIdSchema).max(10_000).optional(),
  tenantId: tenantIdSchema.optional(),
  source: sourceSchema.optional(),
  /** Part of the last error, any case. */
  error: textSchema.min(1).max(200).optional(),
  /** receivedAt range: from inclusive, to exclusive. */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  statuses: z
    .array(z.enum(REPLAYABLE_STATUSES))
    .min(1)
    .default([...REPLAYABLE_STATUSES]),
});
export type Selection = z.infer<typeof selectionSchema>;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function selectionFilter(selection: Selection): Filter<RawTransaction> {
  // Failed and dead documents are never processed: the equality on processed keeps the filter on the
  // waiting documents' indexes.
  const filter: Filter<RawTransaction> = { processed: false, status: { $in: selection.statuses } };
  if (selection.ids?.length) filter._id = { $in: selection.ids.map((id) => new ObjectId(id)) };
  if (selection.tenantId) filter.tenantId = selection.tenantId;
  if (selection.source) filter.source = selection.source;
  if (selection.error) filter.lastError = { $regex: escapeRegExp(selection.error), $options: 'i' };
  if (selection.from || selection.to) {
    filter.receivedAt = {
      ...(selection.from ? { $gte: new Date(selection.from) } : {}),
      ...(selection.to ? { $lt: new Date(selection.to) } : {}),
    };
  }
  return filter;
}
