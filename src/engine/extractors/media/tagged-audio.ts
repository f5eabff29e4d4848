import { type IAudioMetadata, type IOptions, parseFromTokenizer, scanAppendingHeaders } from "music-metadata";
import type { IReadChunkOptions } from "strtok3";
import type { BlockReader } from "../../byte-source/block-reader.js";
import { ReaderTokenizer } from "../../byte-source/reader-tokenizer.js";
import { describeError, LimitExceededError, SourceError } from "../../errors.js";
import { cleanString } from "../../limits.js";
import type { MediaInfo } from "../../types.js";

/**
 * A tokenizer that refuses every read once the time budget is spent, cache
 * hits included: music-metadata loops over what it has already read when a
 * file is corrupt, and such a loop must end when the engine gives up on it.
 * Made forward-only, it keeps music-metadata from looking for tags appended at
 * the end (its only option that does: `skipPostHeaders` skips them just when
 * the file has tags at the start too); the ID3v1 tag is still read.
 */
class DeadlineTokenizer extends ReaderTokenizer {
  constructor(
    reader: BlockReader,
    mimeType: string,
    private readonly signal: AbortSignal,
    private readonly randomAccess = true,
  ) {
    super(reader, { mimeType });
  }

  override supportsRandomAccess(): boolean {
    return this.randomAccess;
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
  /** True when the APE tag at the end failed the parse and the file was parsed again without it. */
  skippedAppendedTags?: boolean;
}

/** music-metadata's warning for an ID3v2 tag that ends with fewer bytes than a frame header. */
const ID3V2_LENGTH_WARNING = "Illegal ID3v2 tag length";

/**
 * Drops the parser's chatter that says nothing about the file's health: zero
 * padding after ID3v2 frames, RIFF chunks it merely does not interpret, and
 * its WAVE data-size warnings: the first compares the size with what follows
 * the chunk rather than with the file, so it fires for most whole files; the
 * second, "data chunk length exceeding file length", is the true check, which
 * the WAVE chunk walk makes again and words with both sizes.
 */
function isWorthForwarding(message: string): boolean {
  return (
    !message.includes("\0") &&
    !message.startsWith("Ignore chunk") &&
    message !== "Data chunk size exceeds file size" &&
    message !== "data chunk length exceeding file length"
  );
}

function strip(codec: string | undefined): string | undefined {
  return cleanString(codec?.replace(/^<(.*)>$/, "$1").trim(), 64);
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * The performers one tag names, joined with "; " as a document's authors are.
 * music-metadata keeps the first value of a repeated artist tag (ID3v2 TPE1
 * values, Vorbis or APE ARTIST fields) as `artist` and lists them all in
 * `artists`. When `artists` comes from a tag of its own (ARTISTS, beside a
 * credit such as "A feat. B"), it does not start with the credit, which is
 * kept as written. An ID3v2.3 TPE1 frame is one text that music-metadata
 * splits at every "/", its separator, which names such as "AC/DC" contain
 * too: its values are joined with "/" again, giving the text as written.
 */
function artistOf(metadata: IAudioMetadata): string | undefined {
  const { common } = metadata;
  const artist = cleanString(common.artist);
  const artists = (common.artists ?? []).map((name) => cleanString(name));
  if (artist === undefined || artists[0] !== artist) return artist;
  const names = artists.filter((name): name is string => name !== undefined);
  const id3v23 = metadata.format.tagTypes?.includes("ID3v2.3") === true;
  return cleanString((id3v23 ? names : [...new Set(names)]).join(id3v23 ? "/" : "; "));
}

/**
 * The copyright notice a file's tags state. music-metadata maps ID3v2 TCOP,
 * MP4 `cprt`/`©cpy`, Vorbis, APE and ASF Copyright and AIFF's `(c) ` chunk to
 * its common `copyright`, but leaves a RIFF INFO list's ICOP among the native
 * tags (its INFO map has no entry for it), so a WAVE file's is taken from there.
 */
function copyrightOf(metadata: IAudioMetadata): string | undefined {
  const common = cleanString(metadata.common.copyright);
  if (common) return common;
  const icop = metadata.native?.exif?.find((tag) => tag.id === "ICOP")?.value;
  return typeof icop === "string" ? cleanString(icop) : undefined;
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
  const artist = artistOf(metadata);
  const album = cleanString(common.album);
  // An ID3v2.4 TCON frame, like repeated Vorbis GENRE fields, may name several genres.
  const genres = (common.genre ?? []).map((g) => cleanString(g)).filter((g): g is string => g !== undefined);
  const genre = cleanString([...new Set(genres)].join("; "));
  const copyright = copyrightOf(metadata);
  if (title) tags.title = title;
  if (artist) tags.artist = artist;
  if (album) tags.album = album;
  if (common.year && Number.isInteger(common.year) && common.year > 0) tags.year = common.year;
  if (genre) tags.genre = genre;
  if (copyright) tags.copyright = copyright;
  if (Object.keys(tags).length > 0) media.tags = tags;
  const empty = !format.container && codecs.length === 0 && sampleRate === undefined && !media.tags;
  return empty ? undefined : media;
}

/** A budget or source fault: the engine's to report, never a fact about this file's content. */
function isEngineFault(error: unknown): boolean {
  return error instanceof SourceError || (error instanceof LimitExceededError && error.limit !== "length");
}

/**
 * The size the footer of an APE tag appended at the end states, found as
 * music-metadata finds it (before an ID3v1 tag and a Lyrics3v2 block), or
 * undefined when the file ends with no APE tag.
 */
async function appendedApeTagSize(
  reader: BlockReader,
  parserMime: string,
  signal: AbortSignal,
): Promise<number | undefined> {
  const options: NonNullable<Parameters<typeof scanAppendingHeaders>[1]> = {};
  try {
    await scanAppendingHeaders(new DeadlineTokenizer(reader, parserMime, signal), options);
  } catch (error) {
    if (isEngineFault(error)) throw error;
    return undefined;
  }
  return options.apeHeader?.footer.size;
}

/**
 * Parses the file again without the tags appended at the end, after a parse
 * that failed, when the file ends with an APE tag: music-metadata throws on an
 * APE footer whose size runs past the start of the file or into the audio, and
 * that must not cost the stream's facts. Undefined when there is no such tag
 * or the second parse fails too (the first failure then stands).
 */
async function parseWithoutAppendedTags(
  reader: BlockReader,
  parserMime: string,
  signal: AbortSignal,
  failure: unknown,
  warn: (message: string) => void,
): Promise<IAudioMetadata | undefined> {
  const size = await appendedApeTagSize(reader, parserMime, signal);
  if (size === undefined) return undefined;
  let metadata: IAudioMetadata;
  try {
    metadata = await parseFromTokenizer(
      new DeadlineTokenizer(reader, parserMime, signal, false),
      PARSE_OPTIONS,
    );
  } catch (error) {
    if (isEngineFault(error)) throw error;
    return undefined;
  }
  warn(`APE tag at the end (stated size ${size} bytes) skipped: ${describeError(failure)}`);
  return metadata;
}

/**
 * Runs music-metadata over the reader (through its cache and budget). Never
 * throws for content: a failure comes back in `error` next to what the parser
 * had decoded, which `onProgress` also receives as it goes. A file that fails
 * on the APE tag at its end is parsed again without it, and says so in a warning.
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
  let metadata: IAudioMetadata | undefined;
  let skippedAppendedTags = false;
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
    if (isEngineFault(error)) throw error;
    metadata = await parseWithoutAppendedTags(reader, parserMime, signal, error, warn);
    if (!metadata) {
      const media = latest && toMediaInfo(latest, fallbackContainer);
      return { ...(media && { media }), error };
    }
    skippedAppendedTags = true;
  }
  const messages = metadata.quality.warnings.map((warning) => warning.message);
  const warnings = new Set(messages.filter(isWorthForwarding));
  // Walking an ID3v2 tag's zero padding 10 bytes at a time, music-metadata reads an all-zero frame ID
  // for each step, then calls the tag's length illegal when fewer than 10 bytes are left. Padding of
  // any length is what the standard prescribes; a frame that overruns the tag gives no zero frame ID.
  if (messages.some((message) => /frame-header-ID: \0{4}$/.test(message)))
    warnings.delete(ID3V2_LENGTH_WARNING);
  for (const message of [...warnings].slice(0, MAX_FORWARDED_WARNINGS)) warn(message);
  const media = toMediaInfo(metadata, fallbackContainer);
  return {
    ...(media && { media }),
    ...(metadata.format.hasVideo !== undefined && { hasVideo: metadata.format.hasVideo }),
    ...(metadata.format.hasAudio !== undefined && { hasAudio: metadata.format.hasAudio }),
    ...(skippedAppendedTags && { skippedAppendedTags }),
  };
}
