// prismo status: how far behind the pipeline is, once (table or --json) or followed (--watch).
import { MONGO_DEADLINES_MS, readWithin } from '../../db/mongo.js';
import { pipelineStatus } from '../../raw-store/backlog.js';
import { type Command, StartupError } from '../context.js';
import { formatStatus, watchDrain } from '../output.js';
import { connectRunningMongo, hostOf } from '../resolve.js';

export const statusCommand: Command = async ({ settings, values, cleanups }) => {
  const window = values.window ? Number(values.window) : 300;
  if (!Number.isInteger(window) || window <= 0) throw new StartupError('--window must be a positive number of seconds');
  const { mongo, notice } = await connectRunningMongo(settings, 'status', cleanups);
  if (values.watch) {
    await watchDrain(mongo, { untilEmpty: values['until-empty'] ?? false, intervalMs: 1_000 });
    return 'done';
  }
  const status = await readWithin(MONGO_DEADLINES_MS.command, (bound) => pipelineStatus(mongo, { windowSeconds: window, bound }));
  const mongodb =
    notice ?? (settings.mongo.uri ? `MONGODB_URI (${hostOf(settings.mongo.uri)})` : 'the MongoDB of the running prismo start');
  console.log(values.json ? JSON.stringify({ ...status, mongodb }, null, 2) : `${formatStatus(status)}\nmongodb: ${mongodb}`);
  return 'done';
};
