/*
 * The MIME types the media extractor claims, as detection names them (bare,
 * lower-case), and how each reaches a decoder.
 */

/** ISO base media file format and QuickTime: music-metadata plus the `moov` walk. */
export const ISO_BMFF_MIMES: ReadonlySet<string> = new Set([
  "video/mp4",
  "video/quicktime",
  "video/3gpp",
  "video/3gpp2",
  "video/x-m4v",
  "audio/mp4",
  "audio/x-m4a",
  "audio/m4a",
  "audio/x-m4b",
  "application/mp4",
]);

export const OGG_MIMES: ReadonlySet<string> = new Set([
  "audio/ogg",
  "video/ogg",
  "application/ogg",
  "audio/opus",
  "audio/x-speex",
  "audio/speex",
  "audio/vorbis",
]);

export const AVI_MIMES: ReadonlySet<string> = new Set([
  "video/vnd.avi",
  "video/x-msvideo",
  "video/avi",
  "video/msvideo",
]);

export const ASF_MIMES: ReadonlySet<string> = new Set([
  "video/x-ms-asf",
  "audio/x-ms-asf",
  "application/vnd.ms-asf",
  "video/x-ms-wmv",
  "audio/x-ms-wma",
]);

/** Matroska and WebM, whose frame rate is read from the track entries. */
export const MATROSKA_MIMES: ReadonlySet<string> = new Set([
  "video/webm",
  "audio/webm",
  "video/matroska",
  "video/x-matroska",
  "audio/matroska",
  "audio/x-matroska",
]);

/** Containers whose track list (from music-metadata) tells audio-only files from video. */
export const TRACK_LISTING_MIMES: ReadonlySet<string> = new Set([...ASF_MIMES, ...MATROSKA_MIMES]);

export const FLV_MIMES: ReadonlySet<string> = new Set(["video/x-flv"]);

/**
 * Detected types music-metadata parses, mapped to the name its parser factory
 * recognises where they differ (it strips an `x-` prefix itself).
 */
const PARSER_MIMES: Readonly<Record<string, string>> = {
  "audio/mpeg": "audio/mpeg",
  "audio/mp3": "audio/mpeg",
  "audio/x-mp3": "audio/mpeg",
  "audio/aac": "audio/aacp",
  "audio/x-aac": "audio/aacp",
  "audio/x-hx-aac-adts": "audio/aacp",
  "audio/flac": "audio/flac",
  "audio/x-flac": "audio/flac",
  "audio/wav": "audio/wav",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/aiff": "audio/aiff",
  "audio/x-aiff": "audio/aiff",
  "audio/ape": "audio/ape",
  "audio/x-ape": "audio/ape",
  "audio/x-monkeys-audio": "audio/ape",
  "audio/wavpack": "audio/wavpack",
  "audio/x-wavpack": "audio/wavpack",
  "audio/x-musepack": "audio/musepack",
  "audio/musepack": "audio/musepack",
  "audio/x-dsf": "audio/dsf",
  "audio/dsf": "audio/dsf",
  "audio/x-dff": "audio/dsd",
  "audio/x-dsdiff": "audio/dsd",
  "video/webm": "video/webm",
  "audio/webm": "audio/webm",
  "video/matroska": "video/matroska",
  "video/x-matroska": "video/matroska",
  "audio/matroska": "audio/matroska",
  "audio/x-matroska": "audio/matroska",
  "video/x-ms-asf": "video/ms-asf",
  "audio/x-ms-asf": "audio/ms-asf",
  "application/vnd.ms-asf": "application/vnd.ms-asf",
  "video/x-ms-wmv": "video/ms-wmv",
  "audio/x-ms-wma": "audio/ms-wma",
  ...Object.fromEntries([...ISO_BMFF_MIMES].map((mime) => [mime, "audio/mp4"])),
  ...Object.fromEntries([...OGG_MIMES].map((mime) => [mime, "audio/ogg"])),
};

/** Container names for types no decoder here reads beyond their signature. */
const SIGNATURE_ONLY: Readonly<Record<string, string>> = {
  "video/mpeg": "MPEG-PS",
  "video/mp1s": "MPEG-1 system stream",
  "video/mp2p": "MPEG-PS",
  "video/mp2t": "MPEG-TS",
  "audio/midi": "MIDI",
  "audio/x-midi": "MIDI",
  "audio/vnd.dolby.dd-raw": "AC-3",
  "audio/ac3": "AC-3",
  "audio/qcelp": "QCELP",
  "audio/x-it": "Impulse Tracker",
  "audio/x-s3m": "Scream Tracker 3",
  "audio/x-xm": "FastTracker 2",
  "audio/x-mod": "ProTracker",
  "audio/x-voc": "Creative Voice",
  "audio/amr": "AMR",
  "audio/basic": "AU",
};

const CONTAINERS: Readonly<Record<string, string>> = {
  "video/mp4": "MP4",
  "video/quicktime": "QuickTime",
  "video/3gpp": "3GP",
  "video/3gpp2": "3G2",
  "audio/ogg": "Ogg",
  "video/ogg": "Ogg",
  "application/ogg": "Ogg",
  "audio/mpeg": "MPEG",
  "audio/aac": "ADTS",
  "audio/flac": "FLAC",
  "audio/wav": "WAVE",
  "audio/aiff": "AIFF",
  "video/webm": "WebM",
  "video/matroska": "Matroska",
  "video/x-ms-asf": "ASF",
  ...SIGNATURE_ONLY,
};

/** Every MIME type the media extractor claims. */
export const MEDIA_MIMES: readonly string[] = [
  ...new Set([...Object.keys(PARSER_MIMES), ...Object.keys(SIGNATURE_ONLY), ...AVI_MIMES, ...FLV_MIMES]),
];

/**
 * The MIME type to hand music-metadata for a detected type, or undefined when it has no parser for it.
 *
 * @example
 * parserMimeFor("audio/x-dff") // "audio/dsd"
 */
export function parserMimeFor(mime: string): string | undefined {
  return PARSER_MIMES[mime];
}

/**
 * A short container name for a detected type, used when no decoder names it.
 *
 * @example
 * containerName("video/mp2t") // "MPEG-TS"
 */
export function containerName(mime: string): string {
  return (
    CONTAINERS[mime] ??
    mime
      .slice(mime.indexOf("/") + 1)
      .replace(/^x-/, "")
      .toUpperCase()
  );
}
