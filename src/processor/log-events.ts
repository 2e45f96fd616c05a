// The processor's log lines, one subscriber of its events: a batch once, never each document.
import type { Logger } from '../config/logger.js';
import type { ProcessorEvents } from './events.js';

export function logProcessorEvents(events: ProcessorEvents, logger: Logger): void {
  events.on('started', ({ mode, resumed, pageSize, memory }) => {
    if (mode === 'sweep-only') logger.info('CHANGE_STREAM=off: running on the polling sweep alone');
    logger.info({ resumeToken: resumed, mode, pageSize, memory }, 'processor started');
    if (memory.heapLimitMiB < memory.heapNeedMiB) {
      logger.warn(
        memory,
        'the V8 heap limit is below what BATCH_MAX_BYTES x BATCH_CONCURRENCY needs at peak: raise --max-old-space-size or lower them (docs/operations.md)',
      );
    }
  });
  events.on('batch', (outcome) => {
    if (outcome.error) logger.warn(outcome, 'batch failed; its documents stay unprocessed for the sweep');
    else logger.info(outcome, 'batch done');
  });
  events.on('mode-changed', ({ error }) =>
    logger.warn({ err: error }, 'change streams are unavailable on this server; running on the polling sweep alone'),
  );
  events.on('stream-restarted', ({ error, lastCheckpointAt }) =>
    logger.warn(
      { err: error, lastCheckpointAt, gapMs: lastCheckpointAt ? Date.now() - lastCheckpointAt.getTime() : undefined },
      'the resume token is unusable; restarting the change stream from now, the sweep covers the gap',
    ),
  );
  events.on('stream-reconnecting', ({ error, attempt, delayMs }) =>
    logger.warn({ err: error, attempt, delayMs }, 'change stream failed; reconnecting'),
  );
  events.on('heartbeat-failed', ({ error }) =>
    logger.warn({ err: error }, 'could not store the heartbeat checkpoint; the next one will try again'),
  );
  events.on('sweep-failed', ({ error }) => logger.warn({ err: error }, 'sweep failed; trying again next interval'));
  events.on('stage-retry', ({ stage, error, attempt, delayMs }) =>
    logger.warn({ err: error, stage, attempt, delayMs }, 'transient failure; retrying the batch stage'),
  );
  events.on('stage-retry-ended', ({ stage, retries, retriedMs, recovered }) =>
    (recovered ? logger.info.bind(logger) : logger.warn.bind(logger))(
      { stage, retries, retriedMs },
      recovered ? 'the batch stage succeeded after retrying' : 'the batch stage stopped retrying without success',
    ),
  );
  events.on('pipeline-failed', ({ error }) => logger.error({ err: error }, 'processor pipeline failed'));
  events.on('slots-changed', ({ members, slots }) => logger.info({ members, slots }, 'hash slots shared out'));
  events.on('membership-failed', ({ error }) =>
    logger.warn({ err: error }, 'could not renew the group membership; keeping the last share of slots'),
  );
  events.on('stopped', ({ drained, released }) => logger.info({ drained, released }, 'processor stopped'));
}
