// The last minutes of the pipeline in buckets, from the data itself (documents received, outcomes logged), so
// any gateway can draw the board's charts without keeping samples, and a restart loses nothing.

import type { Document } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { type MongoCollections, tenantFilter } from './collections.js';

export interface Timeline {
  /** Start of the first bucket, epoch milliseconds. */
  start: number;
  bucketSeconds: number;
  accepted: number[];
  processed: number[];
  failed: number[];
  dead: number[];
  /** Waiting at the end of each bucket. */
  backlog: number[];
}

/** Groups matching documents by `bucketMs`-wide buckets of a date field: { _id: { bucket, ...by }, n }. */
const bucketed = (match: Document, field: string, bucketMs: number, by: Document = {}) => [
  { $match: match },
  // Date minus epoch is milliseconds on every MongoDB (and on the development one, which lacks $dateTrunc).
  { $group: { _id: { bucket: { $floor: { $divide: [{ $subtract: [`$${field}`, new Date(0)] }, bucketMs] } }, ...by }, n: { $sum: 1 } } },
];

/**
 * The backlog is derived backwards from its present size: each bucket's arrivals added to it, its processed
 * and dead-lettered documents removed from it (a replay or a retention purge inside the window is not seen, so
 * the curve is an estimate; the present value is exact).
 */
export async function pipelineTimeline(
  mongo: MongoCollections,
  {
    backlogNow,
    minutes = 15,
    bucketSeconds = 10,
    tenantId,
    now = new Date(),
    bound,
  }: { backlogNow: number; minutes?: number; bucketSeconds?: number; tenantId?: string; now?: Date; bound?: Bound },
): Promise<Timeline> {
  const bucketMs = bucketSeconds * 1000;
  const buckets = Math.ceil((minutes * 60) / bucketSeconds);
  const lastBucket = Math.floor(now.getTime() / bucketMs);
  const firstBucket = lastBucket - buckets + 1;
  const since = new Date(firstBucket * bucketMs);
  const scope = tenantFilter(tenantId);
  const [received, outcomes] = await Promise.all([
    mongo.raw
      .aggregate<{ _id: { bucket: number }; n: number }>(bucketed({ receivedAt: { $gte: since }, ...scope }, 'receivedAt', bucketMs), bound)
      .toArray(),
    mongo.logs
      .aggregate<{ _id: { bucket: number; outcome: string }; n: number }>(
        bucketed({ at: { $gte: since }, ...scope }, 'at', bucketMs, { outcome: '$outcome' }),
        bound,
      )
      .toArray(),
  ]);
  const series = () => new Array<number>(buckets).fill(0);
  const timeline: Timeline = {
    start: since.getTime(),
    bucketSeconds,
    accepted: series(),
    processed: series(),
    failed: series(),
    dead: series(),
    backlog: series(),
  };
  const slot = (bucket: number) => bucket - firstBucket;
  for (const { _id, n } of received) if (slot(_id.bucket) >= 0 && slot(_id.bucket) < buckets) timeline.accepted[slot(_id.bucket)]! += n;
  for (const { _id, n } of outcomes) {
    const i = slot(_id.bucket);
    if (i < 0 || i >= buckets) continue;
    if (_id.outcome === 'processed' || _id.outcome === 'failed' || _id.outcome === 'dead') timeline[_id.outcome][i]! += n;
  }
  let backlog = backlogNow;
  for (let i = buckets - 1; i >= 0; i--) {
    timeline.backlog[i] = backlog;
    backlog = Math.max(0, backlog - timeline.accepted[i]! + timeline.processed[i]! + timeline.dead[i]!);
  }
  return timeline;
}
