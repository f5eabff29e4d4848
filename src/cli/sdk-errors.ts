// What the SDK's errors say of the server that answered; no SDK import, so commands load it at start-up.

/**
 * An SDK error from an answer it could not read as its service's protocol:
 * a server of another kind at the endpoint (the S3 server's port given as
 * DynamoDB's, the dashboard's as either). The SDK names such an answer
 * `Unknown`, adds "Deserialization error" to its parser's message, or, for a
 * 404 or 405 with no error code in it, names it by its status with the
 * message "UnknownError" (S3 and DynamoDB say what was not found). A HEAD's
 * 404 has no body either: the commands catch those where they make them.
 */
export function isNotTheProtocol(link: unknown): boolean {
  const { name, message, $metadata } = link as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  return (
    name === "Unknown" ||
    name === "UnknownError" ||
    (typeof message === "string" && message.includes("Deserialization error")) ||
    (message === "UnknownError" && (status === 404 || status === 405))
  );
}
