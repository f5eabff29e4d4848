import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";

/**
 * A Sun/NeXT audio file as Python's sunau module and sox write one: the
 * 24-byte big-endian header, an annotation padded to the data offset, then
 * `dataBytes` of silence. `declared` overrides the data size in the header
 * (0xffffffff: unknown, as a writer streaming to a pipe leaves it).
 */
function au({
  encoding,
  rate,
  channels,
  dataBytes,
  declared = dataBytes,
  annotation = "",
}: {
  encoding: number;
  rate: number;
  channels: number;
  dataBytes: number;
  declared?: number;
  annotation?: string;
}) {
  const dataOffset = 24 + Math.ceil((annotation.length + 1) / 8) * 8;
  const bytes = new Uint8Array(dataOffset + dataBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(".snd"));
  view.setUint32(4, dataOffset);
  view.setUint32(8, declared);
  view.setUint32(12, encoding);
  view.setUint32(16, rate);
  view.setUint32(20, channels);
  bytes.set(new TextEncoder().encode(annotation), 24);
  return bytes;
}

// `file` says of these "Sun/NeXT audio data: 16-bit linear PCM, stereo, 11025 Hz" and the like;
// file-type and music-metadata know nothing of the format, so the engine called it application/octet-stream.
describe("Sun/NeXT audio", () => {
  it("is detected by its .snd magic number and read for its encoding, rate, channels and length", async () => {
    // Prepare: 16-bit PCM, stereo, 11,025 Hz, half a second.
    const bytes = au({ encoding: 3, rate: 11_025, channels: 2, dataBytes: 22_050 });
    // Act
    const result = await extract(new BufferSource(bytes, "pluck.au"), { name: "pluck.au" });
    // Assess
    expect(result.status).toBe("ok");
    expect(result.format).toMatchObject({
      mime: "audio/basic",
      ext: "au",
      category: "audio",
      mismatch: false,
    });
    expect(result.media).toEqual({
      container: "AU",
      codecs: ["PCM"],
      sampleRate: 11_025,
      channels: 2,
      bitrate: 352_800,
      duration: 0.5,
    });
  });

  it.each([
    [1, "µ-law", 8],
    [27, "A-law", 8],
    [6, "32-bit float", 32],
    [23, "G.721 ADPCM", 4],
  ])("names encoding %i %j, %i bits a sample", async (encoding, codec, bits) => {
    const bytes = au({ encoding, rate: 8000, channels: 1, dataBytes: bits * 1000, annotation: "voice" });
    const result = await extract(new BufferSource(bytes, "voice.snd"), { name: "voice.snd" });
    expect(result.status).toBe("ok");
    expect(result.format.mismatch).toBe(false);
    expect(result.media).toMatchObject({ codecs: [codec], duration: 1, bitrate: bits * 8000 });
  });

  it("takes the length from the bytes after the header when the header leaves the size unknown", async () => {
    const bytes = au({ encoding: 1, rate: 8000, channels: 1, dataBytes: 4000, declared: 0xffffffff });
    const result = await extract(new BufferSource(bytes, "stream.au"));
    expect(result.status).toBe("ok");
    expect(result.media?.duration).toBe(0.5);
  });

  it("cut short, is truncated and lasts as long as the data left", async () => {
    // Prepare: a second of 8-bit mono µ-law, three quarters of its data gone.
    const whole = au({ encoding: 1, rate: 8000, channels: 1, dataBytes: 8000 });
    const cut = whole.subarray(0, whole.byteLength - 6000);
    // Act
    const result = await extract(new BufferSource(cut, "cut.au"));
    // Assess
    expect(result.status).toBe("partial");
    expect(result.reason).toBe("truncated: the file is shorter than its header states");
    expect(result.media?.duration).toBe(0.25);
    expect(result.warnings).toContain(
      "AU: cut short: the data promises 8000 bytes, the file has 2000; duration counts those",
    );
  });

  it("with a data offset inside its header is a content error", async () => {
    const bytes = au({ encoding: 3, rate: 8000, channels: 1, dataBytes: 100 });
    new DataView(bytes.buffer).setUint32(4, 8);
    const result = await extract(new BufferSource(bytes, "bad.au"));
    expect(result.status).toBe("error");
    expect(result.reason).toBe("AU: data offset 8 lies inside the header");
  });

  it.each([4, 10, 23, 24, 30])("cut at %i bytes never throws", async (length) => {
    const bytes = au({ encoding: 3, rate: 8000, channels: 1, dataBytes: 100, annotation: "x" }).subarray(
      0,
      length,
    );
    const result = await extract(new BufferSource(bytes, "tiny.au"), { budget: { maxMillis: 2000 } });
    expect(["ok", "partial", "error"]).toContain(result.status);
    if (result.status !== "ok") expect(result.reason).toBeTruthy();
  });
});
