import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FormatInfo } from "../../src/engine/index.js";
import {
  DEFAULT_POLICY,
  evaluate,
  loadPolicy,
  type Policy,
  PolicyError,
  parsePolicy,
  precheck,
} from "../../src/policy/policy.js";

const PNG: FormatInfo = { mime: "image/png", ext: "png", category: "image", mismatch: false };
const ZIP: FormatInfo = { mime: "application/zip", ext: "zip", category: "archive", mismatch: false };
const SVG: FormatInfo = { mime: "image/svg+xml", ext: "svg", category: "image", mismatch: false };
const PDF_AS_JPG: FormatInfo = {
  mime: "application/pdf",
  ext: "pdf",
  category: "pdf",
  declaredExt: "jpg",
  mismatch: true,
  mismatchReason: "extension .jpg suggests image/jpeg but content is application/pdf",
};

describe("DEFAULT_POLICY", () => {
  it("accepts everything, flags mismatches only, tags nothing, hashes up to 16 MiB", () => {
    expect(DEFAULT_POLICY).toEqual({
      onMismatch: "flag",
      rejectMacros: false,
      tagRejected: false,
      hashMaxBytes: 16 * 1024 * 1024,
    });
    for (const format of [PNG, ZIP, SVG, PDF_AS_JPG]) {
      expect(evaluate(DEFAULT_POLICY, { key: "tmp/any", size: 10 ** 12, format })).toEqual([]);
    }
  });
});

describe("parsePolicy", () => {
  it("fills what is left out from the defaults and normalises MIME case", () => {
    expect(parsePolicy({ allowedMimes: ["Image/*"], maxSizeBytes: 100, deniedPrefixes: ["tmp/"] })).toEqual({
      ...DEFAULT_POLICY,
      allowedMimes: ["image/*"],
      maxSizeBytes: 100,
      deniedPrefixes: ["tmp/"],
    });
  });

  it("accepts a complete policy", () => {
    const full: Policy = {
      allowedCategories: ["image", "pdf"],
      allowedMimes: ["application/zip"],
      deniedMimes: ["image/svg+xml"],
      maxSizeBytes: 1024,
      deniedPrefixes: ["private/"],
      onMismatch: "reject",
      rejectMacros: true,
      tagRejected: true,
      hashMaxBytes: 0,
    };
    expect(parsePolicy(full)).toEqual(full);
  });

  it.each([
    ["a non-object", [], /policy must be a JSON object/],
    ["null", null, /policy must be a JSON object/],
    ["an unknown (misspelt) field", { maxSize: 10 }, /policy\.maxSize is not a known field/],
    [
      "an unknown category",
      { allowedCategories: ["images"] },
      /policy\.allowedCategories\[0\] "images" is not a category/,
    ],
    [
      "categories not in an array",
      { allowedCategories: "image" },
      /policy\.allowedCategories must be an array/,
    ],
    [
      "a bad MIME type",
      { allowedMimes: ["image/png", "png"] },
      /policy\.allowedMimes\[1\] "png" is not a MIME type/,
    ],
    ["a non-string MIME type", { deniedMimes: [7] }, /policy\.deniedMimes\[0\] must be a string/],
    ["a negative size", { maxSizeBytes: -1 }, /policy\.maxSizeBytes must be a whole number/],
    ["a fractional size", { hashMaxBytes: 1.5 }, /policy\.hashMaxBytes must be a whole number/],
    ["a size as text", { maxSizeBytes: "10MB" }, /policy\.maxSizeBytes must be a whole number/],
    ["an empty prefix", { deniedPrefixes: [""] }, /policy\.deniedPrefixes\[0\] "" is empty/],
    ["an unknown mismatch action", { onMismatch: "warn" }, /policy\.onMismatch must be "flag" or "reject"/],
    [
      "a macro rule that is not a boolean",
      { rejectMacros: "yes" },
      /policy\.rejectMacros must be true or false/,
    ],
    ["tagRejected as text", { tagRejected: "yes" }, /policy\.tagRejected must be true or false/],
  ])("rejects %s, naming the field", (_, json, message) => {
    expect(() => parsePolicy(json)).toThrow(PolicyError);
    expect(() => parsePolicy(json)).toThrow(message);
  });
});

describe("loadPolicy", () => {
  it("returns the default when given nothing", async () => {
    expect(await loadPolicy({})).toEqual(DEFAULT_POLICY);
    expect(await loadPolicy({ json: "  " })).toEqual(DEFAULT_POLICY);
  });

  it("reads inline JSON and files", async () => {
    expect(await loadPolicy({ json: '{"maxSizeBytes": 5}' })).toMatchObject({ maxSizeBytes: 5 });
    const dir = await mkdtemp(join(tmpdir(), "policy-"));
    const file = join(dir, "policy.json");
    await writeFile(file, JSON.stringify({ onMismatch: "reject", tagRejected: true }));
    expect(await loadPolicy({ file })).toMatchObject({ onMismatch: "reject", tagRejected: true });
  });

  it.each([
    [{ json: "{oops" }, /policy JSON is not valid JSON/],
    [{ json: '{"maxSizeBytes": -3}' }, /policy\.maxSizeBytes/],
    [{ file: "/nonexistent/policy.json" }, /policy file \/nonexistent\/policy\.json cannot be read/],
    [{ json: "{}", file: "/x.json" }, /not both/],
  ])("fails clearly for %j", async (source, message) => {
    await expect(loadPolicy(source)).rejects.toThrow(message);
    await expect(loadPolicy(source)).rejects.toBeInstanceOf(PolicyError);
  });

  it("names the file when its content is invalid", async () => {
    const dir = await mkdtemp(join(tmpdir(), "policy-"));
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify({ allowedCategories: ["pictures"] }));
    await expect(loadPolicy({ file })).rejects.toThrow(`policy file ${file}: policy.allowedCategories[0]`);
  });
});

describe("precheck", () => {
  const policy = parsePolicy({ maxSizeBytes: 1000, deniedPrefixes: ["tmp/", "private/"] });
  it.each([
    ["ok.png", 1000, []],
    ["big.png", 1001, ["size 1001 bytes exceeds the limit of 1000 bytes"]],
    ["tmp/x.png", 10, ['key is under the denied prefix "tmp/"']],
    ["tmpfile.png", 10, []],
    [
      "private/big",
      5000,
      ["size 5000 bytes exceeds the limit of 1000 bytes", 'key is under the denied prefix "private/"'],
    ],
  ])("%s of %i bytes -> %j", (key, size, reasons) => {
    expect(precheck(policy, { key, size })).toEqual(reasons);
  });

  it("says one byte, not one bytes", () => {
    expect(precheck(parsePolicy({ maxSizeBytes: 1 }), { key: "k", size: 2 })).toEqual([
      "size 2 bytes exceeds the limit of 1 byte",
    ]);
    expect(precheck(parsePolicy({ maxSizeBytes: 0 }), { key: "k", size: 1 })).toEqual([
      "size 1 byte exceeds the limit of 0 bytes",
    ]);
  });
});

describe("evaluate", () => {
  const cases: [string, Partial<Policy>, FormatInfo, string[]][] = [
    ["category allowed", { allowedCategories: ["image"] }, PNG, []],
    [
      "category refused",
      { allowedCategories: ["image", "pdf"] },
      ZIP,
      ["application/zip (archive) is not allowed: the policy allows only the categories image and pdf"],
    ],
    [
      "category refused, one allowed",
      { allowedCategories: ["image"] },
      ZIP,
      ["application/zip (archive) is not allowed: the policy allows only the category image"],
    ],
    ["MIME wildcard allowed", { allowedMimes: ["image/*"] }, PNG, []],
    [
      "MIME refused",
      { allowedMimes: ["image/*"] },
      ZIP,
      ["application/zip (archive) is not allowed: the policy allows only the type image/*"],
    ],
    [
      "refused by both allow-lists",
      { allowedCategories: ["image", "pdf", "text"], allowedMimes: ["audio/*", "video/mp4"] },
      ZIP,
      [
        "application/zip (archive) is not allowed: the policy allows only the categories image, pdf, and text, " +
          "and the types audio/* and video/mp4",
      ],
    ],
    [
      "empty allow-lists",
      { allowedCategories: [], allowedMimes: [] },
      PNG,
      ["image/png (image) is not allowed: the policy allows nothing"],
    ],
    ["either allow-list admits", { allowedCategories: ["pdf"], allowedMimes: ["application/zip"] }, ZIP, []],
    [
      "deny beats allow",
      { allowedCategories: ["image"], deniedMimes: ["image/svg+xml"] },
      SVG,
      ["image/svg+xml is a denied type"],
    ],
    [
      "deny by wildcard",
      { deniedMimes: ["image/*"] },
      PNG,
      ["image/png is denied, as every image/* type is"],
    ],
    [
      "deny by the type itself, listed after a wildcard covering it",
      { deniedMimes: ["image/*", "image/svg+xml"] },
      SVG,
      ["image/svg+xml is a denied type"],
    ],
    ["mismatch flagged only", { onMismatch: "flag" }, PDF_AS_JPG, []],
    [
      "mismatch rejected",
      { onMismatch: "reject" },
      PDF_AS_JPG,
      ["extension .jpg suggests image/jpeg but content is application/pdf"],
    ],
    [
      "mismatch rejected, no reason given",
      { onMismatch: "reject" },
      { ...PDF_AS_JPG, mismatchReason: undefined } as FormatInfo,
      ["declared .jpg but content is application/pdf"],
    ],
    [
      "mismatch rejected, no reason and nothing declared given",
      { onMismatch: "reject" },
      { ...PDF_AS_JPG, mismatchReason: undefined, declaredExt: undefined } as FormatInfo,
      ["declared type contradicts the content, which is application/pdf"],
    ],
    [
      "MIME parameters and case ignored",
      { allowedMimes: ["text/plain"] },
      {
        mime: "Text/Plain; charset=utf-8",
        ext: "txt",
        category: "text",
        mismatch: false,
      },
      [],
    ],
  ];
  it.each(cases)("%s", (_, overrides, format, reasons) => {
    expect(evaluate({ ...DEFAULT_POLICY, ...overrides }, { key: "k", size: 1, format })).toEqual(reasons);
  });

  it("rejects a document carrying macros only when the policy says so", () => {
    const DOCX: FormatInfo = {
      mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      ext: "docx",
      category: "document",
      mismatch: false,
    };
    const object = { key: "k.docx", size: 1, format: DOCX, macros: true };
    expect(evaluate(DEFAULT_POLICY, object)).toEqual([]);
    expect(evaluate({ ...DEFAULT_POLICY, rejectMacros: true }, object)).toEqual([
      "document carries macros (document.macros)",
    ]);
    expect(evaluate({ ...DEFAULT_POLICY, rejectMacros: true }, { ...object, macros: false })).toEqual([]);
  });

  it("includes the pre-check reasons", () => {
    const policy = { ...DEFAULT_POLICY, maxSizeBytes: 1, allowedCategories: ["pdf" as const] };
    expect(evaluate(policy, { key: "k", size: 2, format: PNG })).toEqual([
      "size 2 bytes exceeds the limit of 1 byte",
      "image/png (image) is not allowed: the policy allows only the category pdf",
    ]);
  });
});
