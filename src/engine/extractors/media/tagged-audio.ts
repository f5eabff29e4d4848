import { type IAudioMetadata, type IOptions, parseFromTokenizer } from "music-metadata";
import type { IReadChunkOptions } from "strtok3";
import type { BlockReader } from "../../byte-source/block-reader.js";
import { ReaderTokenizer } from "../../byte-source/reader-tokenizer.js";
import { LimitExceededError, SourceError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import type { MediaInfo } from "../../types.js";

/**
 * A tokenizer that refuses every read once the time budget is spent, cache
 * hits included: music-metadata loops over what it has already read when a
 * file is corrupt, and such a loop must end when the engine gives up on it.
 */
class DeadlineTokenizer extends ReaderTokenizer {
  constructor(
    reader: BlockReader,
    mimeType: string,
    private readonly signal: AbortSignal,
  ) {
    super(reader, { mimeType });
  }

  private check(): void {
    if (this.signal.aborted)
      throw new LimitExceededError("time", "time budget exhausted while parsing media");
  }

  override readBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    this.check();
    return super.readBuffer(target, options);
  }

  override peekBuffer(target: Uint8Array, options?: IReadChunkOptions): Promise<number> {
    this.check();
    return super.peekBuffer(target, options);
  }
}

/**
 * Options that keep music-metadata to headers: no whole-file duration scan
 * (header durations are preferred, and the scan is where corrupt files hang),
 * no cover pictures. Post headers (ID3v1, APE at the end) stay on: the tail
 * holding them is in the plan and already read to look for them.
 */
const PARSE_OPTIONS: Readonly<IOptions> = { duration: false, skipCovers: true, skipPostHeaders: false };

/** music-metadata's track type for audio (Matroska numbering; its enum is not exported as a value). */
const AUDIO_TRACK = 2;

/** Warnings forwarded from one parse, at most. */
const MAX_FORWARDED_WARNINGS = 10;

/** What music-metadata made of a file, also when it failed part way. */
export interface TaggedAudioResult {
  media?: MediaInfo;
  hasVideo?: boolean;
  hasAudio?: boolean;
  /** Set when the parser threw; `media` then holds what was decoded before. */
  error?: unknown;
}

/**
 * Drops the parser's chatter that says nothing about the file's health: zero
 * padding after ID3v2 frames, and RIFF chunks it merely does not interpret.
 */
function isWorthForwarding(message: string): boolean {
  return !message.includes("\0") && !message.startsWith("Ignore chunk");
}

function strip(codec: string | undefined): string | undefined {
  return cleanString(codec?.replace(/^<(.*)>$/, "$1").trim(), 64);
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * Maps music-metadata's result to the catalog's media section.
 *
 * @example
 * toMediaInfo(await parseFromTokenizer(tokenizer), "MPEG") // { container: "MPEG", codecs: ["MPEG 1 Layer 3"], ... }
 */
export function toMediaInfo(metadata: IAudioMetadata, fallbackContainer: string): MediaInfo | undefined {
  const { format, common } = metadata;
  const tracks = format.trackInfo ?? [];
  const codecs = [...new Set(tracks.map((track) => strip(track.codecName)).filter((c): c is string => !!c))];
  const formatCodec = strip(format.codec);
  if (codecs.length === 0 && formatCodec) codecs.push(formatCodec);
  const video = tracks.find((track) => track.video?.pixelWidth && track.video.pixelHeight)?.video;
  const audio = tracks.find((track) => track.type === AUDIO_TRACK)?.audio;
  const media: MediaInfo = { container: cleanString(format.container, 64) ?? fallbackContainer, codecs };
  const duration = positive(format.duration);
  const bitrate = positive(format.bitrate);
  const sampleRate = positive(format.sampleRate) ?? positive(audio?.samplingFrequency);
  const channels = positive(format.numberOfChannels) ?? positive(audio?.channels);
  if (duration !== undefined) media.duration = duration;
  if (bitrate !== undefined) media.bitrate = Math.round(bitrate);
  if (sampleRate !== undefined) media.sampleRate = sampleRate;
  if (channels !== undefined) media.channels = channels;
  if (video?.pixelWidth && video.pixelHeight) {
    media.width = video.pixelWidth;
    media.height = video.pixelHeight;
  }
  const tags: NonNullable<MediaInfo["tags"]> = {};
  const title = cleanString(common.title);
  const artist = cleanString(common.artist);
  const album = cleanString(common.album);
  const genre = cleanString(common.genre?.find((g) => cleanString(g)));
  if (title) tags.title = title;
  if (artist) tags.artist = artist;
  if (album) tags.album = album;
  if (common.year && Number.isInteger(common.year) && common.year > 0) tags.year = common.year;
  if (genre) tags.genre = genre;
  if (Object.keys(tags).length > 0) media.tags = tags;
  const empty = !format.container && codecs.length === 0 && sampleRate === undefined && !media.tags;
  return empty ? undefined : media;
}

/**
 * Runs music-metadata over the reader (through its cache and budget). Never
 * throws for content: a failure comes back in `error` next to what the parser
 * had decoded, which `onProgress` also receives as it goes.
 *
 * @example
 * const { media, error } = await parseTaggedAudio(reader, "audio/mpeg", "MPEG", signal, warn, (m) => {});
 */
export async function parseTaggedAudio(
  reader: BlockReader,
  parserMime: string,
  fallbackContainer: string,
  signal: AbortSignal,
  warn: (message: string) => void,
  onProgress: (media: MediaInfo) => void,
): Promise<TaggedAudioResult> {
  let latest: IAudioMetadata | undefined;
  const tokenizer = new DeadlineTokenizer(reader, parserMime, signal);
  let metadata: IAudioMetadata;
  try {
    metadata = await parseFromTokenizer(tokenizer, {
      ...PARSE_OPTIONS,
      observer: (event) => {
        latest = event.metadata;
        const media = toMediaInfo(event.metadata, fallbackContainer);
        if (media) onProgress(media);
      },
    });
  } catch (error) {
    // Budget and source faults are the engine's to report; anything else is this file's content.
    if (error instanceof SourceError || (error instanceof LimitExceededError && error.limit !== "length"))
      throw error;
    const media = latest && toMediaInfo(latest, fallbackContainer);
    return { ...(media && { media }), error };
  }
  const warnings = new Set(
    metadata.quality.warnings.map((warning) => warning.message).filter(isWorthForwarding),
  );
  for (const message of [...warnings].slice(0, MAX_FORWARDED_WARNINGS)) warn(message);
  const media = toMediaInfo(metadata, fallbackContainer);
  return {
    ...(media && { media }),
    ...(metadata.format.hasVideo !== undefined && { hasVideo: metadata.format.hasVideo }),
    ...(metadata.format.hasAudio !== undefined && { hasAudio: metadata.format.hasAudio }),
  };
}
