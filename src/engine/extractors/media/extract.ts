import { EndOfStreamError } from "strtok3";
import { ContentError, describeError, LimitExceededError } from "../../errors.js";
import { HEAD_WINDOW_BYTES } from "../../limits.js";
import { textDecoder } from "../../text-decoder.js";
import type { Category, MediaInfo, Sections } from "../../types.js";
import type { ExtractContext } from "../extractor.js";
import { noteBoxWalkEnd } from "../image/iso-boxes.js";
import { aiffFramesIn, aiffShortfall, MAX_AIFF_CHUNKS, readAiffChunks } from "./aiff.js";
import { readAsfStreams } from "./asf.js";
import { readAuHeader } from "./au.js";
import { aviShortfall, readAviHeader } from "./avi.js";
import { flacCommentCountProblem, flacShortfall, readFlacStream } from "./flac.js";
import { readFlvHeader } from "./flv.js";
import { read8svx } from "./iff-8svx.js";
import { mediaDataShortfall, readMovieHeader } from "./iso-bmff.js";
import { matroskaFrameRate, matroskaShortfall } from "./matroska.js";
import {
  ASF_MIMES,
  AVI_MIMES,
  containerName,
  FLV_MIMES,
  ISO_BMFF_MIMES,
  MATROSKA_MIMES,
  OGG_MIMES,
  parserMimeFor,
  TRACK_LISTING_MIMES,
} from "./mimes.js";
import {
  BITRATE_ESTIMATE_WARNING,
  estimateMpegDuration,
  mpegFramesDuration,
  readMpegFrameLayout,
  readMpegShortfall,
  readVbrExtent,
} from "./mpeg-frames.js";
import { opusPreSkip, readOggEnd, theoraPicture } from "./ogg.js";
import {
  MAX_WAVE_CHUNKS,
  readWaveChunks,
  uncompressedDuration,
  waveDuration,
  waveShortfall,
} from "./riff-wave.js";
import { parseTaggedAudio } from "./tagged-audio.js";

/**
 * Extracts duration, codecs, audio format, picture size and tags from audio
 * and video files: music-metadata for what it parses, small header readers
 * for what it leaves out (MP4 picture size and frame rate, ASF stream
 * headers, Matroska frame rate, AVI, FLV, AMR, 8SVX, the Ogg tail, WAVE chunks),
 * and a duration cut to what a file shorter than its header states holds.
 *
 * @example
 * const { media } = await extractMedia(ctx);
 * media?.duration // 13.347
 */
export async function extractMedia(ctx: ExtractContext): Promise<Sections> {
  const mime = ctx.format.mime;
  if (AVI_MIMES.has(mime)) {
    const counted = await countAviPresent(ctx, await readAviHeader(ctx.reader));
    return finishCounted(ctx, { ...counted, media: withOverallBitrate(counted.media, ctx.reader.size) });
  }
  if (FLV_MIMES.has(mime)) return finish(ctx, await readFlvHeader(ctx.reader, ctx.warn));
  if (mime === "audio/amr") return finish(ctx, await readAmrHeader(ctx));
  if (mime === "audio/basic") {
    const { media, shortfall } = await readAuHeader(ctx.reader);
    if (!shortfall) return finish(ctx, media);
    return finishCounted(
      ctx,
      countPresent(ctx, media, "AU: cut short: the data", shortfall.promised, shortfall.present),
    );
  }
  // Amiga 8SVX shares AIFF's FORM container and its type (detection names it by its extension);
  // music-metadata reads only AIFF and AIFC.
  if (mime === "audio/aiff" && ctx.format.ext === "8svx") return finish(ctx, await read8svx(ctx.reader));
  const parserMime = parserMimeFor(mime);
  if (!parserMime) return finish(ctx, { container: containerName(mime), codecs: [] });

  const fallback = containerName(mime);
  if (parserMime === "audio/flac") {
    const problem = await readOrSkip(() => flacCommentCountProblem(ctx.reader));
    if (problem) return streamInfoOnly(ctx, problem);
  }
  const parsed = await parseTaggedAudio(ctx.reader, parserMime, fallback, ctx.signal, ctx.warn, (media) => {
    ctx.partial.media = media;
  });
  let media = parsed.media;
  let failure = parsed.error;
  let category: Category | undefined;
  let cutShort: true | undefined;
  // The bytes a video's average bitrate is counted over, where not the whole file: a movie's mdat boxes.
  let mediaData: number | undefined;
  if (TRACK_LISTING_MIMES.has(mime)) {
    if (parsed.hasVideo === true) category = "video";
    else if (parsed.hasAudio === true && parsed.hasVideo === false) category = "audio";
  }

  if (ISO_BMFF_MIMES.has(mime)) {
    try {
      const movie = await mergeMovieHeader(ctx, media ?? { container: fallback, codecs: [] });
      // A box listing a bound ended before the moov leaves music-metadata's answer as it was.
      if (movie) {
        // The movie's handlers decide: music-metadata calls a file with no tracks at all "audio".
        category = movie.category;
        ({ media, cutShort, mediaData } = await countMediaDataPresent(ctx, movie.media));
        // With the moov read whole, the atom music-metadata finds running past the end is the cut mdat,
        // which the warning just given names with both sizes.
        const saidAlready = cutShort && /^Atom size exceeds remaining bytes/.test(describeError(failure));
        if (failure !== undefined && !saidAlready) ctx.warn(parserWarning(failure));
        failure = undefined;
      }
    } catch (error) {
      if (!isContentFault(error)) throw error;
      if (failure === undefined) ctx.warn(describeError(error));
    }
  } else if (ASF_MIMES.has(mime) && media) {
    media = await mergeAsfStreams(ctx, media);
  } else if (MATROSKA_MIMES.has(mime) && media) {
    if (media.width !== undefined && media.frameRate === undefined) {
      const frameRate = matroskaFrameRate(await ctx.reader.read(0, HEAD_WINDOW_BYTES));
      if (frameRate !== undefined) media = { ...media, frameRate };
    }
    ({ media, cutShort } = await countMatroskaPresent(ctx, media));
  } else if (OGG_MIMES.has(mime) && media) {
    ({ media, category, cutShort } = await completeOgg(ctx, media));
  } else if (parserMime === "audio/wav" && (media || failure === undefined)) {
    // music-metadata answers an RF64 or BW64 file with nothing at all: its chunks say what it holds.
    ({ media, cutShort } = await completeWave(ctx, media ?? { container: fallback, codecs: [] }));
  } else if (parserMime === "audio/flac" && media) {
    ({ media, cutShort } = await countFlacPresent(ctx, media));
  } else if (parserMime === "audio/aiff" && media) {
    ({ media, cutShort } = await countAiffPresent(ctx, media));
  } else if (parserMime === "audio/mpeg" && media) {
    if (media.duration === undefined)
      media = await completeMpeg(ctx, media, parsed.skippedAppendedTags === true);
    else {
      ({ media, cutShort } = await countMpegPresent(ctx, await uncountMpegTags(ctx, media)));
      media = await averageVbrBitrate(ctx, media);
    }
  }

  if (media && category === "video") media = withOverallBitrate(media, mediaData ?? ctx.reader.size);
  if (media) ctx.partial.media = media;
  // In a file found cut short, the parser failing on the missing bytes is the cut itself: what it
  // said (a bound, an element length, at times a TypeError of its own) is a warning, the cut the reason.
  if (failure !== undefined && cutShort) {
    ctx.warn(parserWarning(failure));
    failure = undefined;
  }
  if (failure !== undefined) {
    if (failure instanceof EndOfStreamError) throw failure;
    throw new ContentError(parserReason(failure, fallback), { cause: failure });
  }
  if (!media) return finish(ctx, { container: fallback, codecs: [] });
  if (category) ctx.format.category = category;
  return finishCounted(ctx, { media, ...(cutShort && { cutShort }) });
}

/**
 * A warning from what music-metadata threw where the file's own structure
 * was read another way. A TypeError is the parser tripping over damaged data
 * ("Cannot read properties of undefined"), which says so first.
 *
 * @example
 * parserWarning(new TypeError("Cannot read properties of undefined (reading 'forEach')"))
 * // "music-metadata failed on damaged data: Cannot read properties of undefined (reading 'forEach')"
 */
function parserWarning(failure: unknown): string {
  const failed = failure instanceof TypeError ? " failed on damaged data" : "";
  return `music-metadata${failed}: ${describeError(failure)}`;
}

/** Words in a music-metadata message that already name the format or the tag it is about. */
const NAMED_IN_MESSAGE =
  /\b(ID3v[12]|APEv2|ASF|FLAC|Ogg|Opus|Vorbis|Speex|Theora|AIFF|RIFF|WAVE?|WavPack|DSDIFF|DSF|DSD|MP4|EBML|Matroska|MPEG|ADTS|Musepack|Monkey)\b/i;

/**
 * A record's reason from what music-metadata threw. Its messages name the
 * structure at fault but often not the format ("Invalid element length:
 * 323", "Atom size exceeds remaining bytes: 1247 > 672"): the container goes
 * first where the message does not name a format. A size the bytes cannot hold,
 * stated in the file ("exceeds remaining") or met as a RangeError of the
 * parser's DataView (a cut Ogg page), means a file cut short or a damaged
 * field, and says so. The one internal assertion a damaged file reaches is
 * put in words.
 *
 * @example
 * parserReason(new Error("Invalid element length: 323"), "Matroska") // "Matroska: Invalid element length: 323"
 */
export function parserReason(failure: unknown, container: string): string {
  let message = describeError(failure);
  // The Ogg parser's assertion when a page continues a stream whose first page (BOS) it never saw.
  if (message === "pageConsumer should be initialized")
    message = "a page comes before the first page of its stream";
  const named = NAMED_IN_MESSAGE.test(message) || message.toLowerCase().includes(container.toLowerCase());
  const damage = failure instanceof RangeError || /\bexceeds? (the )?remaining\b/i.test(message);
  return `${damage ? "truncated or damaged: " : ""}${named ? "" : `${container}: `}${message}`;
}

/** Why a file cut short is partial. */
const CUT_SHORT = "the file is shorter than its header states";

/** A duration cut to the audio a file holds, and what to say about it when it was cut. */
interface Counted {
  media: MediaInfo;
  /** Set when the file is shorter than its header states. */
  cutShort?: true;
}

/**
 * The duration of the audio a file holds when its header promises more bytes
 * (or samples) than there are (a download or upload cut short): the stated
 * duration scaled to what is present, with a warning naming both counts.
 */
function countPresent(
  ctx: ExtractContext,
  media: MediaInfo,
  what: string,
  promised: number,
  present: number,
  unit: "bytes" | "samples" = "bytes",
): Counted {
  ctx.warn(`${what} promises ${promised} ${unit}, the file has ${present}; duration counts those`);
  const duration = media.duration === undefined ? undefined : (media.duration * present) / promised;
  return {
    media: { ...media, ...(duration !== undefined && { duration }) },
    cutShort: true,
  };
}

function finish(ctx: ExtractContext, media: MediaInfo): Sections {
  ctx.partial.media = media;
  return { media };
}

/** Like `finish`, then says a file cut short is so. */
function finishCounted(ctx: ExtractContext, { media, cutShort }: Counted): Sections {
  finish(ctx, media);
  // The engine turns this into a `partial` result that keeps the duration of what is there.
  if (cutShort) throw new ContentError(`truncated: ${CUT_SHORT}`);
  return { media };
}

/**
 * Cuts an AVI file's duration to the frames it holds when it ends before its
 * RIFF list does (the `avih` header counts the frames of the whole file): the
 * header duration scaled to the `movi` bytes present (counting the frames would
 * take a read per chunk, all through the file), none when the file ends before
 * its `movi` list, and the whole when only the index after it is cut.
 */
async function countAviPresent(ctx: ExtractContext, media: MediaInfo): Promise<Counted> {
  const shortfall = await aviShortfall(ctx.reader);
  if (!shortfall) return { media };
  if (shortfall.lacks === "frames" && shortfall.promised !== undefined)
    return countPresent(ctx, media, "AVI: cut short: the movi list", shortfall.promised, shortfall.present);
  const { duration: _, ...rest } = media;
  if (shortfall.lacks === "frames") {
    ctx.warn("AVI: cut short: the file ends before its movi list; no duration");
    return { media: rest, cutShort: true };
  }
  ctx.warn(
    `AVI: cut short: the RIFF list promises ${shortfall.promised} bytes, the file has ${shortfall.present}; the frames are whole, the index after them is not`,
  );
  return { media, cutShort: true };
}

/**
 * Fills an MP4/QuickTime result from its `moov` box, which states the header
 * duration; undefined when a bound ended the box listing before the `moov`.
 */
async function mergeMovieHeader(
  ctx: ExtractContext,
  media: MediaInfo,
): Promise<{ media: MediaInfo; category?: Category } | undefined> {
  const { movie, ...end } = await readMovieHeader(ctx.reader, ctx.budget.maxEntries);
  noteBoxWalkEnd(ctx, "ISO-BMFF", end);
  if (end.stopped) return undefined;
  if (!movie) throw new ContentError("ISO-BMFF: no moov box");
  const merged: MediaInfo = { ...media, codecs: [...media.codecs] };
  // The movie header's duration is what players show; music-metadata sums track edits.
  if (movie.duration !== undefined) merged.duration = movie.duration;
  const video = movie.tracks.find((track) => track.handler === "vide");
  const audio = movie.tracks.find((track) => track.handler === "soun");
  if (video) {
    const width = video.width || video.codedWidth;
    const height = video.height || video.codedHeight;
    if (width && height) Object.assign(merged, { width, height });
    if (video.sampleCount && video.sampleTicks && video.timescale) {
      merged.frameRate = (video.sampleCount * video.timescale) / video.sampleTicks;
    }
  }
  if (audio) {
    if (merged.sampleRate === undefined && audio.sampleRate) merged.sampleRate = audio.sampleRate;
    if (merged.channels === undefined && audio.channels) merged.channels = audio.channels;
  }
  if (movie.location) merged.gps = movie.location;
  if (movie.make !== undefined) merged.make = movie.make;
  if (movie.model !== undefined) merged.model = movie.model;
  // iTunes-style tags (read by music-metadata) win; 3GPP asset boxes fill what they leave out.
  if (movie.title !== undefined || movie.artist !== undefined || movie.copyright !== undefined) {
    const tags = { ...merged.tags };
    if (tags.title === undefined && movie.title !== undefined) tags.title = movie.title;
    if (tags.artist === undefined && movie.artist !== undefined) tags.artist = movie.artist;
    if (tags.copyright === undefined && movie.copyright !== undefined) tags.copyright = movie.copyright;
    merged.tags = tags;
  }
  if (merged.codecs.length === 0) {
    for (const track of movie.tracks)
      if (track.codec && !merged.codecs.includes(track.codec)) merged.codecs.push(track.codec);
  }
  ctx.partial.media = merged;
  const category: Category | undefined = video ? "video" : audio ? "audio" : undefined;
  return { media: merged, ...(category && { category }) };
}

/**
 * Cuts an MP4/QuickTime movie's duration to the media data it holds when the
 * file ends inside an `mdat` box that follows its `moov`: the header duration
 * scaled to the `mdat` bytes present (the sample tables would say it exactly,
 * but a long movie's run to megabytes, past the bytes an extraction may read).
 * A box walk that fails leaves the duration as it was; one a bound ends says so.
 */
async function countMediaDataPresent(
  ctx: ExtractContext,
  media: MediaInfo,
): Promise<Counted & { mediaData?: number }> {
  if (media.duration === undefined) return { media };
  const walk = await readOrSkip(() => mediaDataShortfall(ctx.reader, ctx.budget.maxEntries));
  if (walk) noteBoxWalkEnd(ctx, "ISO-BMFF", walk);
  const shortfall = walk?.shortfall;
  const mediaData = walk?.mediaData;
  const found = mediaData !== undefined ? { mediaData } : {};
  if (!shortfall) return { media, ...found };
  return {
    ...countPresent(ctx, media, "ISO-BMFF: cut short: the mdat box", shortfall.promised, shortfall.present),
    ...found,
  };
}

/**
 * A video's bitrate as players show it ("overall bit rate") and exiftool's
 * AvgBitrate counts it: its media data's bytes (a movie's `mdat` boxes, else
 * the whole file) over its duration, every track together. What music-metadata
 * states for a video is one track's (an MP4's or ASF file's audio, an Ogg
 * file's Vorbis nominal rate) and is replaced; without a duration there is none.
 *
 * @example
 * withOverallBitrate({ container: "MP4", codecs: [], duration: 2, bitrate: 128000 }, 500_000).bitrate // 2000000
 */
export function withOverallBitrate(media: MediaInfo, bytes: number): MediaInfo {
  const { bitrate: _, ...rest } = media;
  if (!media.duration || !Number.isFinite(media.duration) || media.duration <= 0 || bytes <= 0) return rest;
  return { ...rest, bitrate: Math.round((bytes * 8) / media.duration) };
}

/**
 * Cuts a Matroska/WebM file's duration to the blocks it holds when it ends
 * before its Segment (or last Cluster) does: up to the start of the last whole
 * block of the Cluster it ends inside, when that Cluster starts in the tail
 * (finding one further back would mean reading the file through); none when
 * no Cluster is found there; the stated one when only the Cues or Tags after
 * the last Cluster are cut.
 */
async function countMatroskaPresent(ctx: ExtractContext, media: MediaInfo): Promise<Counted> {
  const shortfall = await readOrSkip(() => matroskaShortfall(ctx.reader));
  if (!shortfall) return { media };
  const said = `Matroska: cut short: the ${shortfall.element} promises ${shortfall.promised} bytes, the file has ${shortfall.present}`;
  const { duration: _, ...rest } = media;
  if (shortfall.clustersWhole) {
    ctx.warn(`${said}; its clusters are whole`);
    return { media, cutShort: true };
  }
  if (shortfall.blocksUntil === undefined) {
    ctx.warn(`${said}; no cluster found near its end, so no duration`);
    return { media: rest, cutShort: true };
  }
  ctx.warn(`${said}; duration runs to the last whole block`);
  return { media: { ...rest, duration: shortfall.blocksUntil }, cutShort: true };
}

/** Adds the picture size and audio format ASF stream headers declare; a bad header only warns. */
async function mergeAsfStreams(ctx: ExtractContext, media: MediaInfo): Promise<MediaInfo> {
  const streams = await readOrWarn(ctx, () => readAsfStreams(ctx.reader));
  if (!streams) return media;
  const merged: MediaInfo = { ...media };
  if (merged.width === undefined && streams.width && streams.height) {
    merged.width = streams.width;
    merged.height = streams.height;
  }
  if (merged.sampleRate === undefined && streams.sampleRate) merged.sampleRate = streams.sampleRate;
  if (merged.channels === undefined && streams.channels) merged.channels = streams.channels;
  return merged;
}

/**
 * Adds what the first Ogg pages do not state: the duration from the last
 * page's granule position, and a Theora stream's picture. A file that ends
 * inside a page, or whose last page does not end its stream, is cut short:
 * it lasts until the last whole page (music-metadata counts the cut one).
 */
async function completeOgg(ctx: ExtractContext, media: MediaInfo): Promise<Counted & { category: Category }> {
  const head = await ctx.reader.read(0, HEAD_WINDOW_BYTES);
  const merged: MediaInfo = { ...media };
  const end = await readOggEnd(ctx.reader);
  let category: Category = "audio";
  const picture = theoraPicture(head);
  if (picture) {
    Object.assign(merged, picture);
    if (!merged.codecs.includes("Theora")) merged.codecs = [...merged.codecs, "Theora"];
    category = "video";
  } else if (merged.sampleRate && (merged.duration === undefined || end?.cut)) {
    const isOpus = merged.codecs.some((codec) => /opus/i.test(codec));
    const samples = Number(end?.granule ?? 0n) - (isOpus ? (opusPreSkip(head) ?? 0) : 0);
    const rate = isOpus ? 48_000 : merged.sampleRate;
    if (samples > 0) merged.duration = samples / rate;
    else delete merged.duration;
  }
  if (!end?.cut) return { media: merged, category };
  const counted = merged.duration === undefined ? "" : "; duration counts the whole pages";
  ctx.warn(`Ogg: cut short: the file ends ${end.cut}${counted}`);
  return { media: merged, category, cutShort: true };
}

/** A content error or a bound on a decoded length: what a secondary reader reports as a warning and moves past. */
function isContentFault(error: unknown): boolean {
  return error instanceof ContentError || (error instanceof LimitExceededError && error.limit === "length");
}

/**
 * What a secondary check finds, or undefined on a content fault, said to no
 * one: for checks that only refine a figure another reader already gave.
 */
async function readOrSkip<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (!isContentFault(error)) throw error;
    return undefined;
  }
}

/** What a secondary header reader finds, or undefined after warning about a content fault. */
async function readOrWarn<T>(ctx: ExtractContext, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (!isContentFault(error)) throw error;
    ctx.warn(describeError(error));
    return undefined;
  }
}

/**
 * Adds the duration (and any missing audio format) from the WAVE chunk
 * headers when music-metadata states none (it states none when the `data`
 * chunk is empty, for one), and says when the file ends before its `data`
 * chunk does. Music-metadata stays the first source, except in a cut file:
 * there an uncompressed format lasts as long as the whole sample frames
 * present, and a compressed one its stated duration scaled to the bytes present.
 */
async function completeWave(ctx: ExtractContext, media: MediaInfo): Promise<Counted> {
  const maxChunks = Math.min(MAX_WAVE_CHUNKS, ctx.budget.maxEntries);
  // With a duration stated, a walk that fails changes nothing and says nothing.
  const chunks =
    media.duration === undefined
      ? await readOrWarn(ctx, () => readWaveChunks(ctx.reader, maxChunks))
      : await readOrSkip(() => readWaveChunks(ctx.reader, maxChunks));
  if (!chunks) return { media };
  const merged: MediaInfo = { ...media };
  if (merged.duration === undefined) {
    if (merged.sampleRate === undefined && chunks.sampleRate) merged.sampleRate = chunks.sampleRate;
    if (merged.channels === undefined && chunks.channels) merged.channels = chunks.channels;
    const stated = waveDuration(chunks, ctx.reader.size);
    if (stated) {
      merged.duration = stated.duration;
      for (const warning of stated.warnings) ctx.warn(warning);
    }
  }
  const shortfall = waveShortfall(chunks, ctx.reader.size);
  if (!shortfall) return { media: merged };
  const counted = countPresent(
    ctx,
    merged,
    "WAVE: cut short: the data chunk",
    shortfall.promised,
    shortfall.present,
  );
  // music-metadata takes a `fact` chunk's count whenever there is one, even for PCM or A-law.
  const exact = uncompressedDuration(chunks, shortfall.present);
  return exact === undefined ? counted : { ...counted, media: { ...merged, duration: exact } };
}

/**
 * Cuts an AIFF or AIFC file's duration to the sound data it holds when its
 * `SSND` chunk runs past the end of the file (music-metadata takes the `COMM`
 * chunk's frame count as it stands): the whole sample frames present when
 * every frame takes the same bytes, else the stated duration scaled to the
 * bytes present. An AIFC file's codec is named from its own COMM chunk. A chunk
 * walk that fails leaves the duration and codec as they were.
 */
async function countAiffPresent(ctx: ExtractContext, media: MediaInfo): Promise<Counted> {
  const maxChunks = Math.min(MAX_AIFF_CHUNKS, ctx.budget.maxEntries);
  const chunks = await readOrSkip(() => readAiffChunks(ctx.reader, maxChunks));
  if (chunks?.codec) media = { ...media, codecs: [chunks.codec] };
  const shortfall = chunks && aiffShortfall(chunks, ctx.reader.size);
  if (!chunks || !shortfall) return { media };
  const counted = countPresent(
    ctx,
    media,
    "AIFF: cut short: the SSND chunk",
    shortfall.promised,
    shortfall.present,
  );
  const frames = aiffFramesIn(chunks, shortfall.present);
  if (frames === undefined || !media.sampleRate) return counted;
  return { ...counted, media: { ...media, duration: frames / media.sampleRate } };
}

/**
 * A FLAC file music-metadata must not parse (see {@link flacCommentCountProblem}):
 * `partial`, with what STREAMINFO states and the problem as the reason.
 */
async function streamInfoOnly(ctx: ExtractContext, problem: string): Promise<never> {
  const stream = await readOrSkip(() => readFlacStream(ctx.reader));
  const media: MediaInfo = { container: "FLAC", codecs: ["FLAC"] };
  if (stream && stream.sampleRate > 0) {
    if (stream.totalSamples > 0) media.duration = stream.totalSamples / stream.sampleRate;
    media.sampleRate = stream.sampleRate;
    media.channels = stream.channels;
  }
  ctx.partial.media = media;
  throw new ContentError(`damaged: ${problem}`);
}

/**
 * Cuts a FLAC file's duration to the whole frames it holds when the last frame
 * header near its end starts more than a block before the total STREAMINFO
 * states (music-metadata takes that total as it stands). A stream header or
 * tail this check cannot read leaves the duration as it was.
 */
async function countFlacPresent(ctx: ExtractContext, media: MediaInfo): Promise<Counted> {
  const shortfall = await readOrSkip(async () => flacShortfall(ctx.reader, await readFlacStream(ctx.reader)));
  if (!shortfall) return { media };
  return countPresent(
    ctx,
    media,
    "FLAC: cut short: STREAMINFO",
    shortfall.promised,
    shortfall.present,
    "samples",
  );
}

/** Junk before the first MPEG frame that passes without a warning (some encoders pad a little). */
const MAX_QUIET_GAP_BYTES = 1024;

/**
 * Adds a constant-bitrate duration estimate to MPEG audio music-metadata
 * states none for (no Xing/VBRI header, and a stream it could not measure).
 */
async function completeMpeg(
  ctx: ExtractContext,
  media: MediaInfo,
  unreadableApeTag: boolean,
): Promise<MediaInfo> {
  const estimate = await readOrWarn(ctx, () =>
    estimateMpegDuration(ctx.reader, { appendedTags: unreadableApeTag ? "counted" : "left out" }),
  );
  if (!estimate || !(estimate.duration > 0)) return media;
  ctx.warn(BITRATE_ESTIMATE_WARNING);
  // Bytes that are neither tag nor audio: a tag whose stated size is short of its frames, often.
  const gap = estimate.firstFrame - estimate.audioStart;
  if (gap > MAX_QUIET_GAP_BYTES) ctx.warn(`MPEG: the first frame is ${gap} bytes after the ID3v2 tags`);
  return { ...media, duration: estimate.duration, bitrate: media.bitrate ?? estimate.bitrate };
}

/**
 * Takes the APEv2 tags and Lyrics3v2 blocks at the end of a constant-bitrate
 * MP3 out of music-metadata's duration. Without a Xing/Info/VBRI header
 * music-metadata counts the frames from the first one to the end of the file
 * (less an ID3v1 tag) and never subtracts those tags, so a 50 KB APE tag adds
 * 3 s at 128 kbit/s. The frames up to the tags are counted the same way, so the
 * file lasts as long as it would without them. Every other figure stays.
 */
async function uncountMpegTags(ctx: ExtractContext, media: MediaInfo): Promise<MediaInfo> {
  // A tail this check cannot read leaves music-metadata's figure, and the record, as they were.
  const layout = await readOrSkip(() => readMpegFrameLayout(ctx.reader));
  if (!layout || layout.audioEnd === layout.id3v1Start || media.duration === undefined) return media;
  const duration = mpegFramesDuration(layout, layout.audioEnd);
  // A figure no larger than the frames up to the tags did not count them (or they round away): it stays.
  return duration < media.duration ? { ...media, duration } : media;
}

/**
 * Cuts an MP3's duration to the frames the file holds when its Xing, Info or
 * VBRI header counts more (music-metadata takes the header's frame count as
 * it stands). Tags at the end whose stated sizes do not fit are counted as
 * audio, which only ever makes the file look longer; a stream header this
 * check cannot read leaves the duration as it was.
 */
async function countMpegPresent(ctx: ExtractContext, media: MediaInfo): Promise<Counted> {
  const shortfall = await readOrSkip(() =>
    readMpegShortfall(ctx.reader).catch((error: unknown) => {
      // Tags at the end whose stated sizes do not fit: read again with them counted as audio.
      if (!isContentFault(error)) throw error;
      return readMpegShortfall(ctx.reader, { appendedTags: "counted" });
    }),
  );
  if (!shortfall) return { media };
  return countPresent(
    ctx,
    media,
    `MPEG: cut short: the ${shortfall.tag} header`,
    shortfall.promised,
    shortfall.present,
  );
}

/**
 * The average bitrate of a variable-bitrate MP3: the audio bytes over the
 * duration. music-metadata works it out the same way but takes an ID3v1 tag
 * whose fields are all empty for audio, 128 bytes too many
 * (filetype-fixture.mp3: 78528 bit/s where the Xing header's byte count gives 77264).
 */
async function averageVbrBitrate(ctx: ExtractContext, media: MediaInfo): Promise<MediaInfo> {
  if (media.duration === undefined) return media;
  const extent = await readOrSkip(() => readVbrExtent(ctx.reader));
  if (!extent) return media;
  return { ...media, bitrate: Math.round(((extent.audioEnd - extent.firstFrame) * 8) / media.duration) };
}

/** Speech frame payload sizes by frame type, for AMR narrow band and wide band. */
const AMR_FRAME_BYTES = {
  nb: [12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0],
  wb: [17, 23, 32, 36, 40, 46, 50, 58, 60, 5, 0, 0, 0, 0, 0, 0],
} as const;

/**
 * AMR storage format (RFC 4867 section 5): a magic line, then 20 ms frames.
 * The duration is counted only when the whole file is within the head window.
 */
async function readAmrHeader(ctx: ExtractContext): Promise<MediaInfo> {
  const head = await ctx.reader.read(0, HEAD_WINDOW_BYTES);
  const magic = textDecoder("latin1").decode(head.subarray(0, 9));
  const wide = magic.startsWith("#!AMR-WB\n");
  if (!wide && !magic.startsWith("#!AMR\n")) throw new ContentError("AMR: missing magic line");
  const media: MediaInfo = {
    container: "AMR",
    codecs: [wide ? "AMR-WB" : "AMR-NB"],
    sampleRate: wide ? 16_000 : 8_000,
    channels: 1,
  };
  if (ctx.reader.size <= head.byteLength) {
    const sizes = wide ? AMR_FRAME_BYTES.wb : AMR_FRAME_BYTES.nb;
    let frames = 0;
    for (let at = wide ? 9 : 6; at < head.byteLength; frames++) {
      at += 1 + (sizes[((head[at] as number) >> 3) & 0x0f] ?? 0);
    }
    if (frames > 0) media.duration = frames * 0.02;
  }
  return media;
}
