/** A real S3 client that also counts what it sends, for tests of how many requests a path costs. */
import type { S3Client } from "@aws-sdk/client-s3";

/**
 * `client`, counting the commands sent through it by name; each is still
 * sent to the server it points at.
 *
 * @example
 * const { client, sent } = countingClient(servers.s3);
 * // ... run the code under test with `client` ...
 * expect(sent.filter((name) => name === "GetObjectTaggingCommand")).toHaveLength(1);
 */
export function countingClient(client: S3Client): { client: S3Client; sent: string[] } {
  const sent: string[] = [];
  const counted = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return target.send(command as never);
      };
    },
  });
  return { client: counted, sent };
}
