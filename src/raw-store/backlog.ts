// How far behind the pipeline is, from the databases' point of view (backlog, oldest, failures, dead letters,
// checkpoint age, per-tenant rates), for `prismo status`, its --watch, /metrics and the board.
import type { Filter } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { type MongoCollections, type RawTransaction, tenantFilter } from './collections.js';
import { WAITING } from './states.js';

export interface PipelineStatus {
  backlog: number;
  oldestUnprocessedAgeSeconds: number;
  failed: number;
  dead: number;
  processed: number;
  checkpoints: Array<{ group: string; ageSeconds: number; worker: string }>;
  /** Per tenant over the last `windowSeconds`: documents received and documents processed, per second. */
  tenants: Array<{ tenantId: string; acceptedPerSecond: number; processedPerSecond: number; backlog: number }>;
  windowSeconds: number;
}

/** The counts /metrics needs on every scrape: cheap ones only, no per-tenant aggregation. */
export async function backlogFigures(
  mongo: MongoCollections,
  now = new Date(),
  tenantId?: string,
  /** A deadline for each query (db/mongo.ts, withinDeadline). */
  bound?: Bound,
): Promise<Pick<PipelineStatus, 'backlog' | 'failed' | 'dead' | 'oldestUnprocessedAgeSeconds'>> {
  const scope = tenantFilter(tenantId);
  const [backlog, failed, dead, oldest] = await Promise.all([
    mongo.raw.countDocuments({ ...WAITING, ...scope }, bound),
    mongo.raw.countDocuments({ processed: false, status: 'failed', ...scope }, bound),
    // Dead documents are never processed: the equality on processed lets the sweep index count them.
    mongo.raw.countDocuments({ processed: false, status: 'dead', ...scope }, bound),
    mongo.raw.find({ ...WAITING, ...scope }, { projection: { receivedAt: 1 }, sort: { _id: 1 }, limit: 1, ...bound }).toArray(),
  ]);
  return { backlog, failed, dead, oldestUnprocessedAgeSeconds: oldest[0] ? (now.getTime() - oldest[0].receivedAt.getTime()) / 1000 : 0 };
}

export async function pipelineStatus(
  mongo: MongoCollections,
  { windowSeconds = 300, now = new Date(), tenantId, bound }: { windowSeconds?: number; now?: Date; tenantId?: string; bound?: Bound } = {},
): Promise<PipelineStatus> {
  const since = new Date(now.getTime() - windowSeconds * 1000);
  const scope = tenantFilter(tenantId);
  const byTenant = (match: Filter<RawTransaction>) =>
    mongo.raw
      .aggregate<{ _id: string; n: number }>([{ $match: { ...match, ...scope } }, { $group: { _id: '$tenantId', n: { $sum: 1 } } }], bound)
      .toArray();
  const [figures, processed, checkpoints, received, done, waitingByTenant] = await Promise.all([
    backlogFigures(mongo, now, tenantId, bound),
    mongo.raw.countDocuments({ processed: true, ...scope }, bound),
    mongo.checkpoints.find({}, bound).toArray(),
    byTenant({ receivedAt: { $gte: since } }),
    byTenant({ processedAt: { $gte: since } }),
    byTenant(WAITING),
  ]);
  const tenantIds = [...new Set([...received, ...done, ...waitingByTenant].map((g) => g._id))].sort();
  const count = (groups: Array<{ _id: string; n: number }>, id: string) => groups.find((g) => g._id === id)?.n ?? 0;
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    ...figures,
    processed,
    checkpoints: checkpoints.map((c) => ({ group: c._id, ageSeconds: (now.getTime() - c.at.getTime()) / 1000, worker: c.worker })),
    tenants: tenantIds.map((tenantId) => ({
      tenantId,
      acceptedPerSecond: round(count(received, tenantId) / windowSeconds),
      processedPerSecond: round(count(done, tenantId) / windowSeconds),
      backlog: count(waitingByTenant, tenantId),
    })),
    windowSeconds,
  };
}

/** The two counts a drain is followed by: still waiting, and processed so far. */
export async function drainProgress(mongo: Pick<MongoCollections, 'raw'>, bound?: Bound): Promise<{ backlog: number; processed: number }> {
  const [backlog, processed] = await Promise.all([
    mongo.raw.countDocuments(WAITING, bound),
    mongo.raw.countDocuments({ processed: true }, bound),
  ]);
  return { backlog, processed };
}
