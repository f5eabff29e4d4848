/**
 * One HTTP request with exactly the headers given, as a browser or an
 * attacker's page could send it: node's http module lets a test set `Host`,
 * `Origin` and `Sec-Fetch-Site` to anything, which fetch does not.
 */
import { request } from "node:http";

/** A response read whole. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends `method path` to 127.0.0.1:`port` with `headers` (a `Host` among
 * them replaces node's own) and reads the whole answer.
 *
 * @example
 * const { status } = await rawRequest(port, "GET", "/uploads/a.txt", { Host: "evil.example" });
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: "127.0.0.1", port, method, path, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    sent.on("error", reject);
    sent.end(body);
  });
}

/**
 * A `multipart/form-data` body as an HTML form posting a file to S3 sends it
 * (S3's browser-based POST upload): the fields in order, then the file.
 *
 * @example
 * const { contentType, body } = formUpload({ key: "a.txt" }, "hello");
 */
export function formUpload(
  fields: Record<string, string>,
  file: string,
): { contentType: string; body: string } {
  const boundary = "----catalog-test-form";
  const lines: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    lines.push(`--${boundary}`, `Content-Disposition: form-data; name="${name}"`, "", value);
  }
  lines.push(
    `--${boundary}`,
    'Content-Disposition: form-data; name="file"; filename="file.txt"',
    "Content-Type: text/plain",
    "",
    file,
    `--${boundary}--`,
    "",
  );
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: lines.join("\r\n") };
}
