/**
 * Host names of Amazon SQS queue URLs, with the region they name: the current
 * form (`sqs.<region>.amazonaws.com`, FIPS `sqs-fips.<region>…`, China
 * `….amazonaws.com.cn`), the dual-stack `sqs.<region>.api.aws` (and its FIPS
 * form), and the legacy `<region>.queue.amazonaws.com`.
 * Emulators' URLs (fauxqs, ElasticMQ, LocalStack's `….localstack.cloud`)
 * match none of them.
 */
const AWS_QUEUE_HOSTS = [
  /^sqs(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws)$/,
  /^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$/,
];

/** The legacy global host, which serves us-east-1 only. */
const LEGACY_US_EAST_1_HOST = "queue.amazonaws.com";

/**
 * The AWS region of a queue URL that points at Amazon SQS, or `undefined`
 * for any other URL (an emulator's, or one that does not parse). Such a URL
 * says both where the queue is and that the worker works against AWS.
 *
 * @example
 * awsQueueRegion("https://sqs.eu-west-1.amazonaws.com/123456789012/uploads") // "eu-west-1"
 * awsQueueRegion("http://127.0.0.1:9324/000000000000/uploads") // undefined
 */
export function awsQueueRegion(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  if (host === LEGACY_US_EAST_1_HOST) return "us-east-1";
  for (const pattern of AWS_QUEUE_HOSTS) {
    const region = pattern.exec(host)?.[1];
    if (region) return region;
  }
  return undefined;
}
