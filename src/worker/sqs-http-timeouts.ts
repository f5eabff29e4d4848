import { SDK_HTTP_TIMEOUTS } from "../config/config.js";

/**
 * Silence allowed after a long poll's wait time before the answer counts as
 * lost: SQS answers an empty ReceiveMessage when the wait ends, and this
 * covers the trip back (the same allowance S3 and DynamoDB calls get).
 */
export const LONG_POLL_MARGIN_MS = SDK_HTTP_TIMEOUTS.socketTimeout;

/**
 * HTTP time limits for an SQS client that long-polls for `waitTimeSeconds`.
 * A ReceiveMessage is silent for up to the wait time by design, so the
 * socket may stay quiet for that long plus {@link LONG_POLL_MARGIN_MS}; a
 * server that takes the connection and never answers still fails the call
 * (and the SDK retries it) instead of holding the worker for good.
 *
 * @example
 * new SQSClient({ requestHandler: sqsHttpTimeouts(20) }); // { connectionTimeout: 3000, socketTimeout: 25000 }
 */
export function sqsHttpTimeouts(waitTimeSeconds: number): {
  connectionTimeout: number;
  socketTimeout: number;
} {
  return {
    connectionTimeout: SDK_HTTP_TIMEOUTS.connectionTimeout,
    socketTimeout: waitTimeSeconds * 1000 + LONG_POLL_MARGIN_MS,
  };
}
