import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BlockReader } from "../../src/engine/byte-source/block-reader.js";
import { BufferSource, FileSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { LimitExceededError } from "../../src/engine/errors.js";
import { decodeMoov, iso6709 } from "../../src/engine/extractors/media/iso-bmff.js";
import { matroskaFrameRate } from "../../src/engine/extractors/media/matroska.js";
import { parseTaggedAudio } from "../../src/engine/extractors/media/tagged-audio.js";
import type { ExtractionResult } from "../../src/engine/types.js";
import { concatBytes } from "../support/bytes.js";
import { corpusFile, type ExpectedEntry, expectedEntries } from "../support/corpus.js";

const MEDIA_NAME =
  /\.(mp3|mp2|flac|ogg|opus|oga|ogv|spx|m4a|m4b|wav|bwf|aif|aiff|ape|wv|mpc|mp4|mov|webm|mkv|mka|avi|flv|3gp|asf|wma|amr|ac3|aac|mid|dff|mpg)$/i;

/** Corpus files the media extractor should describe. */
const mediaEntries = expectedEntries().filter((entry) => MEDIA_NAME.test(entry.name));

async function extractFile(name: string): Promise<ExtractionResult> {
  const source = await FileSource.open(corpusFile(name));
  try {
    return await extract(source, { name });
  } finally {
    await source.close();
  }
}

/**
 * Where exiftool's Duration is not the better answer, the value we expect instead and why.
 */
const DURATION_DISAGREEMENTS: Readonly<Record<string, { duration: number | undefined; reason: string }>> = {
  "musicmetadata-audio.vorbis.ogg": {
    duration: 2.906576,
    reason: "exiftool estimates size / nominal bitrate; the last page's granule position is exact",
  },
  "musicmetadata-issue-362.apev1.mp3": {
    duration: (3760 * 8) / 128_000,
    reason:
      "exiftool's 221370 reads a millisecond TLEN as seconds; the file is cut short: its Info header counts 3541785 bytes of 128 kbit/s audio, 3760 are left",
  },
  "musicmetadata-dvi_adpcm.wav": {
    duration: 0.1,
    reason: "the fact chunk counts 4410 samples; exiftool divides the data size by a wrong average byte rate",
  },
  "filetype-fixture.wmv.asf": {
    duration: 0.092,
    reason: "ASF play duration includes a 3.1 s preroll that is not played; exiftool does not subtract it",
  },
  "musicmetadata-silence-2s-16000_no-tags.CBR-128.mp3": {
    duration: 2.088,
    reason:
      "exiftool estimates size / bitrate, counting the Info frame; the Info header's frame count says 2.088 s",
  },
  "musicmetadata-id3v2.3.mp3": {
    duration: 0.783673,
    reason: "CBR estimate either way: exiftool counts the ID3v1 tag as audio, music-metadata does not",
  },
  "musicmetadata-id3v2.4.mp3": {
    duration: 0.783673,
    reason: "CBR estimate either way: exiftool counts the ID3v1 tag as audio, music-metadata does not",
  },
  "musicmetadata-outofbounds.mp3": {
    duration: 0.496325,
    reason:
      "exiftool takes sync-like bytes at 2048 (inside a damaged ID3v2 tag: ID3 text frames follow) for a 128 kbit/s frame, (23324 - 2048 - 128) * 8 / 128000 = 1.32 s; the first frame the next one confirms is at 3343, 19 frames at 320 kbit/s: (23324 - 3343 - 128) * 8 / 320000",
  },
  "musicmetadata-issue-1163.bwf": {
    duration: 0,
    reason:
      "its data chunk declares 0 bytes and the next chunk follows at once: no audio; exiftool's 0.584 s is the file size (headers and a 150 KB DGDA chunk) over the byte rate",
  },
};

/** Files where we know our duration is missing or wrong, with the reason. */
const KNOWN_DURATION_FAILURES: Readonly<Record<string, string>> = {};

/** Closeness rule of the task: within 1 % or 0.05 s. */
function closeDuration(actual: number | undefined, expected: number): boolean {
  if (actual === undefined) return false;
  const diff = Math.abs(actual - expected);
  return diff <= 0.05 || diff <= expected * 0.01;
}

/** Deliberately damaged fixtures: tested below for reporting the damage, not for their values. */
const DAMAGED = new Set(["filetype-fixture-corrupt.mkv", "musicmetadata-CWE-835.wma"]);

const withDuration = mediaEntries.filter(
  (entry) => entry.Duration !== undefined && !KNOWN_DURATION_FAILURES[entry.name] && !DAMAGED.has(entry.name),
);

describe("media extractor against exiftool", () => {
  it.each(withDuration.map((entry) => [entry.name, entry] as const))("%s: duration", async (name, entry) => {
    const result = await extractFile(name);
    const override = DURATION_DISAGREEMENTS[name];
    const expected = override ? override.duration : Number(entry.Duration);
    expect(result.media, result.reason).toBeDefined();
    if (expected === undefined) expect(result.media?.duration).toBeUndefined();
    else
      expect(
        closeDuration(result.media?.duration, expected),
        `${result.media?.duration} vs ${expected}`,
      ).toBe(true);
  });

  const knownFailures = Object.entries(KNOWN_DURATION_FAILURES);
  // Registered only while some are listed.
  if (knownFailures.length > 0)
    it.fails.each(knownFailures)("%s: duration (known failure: %s)", async (name) => {
      const entry = mediaEntries.find((candidate) => candidate.name === name) as ExpectedEntry;
      const result = await extractFile(name);
      expect(closeDuration(result.media?.duration, Number(entry.Duration))).toBe(true);
    });

  // exiftool -n prints MPEG audio's sample-rate *index* (0, 1, 2), not a rate.
  const sampleRated = mediaEntries.filter(
    (entry) => (entry.SampleRate || entry.AudioSampleRate) && entry.FileType !== "MP3",
  );
  it.each(sampleRated.map((entry) => [entry.name, entry] as const))(
    "%s: sample rate",
    async (name, entry) => {
      const result = await extractFile(name);
      // AVI: exiftool's AudioSampleRate is a derived figure; SampleRate is the stream header's.
      expect(result.media?.sampleRate).toBe(entry.SampleRate || entry.AudioSampleRate);
    },
  );

  const channelled = mediaEntries.filter(
    (entry) => entry.NumChannels ?? entry.AudioChannels ?? entry.Channels,
  );
  it.each(channelled.map((entry) => [entry.name, entry] as const))("%s: channels", async (name, entry) => {
    const result = await extractFile(name);
    expect(result.media?.channels).toBe(entry.NumChannels ?? entry.AudioChannels ?? entry.Channels);
  });

  const pictured = mediaEntries.filter((entry) => entry.ImageWidth && entry.ImageHeight);
  it.each(pictured.map((entry) => [entry.name, entry] as const))("%s: picture size", async (name, entry) => {
    const result = await extractFile(name);
    expect({ width: result.media?.width, height: result.media?.height }).toEqual({
      width: entry.ImageWidth,
      height: entry.ImageHeight,
    });
    expect(result.format.category).toBe("video");
  });

  const framed = mediaEntries.filter((entry) => entry.VideoFrameRate);
  it.each(framed.map((entry) => [entry.name, entry] as const))("%s: frame rate", async (name, entry) => {
    const result = await extractFile(name);
    expect(result.media?.frameRate).toBeCloseTo(entry.VideoFrameRate as number, 3);
  });
});

/**
 * exiftool 12.57's Copyright for the media files that state one, from
 * `exiftool -j -Copyright` over the corpus (expected.jsonl does not record the
 * tag). The WAVE file's is its RIFF INFO ICOP; the AIFF file's is its ID3v2
 * TCOP, which exiftool prefers to the "(c) " chunk's "undefined.", as
 * music-metadata does. musicmetadata-issue-362.apev1.mp3 has an empty TCOP:
 * no copyright. Every other media file states none.
 */
const EXIFTOOL_COPYRIGHTS: Readonly<Record<string, string>> = {
  "musicmetadata-riff_adobe_audition.wav": "Copyright 2018",
  "musicmetadata-No_Sanctuary_Here.aiff": "undefined",
};

/** Files whose exiftool Title is not what we should report, and why. */
const TITLE_DISAGREEMENTS: Readonly<Record<string, string>> = {
  "tika-testMP4_udtaLocation.mp4":
    "its ilst \u00a9nam data box is typed 0 (binary), not 1 (UTF-8): exiftool prints it as binary data, music-metadata skips it, and so do we",
};

/**
 * Files whose exiftool DateTimeOriginal is the container's creation time, not
 * a tag's year: the media section has no creation time, so nothing to compare.
 */
const CONTAINER_DATES = new Set([
  "filetype-fixture2.3gp",
  "musicmetadata-Apple_voice_memo.m4a",
  "musicmetadata-My_Baby_Boy.webm",
  "musicmetadata-alac-in-matroska-short.mka",
  "musicmetadata-issue-1163.bwf",
]);

/** MP3 files whose exiftool AudioBitrate is not the better answer, the value we expect instead and why. */
const BITRATE_DISAGREEMENTS: Readonly<Record<string, { bitrate: number; reason: string }>> = {
  "musicmetadata-outofbounds.mp3": {
    bitrate: 320_000,
    reason:
      "exiftool takes sync-like bytes inside the damaged ID3v2 tag for a 128 kbit/s frame; the first frame the next one confirms is 320 kbit/s (see its duration)",
  },
};

/** MP3 files where our bitrate is known to be wrong, and why. */
const KNOWN_BITRATE_FAILURES: Readonly<Record<string, string>> = {};

describe("media tags and bitrate against exiftool", () => {
  const titled = mediaEntries.filter((entry) => typeof entry.Title === "string" && entry.Title.trim() !== "");
  it.each(titled.map((entry) => [entry.name, entry] as const))("%s: title", async (name, entry) => {
    const result = await extractFile(name);
    if (TITLE_DISAGREEMENTS[name]) expect(result.media?.tags?.title).toBeUndefined();
    else expect(result.media?.tags?.title).toBe(entry.Title);
  });

  const dated = mediaEntries.filter(
    // exiftool -n prints an ID3 year as a number, a full date as a string.
    (entry) => entry.DateTimeOriginal !== undefined && !CONTAINER_DATES.has(entry.name),
  );
  it.each(dated.map((entry) => [entry.name, entry] as const))("%s: year", async (name, entry) => {
    const result = await extractFile(name);
    expect(result.media?.tags?.year).toBe(Number(String(entry.DateTimeOriginal).slice(0, 4)));
  });

  const bitrates = mediaEntries.filter((entry) => typeof entry.AudioBitrate === "number");
  const comparable = bitrates.filter((entry) => !KNOWN_BITRATE_FAILURES[entry.name]);
  it.each(comparable.map((entry) => [entry.name, entry] as const))("%s: bitrate", async (name, entry) => {
    const result = await extractFile(name);
    const expected = BITRATE_DISAGREEMENTS[name]?.bitrate ?? (entry.AudioBitrate as number);
    expect(Math.abs((result.media?.bitrate ?? 0) - expected) / expected).toBeLessThan(0.001);
  });
  const knownBitrateFailures = Object.keys(KNOWN_BITRATE_FAILURES);
  // Registered only while some are listed.
  if (knownBitrateFailures.length > 0)
    it.fails.each(knownBitrateFailures)("%s: bitrate (known failure)", async (name) => {
      const entry = mediaEntries.find((candidate) => candidate.name === name) as ExpectedEntry;
      const result = await extractFile(name);
      const expected = entry.AudioBitrate as number;
      expect(Math.abs((result.media?.bitrate ?? 0) - expected) / expected).toBeLessThan(0.001);
    });

  it("compares the rows it should", () => {
    expect(titled.length).toBeGreaterThanOrEqual(20);
    expect(dated.length).toBeGreaterThanOrEqual(10);
    expect(bitrates.length).toBeGreaterThanOrEqual(10);
  });
});

describe("media bitrate: a video's overall average, an audio file's audio bitrate", () => {
  // exiftool -n AvgBitrate: the mdat boxes' bytes x 8 / the movie's duration. music-metadata stated the
  // audio track's for imovie.mp4 (67 050), 3gp (none), en-US_Hi.mp4 (127 993) and issue-744.mp4 (129 504).
  it.each([
    ["filetype-fixture-imovie.mp4", 6_504_973],
    ["filetype-fixture-mjpeg.mov", 3_902_080],
    ["filetype-fixture.mov", 123_475],
    ["filetype-fixture2.3gp", 64_573],
    ["musicmetadata-sample_640x360.mov", 341_200],
    ["tika-en-US_Hi.mp4", 145_392],
    ["tika-testMP4Video.mp4", 6_536],
  ])("%s: an MP4 or QuickTime movie's is exiftool's AvgBitrate", async (name, avgBitrate) => {
    const result = await extractFile(name);
    expect(result.format.category).toBe("video");
    expect(result.media?.bitrate).toBe(avgBitrate);
  });

  it("has none for a movie whose mdat box is empty (exiftool: AvgBitrate 0)", async () => {
    const result = await extractFile("musicmetadata-issue-744.mp4");
    expect(result.media?.duration).toBeCloseTo(360.827, 3);
    expect(result.media?.bitrate).toBeUndefined();
  });

  // exiftool states no average for these containers; the file's bytes over its duration is the same measure.
  it.each([
    ["filetype-fixture.mkv", 38_047, 0.092],
    ["filetype-fixture.webm", 66_398, 0.072],
    ["filetype-fixture.avi", 52_448, 0.042],
    ["filetype-fixture.wmv.asf", 48_939, 0.092],
  ])(
    "%s: a Matroska, WebM, AVI or ASF video's is its size over its duration",
    async (name, size, duration) => {
      const result = await extractFile(name);
      expect(result.format.category).toBe("video");
      expect(result.media?.duration).toBeCloseTo(duration, 6);
      expect(result.media?.bitrate).toBe(Math.round((size * 8) / (result.media?.duration as number)));
    },
  );

  it.each([
    // exiftool -n AvgBitrate; music-metadata's figure for an MP4 audio file, kept as it was.
    ["filetype-fixture.m4a", 179_546],
    ["tika-testMP4_coverArt.m4a", 77_405],
    // An Opus-only WebM: an audio file, whose parser states no bitrate.
    ["musicmetadata-My_Baby_Boy.webm", undefined],
  ])("%s: an audio file's stays the audio bitrate", async (name, bitrate) => {
    const result = await extractFile(name);
    expect(result.format.category).toBe("audio");
    expect(result.media?.bitrate).toBe(bitrate);
  });
});

describe("media extractor", () => {
  it.each([
    ["musicmetadata-My_Baby_Boy.webm", "audio"],
    ["musicmetadata-alac-in-matroska-short.mka", "audio"],
    ["filetype-fixture.webm", "video"],
    ["musicmetadata-issue-2672.m4b", "audio"],
    ["filetype-fixture.m4a", "audio"],
    ["tika-en-US_Hi.mp4", "video"],
    ["filetype-fixture.ogv", "video"],
    ["filetype-fixture.oga", "audio"],
  ])("%s is filed under %s by its tracks", async (name, category) => {
    const result = await extractFile(name);
    expect(result.format.category).toBe(category);
  });

  it.each([
    // Its TCON frame holds two genres, NUL-separated; exiftool shows "Soundtrack/OST".
    ["musicmetadata-id3v2.4.mp3", { title: "Home", year: 2004, genre: "Soundtrack; OST" }],
    ["musicmetadata-id3v2.3.mp3", { genre: "Soundtrack" }],
    [
      "tika-testMP4_coverArt.m4a",
      { title: "Test Title", artist: "Test Artist", album: "Test Album", year: 2008 },
    ],
    ["musicmetadata-testcase.flac", { title: "Testcase", album: "Testcase", genre: "Testcase" }],
    ["filetype-fixture-monkeysaudio.ape", { title: "07. Shadow On The Sun" }],
  ])("%s: tags", async (name, tags) => {
    const result = await extractFile(name);
    expect(result.media?.tags).toMatchObject(tags);
  });

  it.each([
    // ID3v2.3 separates a frame's values with "/", kept as written (names contain it too); ID3v2.4 with NUL.
    ["musicmetadata-id3v2.3.mp3", "Explosions In The Sky/Another/And Another"],
    ["musicmetadata-id3v2.4.mp3", "Explo; ions; nodejsftws"],
    ["musicmetadata-flac-multiple-album-artists-tags.flac", "Artist One; Artist Two"],
    ["filetype-fixture-monkeysaudio.ape", "Audioslave; Chris Cornell"],
    ["tika-testMP4_coverArt.m4a", "Test Artist"],
  ])("%s: every artist its tag names", async (name, artist) => {
    const result = await extractFile(name);
    expect(result.media?.tags?.artist).toBe(artist);
  });

  it.each(["tika-testMP4_udtaLocation.mp4", "tika-testMP4_QuickTimeMetadata.mov"])(
    "%s: where it was recorded, as exiftool reads it (12.3456, -98.7654, 10.5 m)",
    async (name) => {
      const result = await extractFile(name);
      expect(result.media?.gps).toEqual({ lat: 12.3456, lon: -98.7654, altitude: 10.5 });
    },
  );

  it("gives no position for a movie that records none", async () => {
    expect((await extractFile("filetype-fixture.mov")).media).not.toHaveProperty("gps");
  });

  const made = mediaEntries.filter((entry) => entry.Make !== undefined || entry.Model !== undefined);
  it("has a corpus movie that names its device", () => {
    expect(made.map((entry) => entry.name)).toContain("filetype-fixture.mov");
  });

  it.each(made.map((entry) => [entry.name, entry] as const))(
    "%s: the recording device's make and model, as exiftool reads them",
    async (name, entry) => {
      const { media } = await extractFile(name);
      expect({ make: media?.make, model: media?.model }).toEqual({ make: entry.Make, model: entry.Model });
    },
  );

  it.each(mediaEntries.filter((entry) => entry.Make === undefined).map((entry) => [entry.name] as const))(
    "%s: no device where exiftool reads none",
    async (name) => {
      const { media } = await extractFile(name);
      expect(media?.make).toBeUndefined();
      expect(media?.model).toBeUndefined();
    },
  );

  it.each(mediaEntries.map((entry) => [entry.name, EXIFTOOL_COPYRIGHTS[entry.name]] as const))(
    "%s: copyright %j, as exiftool reads it",
    async (name, copyright) => {
      const { media } = await extractFile(name);
      expect(media?.tags?.copyright).toBe(copyright);
    },
  );

  it("has corpus files with a copyright among the media files", () => {
    const names = new Set(mediaEntries.map((entry) => entry.name));
    expect(Object.keys(EXIFTOOL_COPYRIGHTS).filter((name) => names.has(name))).toHaveLength(2);
  });

  it.each([
    ["+12.3456-098.7654+010.500/", { lat: 12.3456, lon: -98.7654, altitude: 10.5 }],
    ["+40.7128-074.0060/", { lat: 40.7128, lon: -74.006 }],
    // Degrees and minutes, then degrees, minutes and seconds.
    ["+4042.77-07400.36/", { lat: 40.7128333, lon: -74.006 }],
    ["-334512+1512030/", { lat: -33.753333, lon: 151.341667 }],
    ["+95.0000+010.0000/", undefined],
    ["somewhere", undefined],
  ] as const)("ISO 6709 %s", (text, position) => {
    const point = iso6709(text);
    if (position === undefined) expect(point).toBeUndefined();
    else {
      expect(point?.lat).toBeCloseTo(position.lat, 5);
      expect(point?.lon).toBeCloseTo(position.lon, 5);
      expect(point?.altitude).toBe("altitude" in position ? position.altitude : undefined);
    }
  });

  it("keeps an ID3v2.3 artist whose name holds its separator, AC/DC, as written", async () => {
    // Prepare: an ID3v2.3 tag (one TPE1 text frame) before a run of MPEG audio frames.
    const text = (id: string, value: string) => {
      const body = Buffer.concat([Buffer.from([0]), Buffer.from(value, "latin1")]);
      const header = Buffer.alloc(10);
      header.write(id, 0, "latin1");
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    const frames = Buffer.concat([text("TPE1", "AC/DC"), text("TIT2", "Thunderstruck")]);
    const tag = Buffer.concat([
      Buffer.from("ID3\x03\x00\x00", "latin1"),
      Buffer.from([0, 0, frames.length >> 7, frames.length & 0x7f]),
      frames,
    ]);
    const audio = Buffer.concat(
      Array.from({ length: 20 }, () =>
        Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x00]), Buffer.alloc(413)]),
      ),
    );

    // Act
    const result = await extract(new BufferSource(Buffer.concat([tag, audio]), "song.mp3"), {
      name: "song.mp3",
    });

    // Assess
    expect(result.media?.tags).toMatchObject({ title: "Thunderstruck", artist: "AC/DC" });
  });

  it("keeps a credit line that already names each performer of an ARTISTS tag", async () => {
    // Prepare: the MusicBrainz layout, one credit and the performers apart.
    const bytes = flacWithComments(["ARTIST=Ann feat. Bo", "ARTISTS=Ann", "ARTISTS=Bo"]);

    // Act
    const result = await extract(new BufferSource(bytes, "credit.flac"), { name: "credit.flac" });

    // Assess
    expect(result.media?.tags?.artist).toBe("Ann feat. Bo");
  });

  it("reads a WebM whose clusters have an unknown size (as live recorders write them) in full", async () => {
    // Its Segment and Cluster sizes are EBML's "unknown" (all ones); exiftool reads it without complaint.
    const result = await extractFile("musicmetadata-no-duration.webm");
    expect(result.status, result.reason).toBe("ok");
    expect(result.media).toMatchObject({ codecs: ["OPUS"], sampleRate: 48000, channels: 1 });
  });

  it("reads a QuickTime movie's moov at the end without reading its media data", async () => {
    const result = await extractFile("filetype-fixture-mjpeg.mov");
    expect(result.media).toMatchObject({ duration: 1.5, width: 640, height: 480, frameRate: 10 });
    expect(result.bytesRead).toBeLessThan(result.size / 4);
  });

  it("stays within two requests and the whole file for small media", async () => {
    const small = mediaEntries.filter((entry) => entry.size <= 64 * 1024);
    for (const entry of small) {
      const result = await extractFile(entry.name);
      expect(result.readRequests, entry.name).toBeLessThanOrEqual(2);
      expect(result.bytesRead, entry.name).toBeLessThanOrEqual(entry.size);
    }
  });
});

/** An ISO-BMFF box: 32-bit size, type, body. */
function box(type: string, ...body: (Uint8Array | string)[]): Uint8Array {
  const content = concatBytes(...body);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(8 + content.byteLength);
  return concatBytes(size, type, content);
}

/** A 3GPP asset string box (TS 26.244): version and flags, packed language, then the string. */
function assetBox(type: string, text: Uint8Array | string): Uint8Array {
  return box(type, Uint8Array.of(0, 0, 0, 0, 0x15, 0xc7), text);
}

describe("3GPP asset metadata in an MP4's udta", () => {
  it("gives filetype-fixture-imovie.mp4 the title exiftool reads from its titl box", async () => {
    const result = await extractFile("filetype-fixture-imovie.mp4");
    expect(result.media?.tags?.title).toBe("fixture");
  });

  it.each([
    ["UTF-8, terminated", concatBytes("Ein Titel", Uint8Array.of(0))],
    ["UTF-8, unterminated", "Ein Titel"],
    [
      "UTF-16 with a BOM",
      concatBytes(
        Uint8Array.of(0xfe, 0xff),
        Buffer.from("Ein Titel", "utf16le").swap16(),
        Uint8Array.of(0, 0),
      ),
    ],
  ])("decodes titl, auth and cprt in %s", (_, text) => {
    const movie = decodeMoov(
      box("udta", assetBox("titl", text), assetBox("auth", text), assetBox("cprt", text)),
    );
    expect(movie).toMatchObject({ title: "Ein Titel", artist: "Ein Titel", copyright: "Ein Titel" });
  });

  it("ignores an asset box too short for its header, and one whose string is empty", () => {
    const movie = decodeMoov(
      box("udta", box("titl", Uint8Array.of(0, 0)), assetBox("auth", new Uint8Array(1))),
    );
    expect(movie.title).toBeUndefined();
    expect(movie.artist).toBeUndefined();
  });
});

/** A little-endian RIFF chunk: id, 32-bit size, body, a pad byte after an odd body. */
function riffChunk(id: string, ...body: (Uint8Array | string)[]): Uint8Array {
  const content = concatBytes(...body);
  const size = Buffer.alloc(4);
  size.writeUInt32LE(content.byteLength);
  return concatBytes(id, size, content, new Uint8Array(content.byteLength & 1));
}

describe("an AVI file's RIFF INFO copyright", () => {
  const avi = readFileSync(corpusFile("filetype-fixture.avi"));
  // The fixture's hdrl list ends at 8862, where its INFO list (ISFT only) begins; movi follows a JUNK chunk.
  const hdrlEnd = 20 + avi.readUInt32LE(16);
  const infoEnd = hdrlEnd + 8 + avi.readUInt32LE(hdrlEnd + 4);
  const withInfo = (...chunks: Uint8Array[]) => {
    const bytes = concatBytes(avi.subarray(0, hdrlEnd), ...chunks, avi.subarray(infoEnd));
    // The RIFF size follows, or the file would read as one cut short (or with bytes after its end).
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(4, bytes.byteLength - 8, true);
    return bytes;
  };

  it("reads ICOP as exiftool does, past JUNK and another field, keeping the stream facts", async () => {
    const copyright = Buffer.from("\u00a9 2024 Caf\u00e9 Films\0", "latin1");
    const bytes = withInfo(
      riffChunk("JUNK", new Uint8Array(5)),
      riffChunk("LIST", "INFO", riffChunk("ISFT", "Lavf\0"), riffChunk("ICOP", copyright)),
    );
    const result = await extract(new BufferSource(bytes, "info.avi"));
    expect(result.media?.tags).toEqual({ copyright: "\u00a9 2024 Caf\u00e9 Films" });
    expect(result.media?.width).toBe(640);
  });

  it("gives none for an INFO list without ICOP, and none for a damaged list", async () => {
    const damaged = riffChunk("LIST", "INFO");
    damaged.set([0xff, 0xff, 0xff, 0x7f], 4);
    for (const chunk of [riffChunk("LIST", "INFO", riffChunk("INAM", "A title\0")), damaged]) {
      const result = await extract(new BufferSource(withInfo(chunk), "info.avi"));
      expect(result.status).toBe("ok");
      expect(result.media?.tags).toBeUndefined();
      expect(result.media?.codecs.length).toBeGreaterThan(0);
    }
  });
});

/** A QuickTime user-data text box (`©mak` ...): 16-bit length, 16-bit language, the text. */
function userDataText(type: string, text: string, language = 0x15c7): Uint8Array {
  const bytes = Buffer.from(text, language < 0x400 ? "latin1" : "utf8");
  return box(
    type,
    Uint8Array.of(bytes.byteLength >> 8, bytes.byteLength & 0xff, language >> 8, language & 0xff),
    bytes,
  );
}

/** A QuickTime `meta` box naming each value by an `mdta` key (`keys`), the values in `ilst` (UTF-8 `data`). */
function quickTimeMeta(entries: ReadonlyArray<readonly [key: string, value: string]>): Uint8Array {
  const u32 = (value: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value);
    return bytes;
  };
  const keys = entries.map(([key]) => concatBytes(u32(8 + Buffer.byteLength(key)), "mdta", Buffer.from(key)));
  const items = entries.map(([, value], i) => {
    const data = box("data", u32(1), u32(0), Buffer.from(value));
    return concatBytes(u32(8 + data.byteLength), u32(i + 1), data);
  });
  return box(
    "meta",
    box("hdlr", new Uint8Array(8), "mdta", new Uint8Array(12)),
    box("keys", u32(0), u32(entries.length), ...keys),
    box("ilst", ...items),
  );
}

describe("the device a QuickTime or MP4 movie was recorded with", () => {
  it.each([
    [
      "Apple's metadata keys",
      quickTimeMeta([
        ["com.apple.quicktime.make", "Apple"],
        ["com.apple.quicktime.model", "iPhone 15 Pro"],
      ]),
    ],
    [
      "Android's metadata keys",
      quickTimeMeta([
        ["com.android.version", "14"],
        ["com.android.manufacturer", "Apple"],
        ["com.android.model", "iPhone 15 Pro"],
      ]),
    ],
    [
      "udta \u00a9mak and \u00a9mod",
      box("udta", userDataText("\u00a9mak", "Apple"), userDataText("\u00a9mod", "iPhone 15 Pro")),
    ],
    [
      "udta manu and modl",
      box(
        "udta",
        box("manu", "Apple\0"),
        box("modl", Uint8Array.of(0, 0, 0, 0, 0x15, 0xc7), "iPhone 15 Pro\0junk"),
      ),
    ],
  ])("reads %s", (_, moov) => {
    expect(decodeMoov(moov)).toMatchObject({ make: "Apple", model: "iPhone 15 Pro" });
  });

  it("decodes a \u00a9mak in Mac Roman when a Macintosh language code says so", () => {
    const movie = decodeMoov(box("udta", userDataText("\u00a9mak", "Caf\u00e9", 0)));
    // Mac Roman 0xE9 is "È": the text was written latin1 here to show the decoder is the Mac's.
    expect(movie.make).toBe("Caf\u00c8");
  });

  it("prefers the metadata keys to the user data, make and model alike", () => {
    const movie = decodeMoov(
      concatBytes(
        box("udta", userDataText("\u00a9mak", "Other"), userDataText("\u00a9mod", "Other model")),
        quickTimeMeta([
          ["com.apple.quicktime.make", "Apple"],
          ["com.apple.quicktime.model", "iPhone 15 Pro"],
        ]),
      ),
    );
    expect(movie).toMatchObject({ make: "Apple", model: "iPhone 15 Pro" });
  });

  it("ignores empty values and a track's own metadata", () => {
    const movie = decodeMoov(
      concatBytes(
        box("udta", userDataText("\u00a9mak", "  ")),
        box("trak", quickTimeMeta([["com.apple.quicktime.make", "Apple"]])),
      ),
    );
    expect(movie).not.toHaveProperty("make");
    expect(movie).not.toHaveProperty("model");
  });
});

/** An EBML element: its ID bytes, a size (8-byte unknown size when `unknown`), its children. */
function ebml(id: number[], children: Uint8Array[], unknown = false): Uint8Array {
  const body = concatBytes(...children);
  const size = unknown
    ? [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    : [0x40 | (body.byteLength >> 8), body.byteLength & 0xff];
  return concatBytes(Uint8Array.from(id), Uint8Array.from(size), body);
}

const uint = (id: number[], value: number) =>
  ebml(id, [Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff)]);
const track = (type: number, nanos?: number) =>
  ebml([0xae], [uint([0x83], type), ...(nanos === undefined ? [] : [uint([0x23, 0xe3, 0x83], nanos)])]);
const matroska = (tracks: Uint8Array[], unknownSegment = false) =>
  concatBytes(
    ebml([0x1a, 0x45, 0xdf, 0xa3], [ebml([0x42, 0x82], [concatBytes("webm")])]),
    ebml(
      [0x18, 0x53, 0x80, 0x67],
      [ebml([0x15, 0x49, 0xa9, 0x66], []), ebml([0x16, 0x54, 0xae, 0x6b], tracks)],
      unknownSegment,
    ),
  );

describe("Matroska frame rate", () => {
  it("is 1e9 over the first video track's DefaultDuration, past an audio track's", () => {
    expect(matroskaFrameRate(matroska([track(2, 20_000_000), track(1, 40_000_000)]))).toBe(25);
  });

  it("is read in a Segment of unknown size, as live recorders write it", () => {
    expect(matroskaFrameRate(matroska([track(1, 33_366_667)], true))).toBeCloseTo(29.97, 2);
  });

  it("is absent when no video track states a DefaultDuration", () => {
    expect(matroskaFrameRate(matroska([track(1), track(2, 20_000_000)]))).toBeUndefined();
  });

  it("never throws on a head cut anywhere", () => {
    const bytes = matroska([track(1, 40_000_000)]);
    for (let cut = 0; cut < bytes.byteLength; cut++)
      expect(() => matroskaFrameRate(bytes.subarray(0, cut))).not.toThrow();
  });
});

describe("damaged media", () => {
  it.each([["filetype-fixture-corrupt.mkv"], ["musicmetadata-CWE-835.wma"]])(
    "%s is reported as an error, within the time budget",
    async (name) => {
      const bytes = readFileSync(corpusFile(name));
      const result = await extract(new BufferSource(bytes, name), { budget: { maxMillis: 2000 } });
      expect(["error", "partial"]).toContain(result.status);
      expect(result.reason).toBeTruthy();
      expect(result.durationMs).toBeLessThan(2500);
    },
  );

  it("says a file is cut short when the parser reads past the bytes it holds, and keeps what it decoded", async () => {
    // filetype-fixture.ogv is the first 256 bytes of a video: its Theora and Vorbis headers, then a cut page.
    const result = await extractFile("filetype-fixture.ogv");
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the file is shorter than its header states");
    expect(result.warnings).toEqual([
      "Ogg: cut short: the file ends inside a page",
      "music-metadata: Offset is outside the bounds of the DataView",
    ]);
    expect(result.media).toMatchObject({ width: 400, height: 300, codecs: ["Vorbis I", "Theora"] });
  });

  it("reports the damaged ID3v2 tag of musicmetadata-outofbounds.mp3 and keeps its tags", async () => {
    // Its tag states 2038 bytes and ends in zero padding, but ID3 frames go on after it: the first
    // MPEG frame the next one confirms is at 3343, 1295 bytes past the tag's stated end.
    const result = await extractFile("musicmetadata-outofbounds.mp3");
    expect(result.warnings).toContain("MPEG: the first frame is 1295 bytes after the ID3v2 tags");
    expect(result.media?.tags?.album).toBe("One More Time");
  });

  it("keeps the ID3v2 length warning for a frame that runs past its tag", async () => {
    // An ID3v2.3 tag of 20 bytes whose TIT2 frame claims 50, then 40 frames of 128 kbit/s audio.
    const tag = concatBytes(
      "ID3",
      Uint8Array.of(3, 0, 0, 0, 0, 0, 20),
      "TIT2",
      Uint8Array.of(0, 0, 0, 50, 0, 0),
      "\0Title0123",
    );
    const frame = concatBytes(Uint8Array.of(0xff, 0xfb, 0x90, 0x44), new Uint8Array(413));
    const bytes = concatBytes(tag, ...Array.from({ length: 40 }, () => frame));
    const result = await extract(new BufferSource(bytes, "overrun.mp3"), { name: "overrun.mp3" });
    expect(result.warnings).toContain("Illegal ID3v2 tag length");
  });

  it.each([
    "musicmetadata-id3v2.3.mp3",
    "musicmetadata-id3v2.4.mp3",
    "filetype-fixture.mp3",
    "filetype-fixture-id3v2.aac",
    "musicmetadata-DSD64.dff",
  ])(
    "gives no ID3v2 length warning for %s, whose tag ends in zero padding as the standard allows",
    async (name) => {
      const result = await extractFile(name);
      expect(result.warnings.filter((warning) => /ID3v2/.test(warning))).toEqual([]);
    },
  );

  const cuts = (size: number) => [
    ...new Set([1, 12, 64, 300, 2048, Math.floor(size / 3), Math.floor(size * 0.9)]),
  ];
  it.each(mediaEntries.map((entry) => [entry.name] as const))(
    "%s cut at several offsets never throws",
    async (name) => {
      const bytes = readFileSync(corpusFile(name));
      for (const cut of cuts(bytes.byteLength).filter((at) => at < bytes.byteLength)) {
        const result = await extract(new BufferSource(bytes.subarray(0, cut), name), {
          budget: { maxMillis: 2000 },
        });
        expect(["ok", "partial", "error"], `${name} cut at ${cut}`).toContain(result.status);
        expect(result.durationMs, `${name} cut at ${cut}`).toBeLessThan(2500);
      }
    },
  );
});

describe("time budget", () => {
  it("stops music-metadata at its next read once the deadline has passed, cached bytes included", async () => {
    const bytes = readFileSync(corpusFile("musicmetadata-id3v2.4.mp3"));
    const reader = new BlockReader(new BufferSource(bytes));
    await reader.prefetch([{ offset: 0, length: bytes.byteLength }]);
    const deadline = new AbortController();
    deadline.abort();
    const parsing = parseTaggedAudio(
      reader,
      "audio/mpeg",
      "MPEG",
      deadline.signal,
      () => {},
      () => {},
    );
    await expect(parsing).rejects.toBeInstanceOf(LimitExceededError);
  });
});

/** A FLAC stream of a STREAMINFO block (44.1 kHz stereo, no samples) and a Vorbis comment block, no frames. */
function flacWithComments(comments: string[]): Uint8Array {
  const u32le = (value: number) => Buffer.from(Uint32Array.of(value).buffer);
  const header = (last: boolean, type: number, length: number) =>
    Uint8Array.of((last ? 0x80 : 0) | type, length >> 16, (length >> 8) & 0xff, length & 0xff);
  const info = new Uint8Array(34);
  info.set([0x10, 0x00, 0x10, 0x00]); // block sizes 4096
  info.set([0x0a, 0xc4, 0x42, 0xf0], 10); // 44100 Hz, 2 channels, 16 bits
  const vendor = "test";
  const body = concatBytes(
    u32le(vendor.length),
    vendor,
    u32le(comments.length),
    ...comments.flatMap((comment) => [u32le(Buffer.byteLength(comment)), Buffer.from(comment)]),
  );
  return concatBytes("fLaC", header(false, 0, info.length), info, header(true, 4, body.length), body);
}
