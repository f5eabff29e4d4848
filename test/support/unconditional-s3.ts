/**
 * An S3-compatible store without conditional requests, as some are (S3 has
 * had conditional writes only since 2024, conditional deletes since 2025):
 * an HTTP proxy in front of the embedded S3 server that answers a PUT or
 * DELETE carrying `If-Match` or `If-None-Match` with 501 NotImplemented and
 * forwards every other request unchanged (the client signs for the proxy's
 * Host, which it passes on, so signatures still hold).
 */
import { createServer, request } from "node:http";
import { S3Client } from "@aws-sdk/client-s3";
import { TEST_CREDENTIALS, TEST_REGION } from "./servers.js";

/** The running proxy and a client pointed at it. */
export interface UnconditionalS3 {
  client: S3Client;
  /** Conditional requests answered 501 so far. */
  readonly refused: number;
  close(): Promise<void>;
}

/**
 * Starts the proxy in front of the S3 server at `endpoint` (`http://127.0.0.1:<port>`).
 *
 * @example
 * const store = await startUnconditionalS3(servers.s3Endpoint);
 * const writer = new S3DerivedWriter(store.client);
 */
export async function startUnconditionalS3(endpoint: string): Promise<UnconditionalS3> {
  const target = new URL(endpoint);
  const counts = { refused: 0 };
  const server = createServer((incoming, answer) => {
    const conditional =
      (incoming.method === "PUT" || incoming.method === "DELETE") &&
      (incoming.headers["if-match"] !== undefined || incoming.headers["if-none-match"] !== undefined);
    if (conditional) {
      counts.refused++;
      incoming.resume();
      incoming.on("end", () => {
        answer.writeHead(501, { "Content-Type": "application/xml" });
        answer.end(
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>' +
            "<Message>A header you provided implies functionality that is not implemented</Message></Error>",
        );
      });
      return;
    }
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
        agent: false,
      },
      (response) => {
        answer.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(answer);
      },
    );
    forwarded.on("error", () => answer.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const client = new S3Client({
    region: TEST_REGION,
    endpoint: `http://127.0.0.1:${port}`,
    credentials: TEST_CREDENTIALS,
    forcePathStyle: true,
  });
  return {
    client,
    get refused() {
      return counts.refused;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
