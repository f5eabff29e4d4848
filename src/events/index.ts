/**
 * S3 events at the edge: parse every delivery shape into {@link ObjectEvent}s
 * (keys decoded once), build S3-shaped notifications, order sequencers.
 *
 * @example
 * import { parseLambdaEvent, compareSequencers } from "./events/index.js";
 */
export {
  decodeEventKey,
  type EventEnvelope,
  EventShapeError,
  encodeEventKey,
  type IgnoredEvent,
  type ObjectEvent,
  parseLambdaEvent,
  type S3NotificationOptions,
  type SqsMessageEvents,
  toS3Notification,
} from "./s3-event.js";
export { compareSequencers, isSequencer, SEQUENCER_SORT_WIDTH, sequencerSortKey } from "./sequencer.js";
