// Publishes what the processor tracker knows (mode, last change event, last checkpoint) to MongoDB every
// few seconds, so the board, served by the gateway in another process, can show it.
import type { Logger } from '../config/logger.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { reportProcessor, withdrawProcessor } from '../raw-store/report-processor.js';
import type { ProcessorTracker } from './processor-tracker.js';

export function startProcessorReports(
  {
    tracker,
    mongo,
    workerId,
    group,
    logger,
  }: { tracker: ProcessorTracker; mongo: MongoCollections; workerId: string; group: string; logger: Logger },
  intervalMs = 5_000,
): { stop(): Promise<void> } {
  const startedAt = new Date();
  let failing = false;
  const report = async () => {
    const view = tracker.view();
    try {
      await reportProcessor(mongo.processors, {
        _id: workerId,
        group,
        mode: view.mode,
        lastEventAt: view.lastEventAt,
        lastCheckpointAt: view.lastCheckpointAt,
        startedAt,
        seenAt: new Date(),
      });
      failing = false;
    } catch (error) {
      // The board shows the processor as gone meanwhile; processing itself is not affected.
      if (!failing) logger.warn({ err: error }, 'could not publish the processor report; retrying');
      failing = true;
    }
  };
  void report();
  const timer = setInterval(report, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await withdrawProcessor(mongo.processors, workerId).catch(() => undefined);
    },
  };
}
