import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { findSvgRoot } from "../../src/engine/extractors/image/svg.js";
import { concatBytes } from "../support/bytes.js";

/**
 * Hostile SVG built by hand: markup that only looks like the root or the
 * title, a head window cut inside the title, nesting and unterminated
 * constructs. SVG is uploaded by anyone, so the title must come from the
 * root's own `<title>` child or from nowhere, and every pass stays linear.
 */

function extractBytes(bytes: Uint8Array, name: string) {
  return extract(new BufferSource(bytes, name), { name });
}

const ROOT = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="20">';
const HEAD_WINDOW = 64 * 1024;

describe("SVG root element", () => {
  it("is not an <svg> quoted in a comment before it", async () => {
    // Prepare: a usage example in a leading comment, then the real root.
    const bytes = concatBytes(
      '<?xml version="1.0"?>\n<!-- usage: <svg width="1" height="1"><title>from a comment</title></svg> -->\n',
      ROOT,
      "<title>real</title></svg>",
    );

    // Act
    const result = await extractBytes(bytes, "commented.svg");

    // Assess
    expect(result.image).toEqual({ width: 10, height: 20, exif: { title: "real" } });
  });

  it("is not markup written in an entity value of the internal DTD subset", async () => {
    // Prepare: an internal subset whose entity value holds a whole <svg> with a title, and a '>' in a quoted value.
    const bytes = concatBytes(
      '<?xml version="1.0"?>\n<!DOCTYPE svg [\n',
      "  <!ENTITY fake \"<svg width='1' height='1'><title>from the DTD</title></svg>\">\n",
      "  <!-- a comment in the subset with a ] and a > -->\n",
      "]>\n",
      ROOT,
      "<title>real &fake;</title></svg>",
    );

    // Act
    const result = await extractBytes(bytes, "dtd.svg");

    // Assess: the size and title are the real root's; the declared entity stays unexpanded.
    expect(result.image).toEqual({ width: 10, height: 20, exif: { title: "real &fake;" } });
  });

  it("is not found inside a DOCTYPE whose internal subset never closes", async () => {
    // Prepare: detection names it SVG from the DOCTYPE; everything after '[' is still the subset.
    const bytes = concatBytes('<!DOCTYPE svg [ <!ENTITY a "x"> ', ROOT, "<title>t</title></svg>");

    // Act
    const result = await extractBytes(bytes, "cut.svg");

    // Assess
    expect(result.format.mime).toBe("image/svg+xml");
    expect(result.warnings).toEqual(["SVG: no <svg> root element in the head window"]);
    expect(result.image).toBeUndefined();
  });
});

describe("SVG root element with a namespace prefix", () => {
  const SVG_NS = "http://www.w3.org/2000/svg";

  it("is SVG's when its prefix is bound to the SVG namespace, and its title is the prefixed title child", async () => {
    const bytes = concatBytes(
      `<svg:svg xmlns:svg="${SVG_NS}" width="40" height="30">`,
      "<svg:desc>d</svg:desc><svg:title>T</svg:title></svg:svg>",
    );
    const result = await extractBytes(bytes, "prefixed.svg");
    expect(result.warnings).toEqual([]);
    expect(result.image).toEqual({ width: 40, height: 30, exif: { title: "T" } });
  });

  it.each([
    ["bound to another namespace", '<svg:svg xmlns:svg="urn:not-svg" width="40" height="30">'],
    ["bound nowhere", '<svg:svg width="40" height="30">'],
    [
      "bound on a later element only",
      '<svg:svg width="40" height="30"><g xmlns:svg="http://www.w3.org/2000/svg">',
    ],
  ])("is not SVG's when its prefix is %s, and the document is detected as XML", async (_, start) => {
    const text = `${start}<svg:title>T</svg:title></svg:svg>`;
    const result = await extractBytes(concatBytes(text), "other.svg");
    expect(findSvgRoot(text)).toBeUndefined();
    expect(result.format).toMatchObject({ mime: "application/xml", mismatch: true });
    expect(result.warnings).toEqual([]);
    expect(result.image).toBeUndefined();
  });

  it("is not SVG's when unprefixed but in another default namespace, and the document is XML", async () => {
    const text = '<svg xmlns="urn:not-svg" width="40" height="30"><title>T</title></svg>';
    const result = await extractBytes(concatBytes(text), "default-other.svg");
    expect(findSvgRoot(text)).toBeUndefined();
    expect(result.format.mime).toBe("application/xml");
    expect(result.warnings).toEqual([]);
    expect(result.image).toBeUndefined();
  });

  it.each([
    [
      "an unprefixed title outside any default namespace",
      `<s:svg xmlns:s="${SVG_NS}"><title>T</title>`,
      undefined,
    ],
    [
      "an unprefixed title in the default SVG namespace",
      `<s:svg xmlns:s="${SVG_NS}" xmlns="${SVG_NS}"><title>T</title>`,
      "T",
    ],
    [
      "a title whose own start tag binds its prefix",
      `<s:svg xmlns:s="${SVG_NS}"><t:title xmlns:t="${SVG_NS}">T</t:title>`,
      "T",
    ],
    [
      "a Dublin Core title",
      '<svg><dc:title xmlns:dc="http://purl.org/dc/elements/1.1/">DC</dc:title><title>T</title>',
      "T",
    ],
    [
      "a title that redeclares the default namespace",
      '<svg><title xmlns="urn:not-svg">X</title><title>T</title>',
      "T",
    ],
  ])("takes as its title %s only when it is in the SVG namespace", async (_, start, title) => {
    const bytes = concatBytes(start.replace(/>/, ' width="4" height="3">'), "</svg>");
    const result = await extractBytes(bytes, "title-ns.svg");
    expect(result.image).toMatchObject({ width: 4, height: 3 });
    expect(result.image?.exif?.title).toBe(title);
  });
});

describe("SVG size", () => {
  it("is read from a root start tag longer than 1000 characters", async () => {
    const bytes = concatBytes(
      `<svg xmlns="http://www.w3.org/2000/svg" data-x="${"y".repeat(1200)}" width="40" height="30"/>`,
    );
    const result = await extractBytes(bytes, "long-root.svg");
    expect(result.image).toEqual({ width: 40, height: 30 });
  });

  it("is not a width written inside another attribute's value", async () => {
    const bytes = concatBytes(
      `<svg xmlns="http://www.w3.org/2000/svg" data-x=" width='999'" width="40" height="30"/>`,
    );
    const result = await extractBytes(bytes, "quoted-width.svg");
    expect(result.image).toEqual({ width: 40, height: 30 });
  });

  it("is not a nested <svg>'s when the root states none", async () => {
    const bytes = concatBytes('<svg><svg width="5" height="6"/></svg>');
    const result = await extractBytes(bytes, "nested-size.svg");
    expect(result.warnings).toEqual(["SVG: the root element states no usable width, height or viewBox"]);
    expect(result.image).toBeUndefined();
  });
});

describe("SVG title", () => {
  it("ends only at its own end tag, not at one whose name merely starts with 'title'", async () => {
    const bytes = concatBytes(ROOT, "<title>a<titlex>b</titlex>c</title></svg>");
    const result = await extractBytes(bytes, "titlex.svg");
    expect(result.image?.exif?.title).toBe("abc");
  });

  it("does not expand an internal-DTD entity (&xxe; to a file, or a billion laughs)", async () => {
    // Prepare: an external entity to a local file and a nested expansion 10^9 characters long.
    const laughs = Array.from({ length: 9 }, (_, i) => {
      const inner = i === 0 ? "a" : `l${i - 1}`;
      return `<!ENTITY l${i} "&${inner};&${inner};&${inner};&${inner};&${inner};&${inner};&${inner};&${inner};&${inner};&${inner};">`;
    }).join("");
    const bytes = concatBytes(
      `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "lol">${laughs}]>`,
      ROOT,
      "<title>&xxe;&l8;</title></svg>",
    );

    // Act
    const result = await extractBytes(bytes, "xxe.svg");

    // Assess
    expect(result.image?.exif?.title).toBe("&xxe;&l8;");
  });

  it("is read up to the edge of the head window, and dropped (not cut short) when it straddles it", async () => {
    // Prepare: a comment pads the root's content so the title ends exactly at, then just past, 64 KiB.
    const titled = (closeAt: number) => {
      const tail = "<title>abcdefgh</title>";
      const pad = closeAt - ROOT.length - "<!---->".length - tail.length;
      return concatBytes(ROOT, `<!--${"p".repeat(pad)}-->`, tail, "</svg>");
    };

    // Act
    const inside = await extractBytes(titled(HEAD_WINDOW), "inside.svg");
    const straddling = await extractBytes(titled(HEAD_WINDOW + 4), "straddling.svg");

    // Assess
    expect(inside.image?.exif?.title).toBe("abcdefgh");
    expect(straddling.image).toEqual({ width: 10, height: 20 });
    expect(straddling.bytesRead).toBeLessThanOrEqual(straddling.size);
  });

  // One input per test: a scan that backtracks or loops over one of these hangs, and vitest's
  // per-test timeout (vitest.config.ts) ends it. How fast SVGs go is bench/extract.bench.ts's to measure.
  it.each([
    ["30,000 nested groups", concatBytes(ROOT, "<g>".repeat(30_000), "<title>deep</title>")],
    ["an unterminated comment", concatBytes(ROOT, "<!--", "x".repeat(200_000))],
    ["an unterminated CDATA section", concatBytes(ROOT, "<title><![CDATA[", "x".repeat(200_000))],
    ["an unterminated processing instruction", concatBytes(ROOT, "<?pi ", "x".repeat(200_000))],
    ["an unterminated attribute full of '>'", concatBytes(ROOT, '<g a="', "x>".repeat(100_000))],
    ["20,000 empty comments in a title", concatBytes(ROOT, "<title>", "<!---->".repeat(20_000), "</title>")],
    ["40,000 unclosed svg tags", concatBytes("<svg ".repeat(40_000))],
    [
      "30,000 quoted quotes in a prefixed root",
      concatBytes('<s:svg xmlns:s="http://www.w3.org/2000/svg"', " a='\"'".repeat(30_000), ">"),
    ],
    [
      "40,000 unterminated attributes in a prefixed root",
      concatBytes('<s:svg xmlns:s="http://www.w3.org/2000/svg"', ' a="'.repeat(40_000)),
    ],
    [
      "30,000 stray equals signs in a prefixed root",
      concatBytes('<s:svg xmlns:s="http://www.w3.org/2000/svg"', " = a =".repeat(30_000), ">"),
    ],
    ["an unterminated namespace declaration", concatBytes(ROOT, '<title xmlns:t="', "x".repeat(200_000))],
    ["30,000 unclosed prefixed titles", concatBytes(ROOT, "<t:title ".repeat(30_000))],
  ])("stays bounded over %s", async (_, bytes) => {
    const result = await extractBytes(bytes, "hostile.svg");
    expect(result.status).toBe("ok");
    expect(result.image?.exif).toBeUndefined();
    expect(result.bytesRead).toBeLessThan(200 * 1024);
  });
});
