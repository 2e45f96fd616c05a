// How a processor is fed: the change stream with the sweep as its fallback, or the sweep alone.
export const FEED_MODES = ['change-stream+sweep', 'sweep-only'] as const;
export type FeedMode = (typeof FEED_MODES)[number];
