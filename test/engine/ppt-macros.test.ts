import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";
import {
  buildCfb,
  buildPowerPointStreams,
  type PptSave,
  type PptStreams,
  readCfbWithWarnings,
  STREAM_PLACEMENTS,
} from "../support/cfb.js";

/**
 * VBA projects in legacy PowerPoint files (.ppt, .pps, .pot): compressed
 * inside the PowerPoint Document stream, where the current edit's persist
 * directory leads to the DocumentContainer and its VBAInfoAtom. Presentations
 * are built byte by byte; the corpus holds no .ppt.
 */

const PLAIN = { kind: "cfb", application: "Microsoft PowerPoint", encrypted: false } as const;
const MACROS = { ...PLAIN, macros: true } as const;

function run(bytes: Uint8Array, name = "deck.ppt") {
  return extract(new BufferSource(bytes, name), { name });
}

/** readCfb on its own, for the warnings it gives. */
function read(bytes: Uint8Array, budget?: { maxBytes: number; maxRequests: number }) {
  return readCfbWithWarnings(bytes, "deck.ppt", budget);
}

function ppt(streams: Pick<PptStreams, "currentUser" | "document">, options: { scattered?: boolean } = {}) {
  return buildCfb(
    [
      { name: "Current User", content: streams.currentUser },
      { name: "PowerPoint Document", content: streams.document },
    ],
    options,
  );
}

/** A presentation saved once, its DocumentContainer built from `document`. */
function saved(document: PptSave["document"] = {}): PptStreams {
  return buildPowerPointStreams([{ document }]);
}

describe("legacy PowerPoint macros", () => {
  it.each(STREAM_PLACEMENTS)(
    "are reported for a VBAInfoAtom whose fHasMacros is 1, %s",
    async (_label, filler, layout) => {
      const bytes = ppt(saved({ hasMacros: 1, ...filler }), layout);
      const result = await run(bytes);
      expect(result.status).toBe("ok");
      expect(result.document).toEqual(MACROS);
      expect(result.warnings).toEqual([]);
    },
  );

  it.each(["deck.ppt", "show.pps", "template.pot"])("are reported for %s alike", async (name) => {
    const result = await run(ppt(saved({ hasMacros: 1 })), name);
    expect(result.document).toEqual(MACROS);
  });

  it.each([
    ["a document without a VBAInfoContainer", {}],
    ["a VBAInfoAtom whose fHasMacros is 0", { hasMacros: 0 }],
    ["a VBAInfoAtom whose fHasMacros is 0, in regular sectors", { hasMacros: 0, filler: 5000 }],
  ])("are absent for %s", async (_label, document) => {
    const bytes = ppt(saved(document), { scattered: true });
    const result = await run(bytes);
    expect(result.status).toBe("ok");
    expect(result.document).toEqual(PLAIN);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    [
      "reported from a DocumentContainer a fast save left alone",
      [{ document: { hasMacros: 1 } }, {}],
      MACROS,
    ],
    ["reported when a fast save adds a project", [{ document: {} }, { document: { hasMacros: 1 } }], MACROS],
    [
      "absent when a fast save removes the project",
      [{ document: { hasMacros: 1 } }, {}, { document: {} }],
      PLAIN,
    ],
  ] as const)("are %s", async (_label, saves, expected) => {
    const { document, warnings } = await read(ppt(buildPowerPointStreams(saves)));
    expect(document).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it("are read from a few sectors, not the whole stream", async () => {
    const bytes = ppt(saved({ hasMacros: 1, filler: 60_000, fillerRecord: 60_000 }));
    const { document, reader } = await read(bytes);
    expect(document).toEqual(MACROS);
    expect(reader.stats.bytesRead).toBeLessThan(12 * 512);
    expect(bytes.byteLength).toBeGreaterThan(60_000);
  });

  it("are left unset for an encrypted presentation, which is reported as encrypted", async () => {
    const bytes = ppt(buildPowerPointStreams([{ document: { hasMacros: 1 } }], { encrypted: true }));
    const result = await run(bytes);
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ ...PLAIN, encrypted: true });
    expect(result.warnings).toEqual(["PowerPoint macros not checked: the presentation is encrypted"]);
  });

  it("are read when an encryption session id names no CryptSession10Container", async () => {
    const { currentUser, document, at } = saved({ hasMacros: 1 });
    // The last record is the UserEditAtom: lengthened by an encryptSessionPersistIdRef, 2, a slide's.
    const lengthened = Buffer.concat([patch32(document, at.userEdit + 4, 0x20), Buffer.from([2, 0, 0, 0])]);
    const { document: info, warnings } = await read(ppt({ currentUser, document: lengthened }));
    expect(info).toEqual(MACROS);
    expect(warnings).toEqual([]);
  });

  /** Damage to one presentation with macros, and the warning it gives. */
  const damaged: [string, (streams: PptStreams) => Partial<PptStreams>, string][] = [
    [
      "a Current User stream cut short",
      ({ currentUser }) => ({ currentUser: currentUser.subarray(0, 16) }),
      "holds no CurrentUserAtom",
    ],
    [
      "an offsetToCurrentEdit past the stream",
      ({ currentUser, document }) => ({ currentUser: patch32(currentUser, 16, document.byteLength + 100) }),
      "runs past the PowerPoint Document stream",
    ],
    [
      "an offsetToCurrentEdit at another record",
      ({ currentUser }) => ({ currentUser: patch32(currentUser, 16, 0) }),
      "no UserEditAtom at byte 0",
    ],
    [
      "a persist directory entry longer than its atom",
      ({ document, at }) => ({
        document: patch32(document, at.persistDirectory + 8, ((9 << 20) | 1) >>> 0),
      }),
      "runs past its atom",
    ],
    [
      "a DocumentContainer in no persist directory",
      ({ document, at }) => ({ document: patch32(document, at.userEdit + 8 + 16, 9) }),
      "no persist directory lists persist object 9",
    ],
    [
      "a UserEditAtom naming itself as its previous edit",
      ({ document, at }) => ({
        document: patch32(patch32(document, at.userEdit + 8 + 16, 9), at.userEdit + 8 + 8, at.userEdit),
      }),
      "names a later one as its previous edit",
    ],
    [
      "a DocumentContainer longer than the stream",
      ({ document, at }) => ({ document: patch32(document, at.document + 4, 0x7fff_0000) }),
      "record 0x03e8 at byte 0 runs past the PowerPoint Document stream",
    ],
    [
      "a DocInfoList longer than its DocumentContainer",
      ({ document, at }) => ({ document: patch32(document, (at.docInfoList as number) + 4, 5000) }),
      "runs past its container",
    ],
    [
      "a VBAInfoContainer without its atom",
      ({ document, at }) => ({ document: patch16(document, (at.vbaInfoAtom as number) + 2, 0x0401) }),
      "holds no VBAInfoAtom",
    ],
    [
      "a persist object that is no DocumentContainer",
      ({ document, at }) => ({ document: patch16(document, at.document + 2, 0x03ee) }),
      "persist object 1 at byte 0 is no DocumentContainer",
    ],
  ];

  it.each(damaged)("are left unset, with a warning, for %s", async (_label, damage, warning) => {
    const streams = buildPowerPointStreams([{ document: { hasMacros: 1, filler: 100 } }]);
    const bytes = ppt({ ...streams, ...damage(streams) });
    const { document, warnings } = await read(bytes);
    expect(document).not.toHaveProperty("macros");
    expect(document).not.toHaveProperty("encrypted");
    expect(warnings).toEqual([expect.stringContaining(warning)]);
    const result = await run(bytes);
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "cfb", application: "Microsoft PowerPoint" });
    expect(result.warnings).toEqual(warnings);
  });

  it("are left unset, with a warning, without a Current User stream", async () => {
    const bytes = buildCfb([{ name: "PowerPoint Document", content: saved({ hasMacros: 1 }).document }]);
    const result = await run(bytes);
    expect(result.status).toBe("ok");
    expect(result.document).toEqual({ kind: "cfb", application: "Microsoft PowerPoint" });
    expect(result.warnings).toEqual(["PowerPoint macros not checked: no Current User stream"]);
  });

  it("are left unset, with a warning, when the read budget runs out before the VBAInfoAtom", async () => {
    const bytes = ppt(saved({ hasMacros: 1, filler: 20_000 }));
    const { document, warnings, reader } = await read(bytes, { maxBytes: 8 * 512, maxRequests: 100 });
    expect(document).toEqual({ kind: "cfb", application: "Microsoft PowerPoint" });
    expect(warnings).toEqual([expect.stringContaining("read budget of 4096 bytes exhausted")]);
    expect(reader.limitReached).toBe("bytes");
  });

  it("are left unset, with a warning, past 256 KiB of record headers", async () => {
    const bytes = ppt(saved({ hasMacros: 1, filler: 300_000, fillerRecord: 0 }));
    const { document, warnings } = await read(bytes);
    expect(document).toEqual({ kind: "cfb", application: "Microsoft PowerPoint" });
    expect(warnings).toEqual([expect.stringContaining("exceeds the limit of 262144")]);
  });
});

function patch16(bytes: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt16LE(value, at);
  return out;
}

function patch32(bytes: Buffer, at: number, value: number): Buffer {
  const out = Buffer.from(bytes);
  out.writeUInt32LE(value, at);
  return out;
}
