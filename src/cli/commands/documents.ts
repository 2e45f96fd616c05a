// prismo documents fail: sets processed documents back to failed so the processor writes their rows again,
// the action for reconciliation's processed-without-row (docs/operations.md).
import { ObjectId } from 'mongodb';
import { MONGO_DEADLINES_MS, readWithin } from '../../db/mongo.js';
import { failProcessed } from '../../raw-store/fail-processed.js';
import { type Command, StartupError } from '../context.js';
import { connectRunningMongo } from '../resolve.js';

export const documentsCommand: Command = async ({ settings, args, values, cleanups }) => {
  const [action, ...ids] = args;
  if (action !== 'fail') throw new StartupError('documents needs fail (prismo documents --help)');
  if (ids.length === 0) throw new StartupError('documents fail needs the ids of the documents (24 hex digits each)');
  const wrong = ids.find((id) => !/^[0-9a-f]{24}$/i.test(id) || !ObjectId.isValid(id));
  if (wrong) throw new StartupError(`documents fail: "${wrong}" is not a document id (24 hex digits)`);
  const reason = values.reason?.trim();
  if (!reason) throw new StartupError("documents fail needs --reason <text>: it becomes the documents' last error, shown on the board");
  const { mongo } = await connectRunningMongo(settings, 'documents', cleanups);
  const result = await readWithin(MONGO_DEADLINES_MS.command, (bound) =>
    failProcessed(mongo.raw, ids, reason, { statements: mongo.statements, bound }),
  );
  console.log(`set ${result.failed.length} of ${ids.length} documents back to failed; the processor retries them`);
  if (result.skipped.length > 0) console.log(`not processed or unknown, left as they are: ${result.skipped.join(' ')}`);
  return 'done';
};
