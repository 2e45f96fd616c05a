// prismo replay: puts failed or dead documents back in line with fresh attempts, through the same raw
// store function as POST /api/v1/admin/replay.
import { replay, replaySelectorsSchema } from '../../raw-store/replay.js';
import { type Command, StartupError } from '../context.js';
import { progressReporter } from '../output.js';
import { connectRunningMongo } from '../resolve.js';

/** The selector each option sets, backwards: errors name the option the user typed. */
const OPTION_OF: Record<string, string> = { ids: 'id', tenantId: 'tenant', statuses: 'status', dryRun: 'dry-run' };

export const replayCommand: Command = async ({ settings, values, cleanups }) => {
  const parsed = replaySelectorsSchema.safeParse({
    ids: values.id,
    tenantId: values.tenant,
    source: values.source,
    error: values.error,
    from: values.from,
    to: values.to,
    statuses: values.status?.split(',').map((s) => s.trim()),
    dryRun: values['dry-run'] ?? false,
  });
  if (!parsed.success)
    throw new StartupError(
      parsed.error.issues.map((i) => `--${OPTION_OF[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`).join('; '),
    );
  const { mongo } = await connectRunningMongo(settings, 'replay', cleanups);
  const progress = progressReporter('replayed');
  const result = await replay(mongo.raw, parsed.data, { onProgress: progress.update, statements: mongo.statements });
  progress.done();
  console.log(
    result.dryRun
      ? `${result.matched} documents match (dry run: nothing changed)`
      : `replayed ${result.replayed} of ${result.matched} matching documents`,
  );
  return 'done';
};
