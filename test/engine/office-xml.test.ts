import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BufferSource, extract } from "../../src/engine/index.js";

/**
 * Office packages built by hand around hostile or unusual metadata parts:
 * DTDs declaring entities, odd namespace prefixes, Strict OOXML namespaces.
 */

/** A deflated ZIP of `parts` (CRCs left zero: the reader does not check them). */
function buildZip(parts: Record<string, string>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [path, content] of Object.entries(parts)) {
    const name = Buffer.from(path, "utf8");
    const data = Buffer.from(content, "utf8");
    const body = deflateRawSync(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(body.byteLength, 18);
    local.writeUInt32LE(data.byteLength, 22);
    local.writeUInt16LE(name.byteLength, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(body.byteLength, 20);
    central.writeUInt32LE(data.byteLength, 24);
    central.writeUInt16LE(name.byteLength, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.byteLength + name.byteLength + body.byteLength;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}

const CONTENT_TYPES =
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

const APP =
  '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">' +
  "<Application>Writer</Application><Pages>3</Pages></Properties>";

function core(prolog: string, title: string): string {
  return (
    `<?xml version="1.0"?>${prolog}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
    `xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${title}</dc:title><dc:creator>Ann</dc:creator></cp:coreProperties>`
  );
}

function docx(coreXml: string, app = APP) {
  const bytes = buildZip({
    "[Content_Types].xml": CONTENT_TYPES,
    "word/document.xml": "<w:document/>",
    "docProps/core.xml": coreXml,
    "docProps/app.xml": app,
  });
  return extract(new BufferSource(bytes, "built.docx"), { name: "built.docx" });
}

describe("OOXML core properties with a DTD", () => {
  it.each([
    ["an internal entity", '<!DOCTYPE cp [<!ENTITY a "Injected">]>', "T &a;", "T &a;"],
    ["an external entity", '<!DOCTYPE cp [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "T &xxe;", "T &xxe;"],
    [
      "nested entities (billion laughs)",
      '<!DOCTYPE cp [<!ENTITY l "lol"><!ENTITY l1 "&l;&l;&l;&l;&l;&l;&l;&l;"><!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;">]>',
      "&l2;",
      "&l2;",
    ],
    [
      "a '>' quoted in the subset",
      '<!DOCTYPE cp [<!ENTITY g "a>b"><!-- ]> -->]>',
      "T &g; &amp; &#233;",
      "T &g; & é",
    ],
  ])("expand none of %s and keep every field", async (_label, prolog, title, expected) => {
    const result = await docx(core(prolog, title));
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({
      kind: "ooxml",
      title: expected,
      creator: "Ann",
      application: "Writer",
      pages: 3,
    });
  });
});

describe("OOXML core properties with elements named like JavaScript internals", () => {
  it.each(["constructor", "__proto__", "prototype"])("keep every field beside a <cp:%s>", async (name) => {
    const xml =
      '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ' +
      `xmlns:dc="http://purl.org/dc/elements/1.1/"><cp:${name} cp:${name}="1">x</cp:${name}>` +
      "<dc:title>Kept</dc:title></cp:coreProperties>";
    const result = await docx(xml);
    expect(result.status).toBe("ok");
    expect(result.document).toMatchObject({ title: "Kept", application: "Writer" });
    expect(Object.getPrototypeOf(result.document)).toBe(Object.prototype);
  });
});

describe("OOXML core properties with unusual namespaces", () => {
  it("read elements under any prefix", async () => {
    const xml =
      '<ns0:coreProperties xmlns:ns0="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ' +
      'xmlns:ns1="http://purl.org/dc/elements/1.1/"><ns1:title>Odd</ns1:title></ns0:coreProperties>';
    const result = await docx(xml);
    expect(result.document).toMatchObject({ title: "Odd" });
  });

  it("read Strict OOXML extended properties", async () => {
    const app =
      '<Properties xmlns="http://purl.oclc.org/ooxml/officeDocument/extendedProperties">' +
      "<Application>Strict</Application><Pages>7</Pages></Properties>";
    const result = await docx(core("", "S"), app);
    expect(result.document).toMatchObject({ title: "S", application: "Strict", pages: 7 });
  });
});
