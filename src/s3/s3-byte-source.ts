/**
 * The S3 adapter for the engine: an object version as a {@link ByteSource},
 * read with ranged GETs or, when the caller allows it for a small object
 * (`fetchWholeUpTo`), fetched whole with one GET and served from memory.
 * Caching, coalescing and budgets happen above it in the engine's
 * BlockReader; this class only fetches what it is asked for, pinned to one
 * version of the object, and counts it (`fetched`). {@link tagObject} tags
 * objects the policy rejects.
 */
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandInput,
  type HeadObjectCommandOutput,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { ByteSource } from "../engine/byte-source/byte-source.js";
import { SourceChangedError, SourceError } from "../engine/errors.js";
import { unquoteETag } from "../events/etag.js";
import type { FetchCounter, ObjectHead, ObjectRef } from "../pipeline/ports.js";

export type { FetchCounter, ObjectHead, ObjectRef };

/** How reads of one object behave. */
export interface S3ReadOptions {
  /**
   * A GET that receives no byte (headers or body) for this long is abandoned
   * with a {@link SourceError}, a transient fault that is retried. Below the
   * engine's 10 s time budget, so a stalled body surfaces as the fault it is
   * rather than as the file's time limit, and a whole-object GET (outside any
   * budget) cannot hang an invocation until its timeout. @default 5000
   */
  stallTimeoutMs?: number;
}

/** See {@link S3ReadOptions.stallTimeoutMs}. */
export const DEFAULT_STALL_TIMEOUT_MS = 5_000;

/**
 * A pinned S3 object version as a byte source.
 *
 * Pinning: with a `versionId` every GET names that version; otherwise every
 * GET carries `If-Match` with the event's ETag (or, when the event had none,
 * the ETag HeadObject saw). S3 answers 404 or 412 once the object is deleted
 * or overwritten; those become {@link SourceChangedError} ("superseded"). As
 * a second line, each response's ETag and total size are compared with the
 * head's: emulators that ignore `If-Match` (s3rver) are caught that way, and
 * a version's ETag never changes on real S3, so the check costs nothing there.
 *
 * @example
 * const { source, head } = await S3ByteSource.open(s3, { bucket, key, eTag: event.eTag });
 * const result = await extract(source, { blockSize: 64 * 1024, declaredMime: head.contentType, name: key });
 */
export class S3ByteSource implements ByteSource {
  readonly name: string;
  /** Body bytes and GET requests made so far for this object. */
  readonly fetched: FetchCounter = { bytes: 0, requests: 0 };

  private constructor(
    private readonly client: S3Client,
    private readonly ref: ObjectRef & { eTag: string },
    readonly size: number,
    private readonly stallTimeoutMs: number,
    /** The whole object, when it was fetched in one GET: reads are then served from memory. */
    private readonly whole?: Uint8Array,
  ) {
    this.name = `s3://${ref.bucket}/${ref.key}`;
  }

  /** True when the object was fetched whole: reads are served from memory. */
  get inMemory(): boolean {
    return this.whole !== undefined;
  }

  /**
   * Heads the object (pinned like every later read, with `ChecksumMode`
   * enabled so stored checksums come back) and returns a source over it.
   *
   * @throws {SourceChangedError} when the pinned version is gone or changed.
   * @throws {SourceError} for any other failure (throttling, network, access), with the SDK error as `cause`.
   * @example
   * const { source, head } = await S3ByteSource.open(s3, { bucket: "uploads", key: "a b.jpg" });
   */
  static async open(
    client: S3Client,
    ref: ObjectRef,
    options: S3ReadOptions = {},
  ): Promise<{ source: S3ByteSource; head: ObjectHead; fetched: FetchCounter }> {
    const name = `s3://${ref.bucket}/${ref.key}`;
    const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    if (ref.size !== undefined && ref.fetchWholeUpTo !== undefined && ref.size <= ref.fetchWholeUpTo) {
      return S3ByteSource.fetchWhole(client, { ...ref, size: ref.size }, name, stallTimeoutMs);
    }
    const input: HeadObjectCommandInput = {
      Bucket: ref.bucket,
      Key: ref.key,
      ChecksumMode: "ENABLED",
      ...pin(ref),
    };
    let output: HeadObjectCommandOutput;
    try {
      output = await client.send(new HeadObjectCommand(input));
    } catch (error) {
      throw mapS3Error(name, "HeadObject", error);
    }
    const head = toHead(output);
    if (ref.eTag !== undefined && unquoteETag(ref.eTag) !== head.eTag) {
      throw new SourceChangedError(name, `ETag is ${head.eTag}, the event named ${unquoteETag(ref.eTag)}`);
    }
    return S3ByteSource.opened(client, ref, head, stallTimeoutMs);
  }

  /**
   * The source over what the head describes. Later reads pin to what it
   * saw: the version when the bucket has versions, else the ETag.
   */
  private static opened(
    client: S3Client,
    ref: ObjectRef,
    head: ObjectHead,
    stallTimeoutMs: number,
    whole?: Uint8Array,
  ): { source: S3ByteSource; head: ObjectHead; fetched: FetchCounter } {
    const versionId = ref.versionId ?? head.versionId;
    const pinned = { bucket: ref.bucket, key: ref.key, eTag: head.eTag, ...(versionId && { versionId }) };
    const source = new S3ByteSource(client, pinned, head.size, stallTimeoutMs, whole);
    if (whole) {
      source.fetched.bytes = whole.byteLength;
      source.fetched.requests = 1;
    }
    return { source, head, fetched: source.fetched };
  }

  /**
   * One pinned GET of the whole object (no Range, so S3 also returns the
   * stored full-object checksum); its headers are the head. The response is
   * checked against the event's ETag and size, which catches an emulator
   * that ignores `If-Match`.
   */
  private static async fetchWhole(
    client: S3Client,
    ref: ObjectRef & { size: number },
    name: string,
    stallTimeoutMs: number,
  ): Promise<{ source: S3ByteSource; head: ObjectHead; fetched: FetchCounter }> {
    let output: GetObjectCommandOutput;
    let bytes: Uint8Array;
    const watch = new StallWatch(stallTimeoutMs);
    try {
      output = await client.send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, ChecksumMode: "ENABLED", ...pin(ref) }),
        { abortSignal: watch.signal },
      );
      // Checked on the headers, before the body: an emulator that ignores If-Match could be sending a far
      // larger object that replaced the one the event named, which must not be read into memory to find out.
      const changed =
        ref.eTag !== undefined &&
        output.ETag !== undefined &&
        unquoteETag(output.ETag) !== unquoteETag(ref.eTag)
          ? `ETag is ${unquoteETag(output.ETag)}, the event named ${unquoteETag(ref.eTag)}`
          : output.ContentLength !== undefined && output.ContentLength !== ref.size
            ? `size is ${output.ContentLength}, the event named ${ref.size}`
            : undefined;
      if (changed) {
        discard(output.Body);
        throw new SourceChangedError(name, changed);
      }
      if (!output.Body) throw new SourceError(name, "GetObject returned no body");
      bytes = await watch.body(output.Body);
    } catch (error) {
      throw watch.stalled(name, "GetObject") ?? mapS3Error(name, "GetObject", error);
    } finally {
      watch.end();
    }
    // A response without Content-Length is checked on what arrived.
    if (bytes.byteLength !== ref.size) {
      throw new SourceChangedError(name, `size is ${bytes.byteLength}, the event named ${ref.size}`);
    }
    const head = toHead({ ...output, ContentLength: bytes.byteLength });
    return S3ByteSource.opened(client, ref, head, stallTimeoutMs, bytes);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const end = Math.min(this.size, start + Math.max(0, length));
    if (end <= start) return new Uint8Array(0);
    if (this.whole) return this.whole.subarray(start, end);

    const input: GetObjectCommandInput = {
      Bucket: this.ref.bucket,
      Key: this.ref.key,
      Range: `bytes=${start}-${end - 1}`,
      ...pin(this.ref),
    };
    let bytes: Uint8Array;
    const watch = new StallWatch(this.stallTimeoutMs);
    try {
      const output = await this.client.send(new GetObjectCommand(input), { abortSignal: watch.signal });
      const eTag = output.ETag === undefined ? undefined : unquoteETag(output.ETag);
      const total = totalOf(output.ContentRange);
      if ((eTag !== undefined && eTag !== this.ref.eTag) || (total !== undefined && total !== this.size)) {
        discard(output.Body);
        throw new SourceChangedError(this.name, `object changed since it was opened (ETag ${eTag ?? "?"})`);
      }
      if (!output.Body) throw new SourceError(this.name, `GetObject ${input.Range} returned no body`);
      bytes = await watch.body(output.Body);
    } catch (error) {
      throw (
        watch.stalled(this.name, `GetObject ${input.Range}`) ??
        mapS3Error(this.name, `GetObject ${input.Range}`, error)
      );
    } finally {
      watch.end();
    }
    this.fetched.bytes += bytes.byteLength;
    this.fetched.requests += 1;
    // s3rver answers `bytes=0-0` with the whole object; never hand back more than was asked for.
    return bytes.byteLength > end - start ? bytes.subarray(0, end - start) : bytes;
  }
}

/**
 * Sets tags of an object, keeping the others it has (PutObjectTagging
 * replaces the whole set, so the current set is read first). A tag of the
 * same name is overwritten; a `null` value removes the tag of that name.
 * Nothing is written when the object already has the set asked for, so
 * removing a tag it does not carry costs the read alone. Removing takes no
 * permission beyond tagging's: an empty set removes every tag, as S3's
 * PutObjectTagging documents, where DeleteObjectTagging would need its own.
 *
 * @throws {SourceChangedError} when the object no longer exists.
 * @throws {SourceError} for other failures, including S3's limit of 10 tags per object.
 * @example
 * await tagObject(s3, "uploads", "bad.exe", { "catalog-status": "rejected" });
 * await tagObject(s3, "uploads", "bad.exe", { "catalog-status": null });
 */
export async function tagObject(
  client: S3Client,
  bucket: string,
  key: string,
  tags: Record<string, string | null>,
  options: { versionId?: string } = {},
): Promise<void> {
  const name = `s3://${bucket}/${key}`;
  const version = options.versionId ? { VersionId: options.versionId } : {};
  try {
    const current = await client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...version }));
    const merged = new Map((current.TagSet ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
    let changed = false;
    for (const [tagKey, value] of Object.entries(tags)) {
      if (value === null ? !merged.has(tagKey) : merged.get(tagKey) === value) continue;
      if (value === null) merged.delete(tagKey);
      else merged.set(tagKey, value);
      changed = true;
    }
    if (!changed) return;
    await client.send(
      new PutObjectTaggingCommand({
        Bucket: bucket,
        Key: key,
        ...version,
        Tagging: { TagSet: [...merged].map(([Key, Value]) => ({ Key, Value })) },
      }),
    );
  } catch (error) {
    throw mapS3Error(name, "tagging", error);
  }
}

/**
 * Abandons one GET once no byte has arrived for a while: aborts the request
 * while the headers are awaited, and ends the body while it is read. Bytes
 * arriving slowly but steadily keep it alive; the engine's time budget (see
 * the pipeline's WatchedSource) judges those.
 */
class StallWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private received = 0;
  private fired = false;
  private reading: { destroy?: (error?: Error) => void } | undefined;

  constructor(private readonly timeoutMs: number) {
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts the timer, or restarts it without making a new one: it runs again on every chunk of a body. */
  private arm(): void {
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
      this.reading?.destroy?.(new Error("stalled"));
    }, this.timeoutMs);
  }

  /** The body's bytes, the stall timer restarted by every chunk. */
  async body(body: NonNullable<GetObjectCommandOutput["Body"]>): Promise<Uint8Array> {
    this.arm();
    this.reading = body as { destroy?: (error?: Error) => void };
    if (!(Symbol.asyncIterator in body)) return body.transformToByteArray();
    const chunks: Uint8Array[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      chunks.push(chunk);
      this.received += chunk.byteLength;
      this.arm();
    }
    return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
  }

  /** The fault to report when the timer, not S3, ended the request. */
  stalled(name: string, operation: string): SourceError | undefined {
    if (!this.fired) return undefined;
    return new SourceError(
      name,
      `${operation} stalled: no byte from S3 for ${this.timeoutMs} ms (${this.received} body bytes received)`,
    );
  }

  end(): void {
    clearTimeout(this.timer);
  }
}

/** Ends a response body that will not be read, so its connection is released without the bytes being fetched. */
function discard(body: GetObjectCommandOutput["Body"]): void {
  (body as { destroy?: () => void } | undefined)?.destroy?.();
}

function pin(ref: ObjectRef): { VersionId: string } | { IfMatch: string } | Record<string, never> {
  if (ref.versionId) return { VersionId: ref.versionId };
  if (ref.eTag) return { IfMatch: `"${unquoteETag(ref.eTag)}"` };
  return {};
}

function toHead(output: HeadObjectCommandOutput | GetObjectCommandOutput): ObjectHead {
  const checksum = checksumOf(output);
  return {
    size: output.ContentLength ?? 0,
    eTag: unquoteETag(output.ETag ?? ""),
    ...(output.VersionId && output.VersionId !== "null" && { versionId: output.VersionId }),
    ...(output.ContentType && { contentType: output.ContentType }),
    ...(output.LastModified && { lastModified: output.LastModified.toISOString() }),
    storageClass: output.StorageClass ?? "STANDARD",
    userMetadata: { ...output.Metadata },
    ...(checksum && { checksum }),
  };
}

const CHECKSUM_FIELDS = [
  ["CRC64NVME", "ChecksumCRC64NVME"],
  ["CRC32C", "ChecksumCRC32C"],
  ["CRC32", "ChecksumCRC32"],
  ["SHA256", "ChecksumSHA256"],
  ["SHA1", "ChecksumSHA1"],
] as const;

function checksumOf(output: HeadObjectCommandOutput | GetObjectCommandOutput): ObjectHead["checksum"] {
  for (const [algorithm, field] of CHECKSUM_FIELDS) {
    const value = output[field];
    if (value) return { algorithm, value, ...(output.ChecksumType && { type: output.ChecksumType }) };
  }
  return undefined;
}

/** `bytes 0-99/1234` -> 1234. */
function totalOf(contentRange: string | undefined): number | undefined {
  const match = contentRange?.match(/\/(\d+)$/);
  return match ? Number(match[1]) : undefined;
}

/**
 * 404 (deleted; also NoSuchVersion), 405 (the version is now a delete
 * marker), 412 (If-Match failed) and 416 (the object shrank under an
 * emulator that ignores If-Match) mean the pinned version is no longer
 * readable: "superseded". Everything else is an infrastructure fault that the
 * caller retries; the SDK error stays as `cause`, so its `$retryable` and
 * throttling classification survive.
 */
function mapS3Error(name: string, operation: string, error: unknown): SourceError {
  if (error instanceof SourceError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const code = e.name ?? "Error";
  if (
    status === 404 ||
    status === 405 ||
    status === 412 ||
    status === 416 ||
    code === "NoSuchKey" ||
    code === "NotFound" ||
    code === "NoSuchVersion" ||
    code === "PreconditionFailed"
  ) {
    return new SourceChangedError(name, `${operation}: ${code}${status ? ` (${status})` : ""}`, {
      cause: error,
    });
  }
  return new SourceError(
    name,
    `${operation} failed: ${code}${status ? ` (${status})` : ""}: ${e.message ?? ""}`,
    {
      cause: error,
    },
  );
}
