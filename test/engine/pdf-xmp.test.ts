import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { parseXmpDate } from "../../src/engine/extractors/pdf/xmp.js";
import { FILE_ID, md5, OWNER, PADDING, PERMISSIONS, rc4 } from "../support/pdf-rc4.js";

/**
 * The XMP packet of the catalog's /Metadata stream, in PDFs written by hand:
 * which fields it gives, how it is weighed against the information
 * dictionary, and how it is read in encrypted files.
 */

/** A one-revision PDF with these object bodies (latin1, one character per byte) and trailer entries. */
function buildPdf(objects: Record<number, string>, trailer: string): Uint8Array {
  let text = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  const offsets: [number, number][] = [];
  for (const [num, body] of Object.entries(objects)) {
    offsets.push([Number(num), text.length]);
    text += `${num} 0 obj\n${body}\nendobj\n`;
  }
  const size = Math.max(...offsets.map(([num]) => num)) + 1;
  const xrefAt = text.length;
  text += "xref\n0 1\n0000000000 65535 f \n";
  for (const [num, offset] of offsets) text += `${num} 1\n${String(offset).padStart(10, "0")} 00000 n \n`;
  text += `trailer\n<</Size ${size}${trailer}>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(text, "latin1"));
}

/** A stream object's body around data given as bytes. */
function stream(dict: string, data: Uint8Array): string {
  return `<<${dict}/Length ${data.length}>>stream\n${Buffer.from(data).toString("latin1")}\nendstream`;
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "utf8"));
}

/** An XMP packet around rdf:Description contents. */
function packet(descriptions: string, more = ""): string {
  return (
    `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>${more}` +
    `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
    `${descriptions}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
  );
}

const NAMESPACES =
  'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"';

const FULL_XMP = packet(
  `<rdf:Description rdf:about="" ${NAMESPACES}>` +
    '<dc:title><rdf:Alt><rdf:li xml:lang="de">Bericht</rdf:li><rdf:li xml:lang="x-default">Report — Q3</rdf:li></rdf:Alt></dc:title>' +
    "<dc:creator><rdf:Seq><rdf:li>Ann Lee</rdf:li><rdf:li>Bo Chen</rdf:li></rdf:Seq></dc:creator>" +
    '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">Quarterly figures</rdf:li></rdf:Alt></dc:description>' +
    "<pdf:Keywords>sales, q3</pdf:Keywords>" +
    "<xmp:CreatorTool>Writer</xmp:CreatorTool>" +
    "<xmp:CreateDate>2024-01-31T12:00:00+01:00</xmp:CreateDate>" +
    "<xmp:ModifyDate>2024-02-01T08:30:00.25Z</xmp:ModifyDate>" +
    "<xmp:MetadataDate>2024-02-01T08:30:00Z</xmp:MetadataDate>" +
    "</rdf:Description>" +
    // The attribute form of a property, in a second description.
    '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" pdf:Producer="LibreOffice 7.6"/>',
);

const CATALOG = "<</Type/Catalog/Pages 2 0 R/Metadata 4 0 R>>";
const PAGES = "<</Type/Pages/Count 1/Kids[3 0 R]>>";
const PAGE = "<</Type/Page/Parent 2 0 R>>";

/** A plain PDF whose metadata stream holds `xmp` and whose trailer may name an Info dictionary (object 5). */
function pdfWithXmp(xmp: string | Uint8Array, info?: string, streamDict = "/Type/Metadata/Subtype/XML") {
  const data = typeof xmp === "string" ? utf8(xmp) : xmp;
  const objects: Record<number, string> = { 1: CATALOG, 2: PAGES, 3: PAGE, 4: stream(streamDict, data) };
  if (info) objects[5] = info;
  return buildPdf(objects, `/Root 1 0 R${info ? "/Info 5 0 R" : ""}`);
}

function run(bytes: Uint8Array) {
  return extract(new BufferSource(bytes, "built.pdf"));
}

describe("PDF XMP metadata", () => {
  it("gives every document field when the file has no information dictionary", async () => {
    const result = await run(pdfWithXmp(FULL_XMP));
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({
      pages: 1,
      title: "Report — Q3",
      author: "Ann Lee; Bo Chen",
      subject: "Quarterly figures",
      keywords: "sales, q3",
      producer: "LibreOffice 7.6",
      creator: "Writer",
      created: "2024-01-31T12:00:00+01:00",
      modified: "2024-02-01T08:30:00Z",
    });
  });

  it("is read from a FlateDecode stream", async () => {
    const compressed = new Uint8Array(deflateSync(Buffer.from(FULL_XMP, "utf8")));
    const result = await run(
      pdfWithXmp(compressed, undefined, "/Type/Metadata/Subtype/XML/Filter/FlateDecode"),
    );
    expect(result.pdf?.title).toBe("Report — Q3");
  });

  it("wins over the information dictionary written no later than the packet", async () => {
    // Prepare: Info modified at the very second the packet was written, with fields XMP lacks.
    const info =
      "<</Title(Old title)/Producer(Old producer)/Trapped/False/ModDate(D:20240201083000Z)/CreationDate(D:20200101)>>";
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}>` +
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">New title</rdf:li></rdf:Alt></dc:title>' +
        "<xmp:MetadataDate>2024-02-01T09:30:00+01:00</xmp:MetadataDate>" +
        "</rdf:Description>",
    );
    // Act
    const result = await run(pdfWithXmp(xmp, info));
    // Assess: XMP's title; Info's producer and dates, which XMP does not state.
    expect(result.pdf).toMatchObject({
      title: "New title",
      producer: "Old producer",
      created: "2020-01-01T00:00:00",
      modified: "2024-02-01T08:30:00Z",
    });
  });

  it("wins when it has no metadata date to compare", async () => {
    const info = "<</Title(Info title)/ModDate(D:20991231)>>";
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}><dc:title><rdf:Alt><rdf:li xml:lang="x-default">XMP title</rdf:li></rdf:Alt></dc:title></rdf:Description>`,
    );
    expect((await run(pdfWithXmp(xmp, info))).pdf?.title).toBe("XMP title");
  });

  it("gives way to an information dictionary modified after the packet was written", async () => {
    // Prepare: a tool that knows only /Info changed the title and producer a minute after the packet.
    const info = "<</Title(Edited title)/Producer(Info-only editor)/ModDate(D:20240201083100Z)>>";
    // Act
    const result = await run(pdfWithXmp(FULL_XMP, info));
    // Assess: Info's values where both state one; XMP's where only it does.
    expect(result.pdf).toMatchObject({
      title: "Edited title",
      producer: "Info-only editor",
      modified: "2024-02-01T08:31:00Z",
      author: "Ann Lee; Bo Chen",
      keywords: "sales, q3",
      created: "2024-01-31T12:00:00+01:00",
    });
  });

  it("takes the author the dictionary agrees with where the packet states two", async () => {
    // Prepare: as exiftool leaves a file it set Author in: /Author and pdf:Author changed, dc:creator not.
    const info = "<</Author(New Author)/ModDate(D:20240201083000Z)>>";
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}>` +
        "<dc:creator><rdf:Seq><rdf:li>cdaily</rdf:li></rdf:Seq></dc:creator>" +
        "<pdf:Author>New Author</pdf:Author>" +
        "<xmp:MetadataDate>2024-02-01T08:30:00Z</xmp:MetadataDate>" +
        "</rdf:Description>",
    );
    // Act
    const edited = await run(pdfWithXmp(xmp, info));
    const unagreed = await run(pdfWithXmp(xmp, "<</Author(Someone else)>>"));
    const onlyPdfAuthor = await run(
      pdfWithXmp(packet(`<rdf:Description rdf:about="" ${NAMESPACES} pdf:Author="Ann Lee"/>`)),
    );
    // Assess: dc:creator, the packet's own author field, unless the other one has the dictionary with it.
    expect(edited.pdf?.author).toBe("New Author");
    expect(unagreed.pdf?.author).toBe("cdaily");
    expect(onlyPdfAuthor.pdf?.author).toBe("Ann Lee");
  });

  it("states nothing with (), the empty PDF string some writers copy into the packet", async () => {
    // iText 2 wrote the dictionary's empty strings into the packet as they are written in PDF.
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}>` +
        "<dc:creator><rdf:Seq><rdf:li>()</rdf:li></rdf:Seq></dc:creator>" +
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">()</rdf:li></rdf:Alt></dc:description>' +
        "<pdf:Keywords>()</pdf:Keywords>" +
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Test Document</rdf:li></rdf:Alt></dc:title>' +
        "</rdf:Description>",
    );
    const result = await run(pdfWithXmp(xmp));
    expect(result.pdf?.title).toBe("Test Document");
    expect(result.pdf).not.toHaveProperty("author");
    expect(result.pdf).not.toHaveProperty("subject");
    expect(result.pdf).not.toHaveProperty("keywords");
  });

  it("matches properties by namespace, not by prefix", async () => {
    const xmp = packet(
      // xap: is the older prefix of the XMP basic schema; dc: bound elsewhere is not Dublin Core.
      '<rdf:Description rdf:about="" xmlns:xap="http://ns.adobe.com/xap/1.0/" xmlns:dc="urn:not-dublin-core">' +
        "<xap:CreatorTool>Distiller</xap:CreatorTool>" +
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Not a title</rdf:li></rdf:Alt></dc:title>' +
        "</rdf:Description>",
    );
    const result = await run(pdfWithXmp(xmp));
    expect(result.pdf?.creator).toBe("Distiller");
    expect(result.pdf?.title).toBeUndefined();
  });

  it("expands no entity its DOCTYPE declares", async () => {
    const laughs = Array.from({ length: 8 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join(
      "",
    );
    const doctype = `<!DOCTYPE x:xmpmeta [<!ENTITY l0 "lol">${laughs}<!ENTITY t "Injected">]>`;
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}>` +
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">&t;</rdf:li></rdf:Alt></dc:title>' +
        "<pdf:Producer>&l8;</pdf:Producer></rdf:Description>",
      doctype,
    );
    const result = await run(pdfWithXmp(xmp));
    expect(result.pdf?.title).toBe("&t;");
    expect(result.pdf?.producer).toBe("&l8;");
  });

  it("keeps the information dictionary's fields, with a warning, when the packet is not XML", async () => {
    const result = await run(pdfWithXmp("<x:xmpmeta><rdf:RDF></x:xmpmeta", "<</Title(Info title)>>"));
    expect(result.status).toBe("ok");
    expect(result.pdf?.title).toBe("Info title");
    expect(result.warnings).toEqual([
      expect.stringMatching(/^XMP metadata unreadable: malformed XMP packet/),
    ]);
  });

  it("keeps the rest of the packet when an element has a reserved JavaScript name", async () => {
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}><constructor xmlns="urn:example">x</constructor><pdf:Producer>Kept</pdf:Producer></rdf:Description>`,
    );
    const result = await run(pdfWithXmp(xmp));
    expect(result.warnings).toEqual([]);
    expect(result.pdf?.producer).toBe("Kept");
  });

  it("is not read past its size limit", async () => {
    const padded = FULL_XMP.replace("<?xpacket end", `${" ".repeat(1024 * 1024)}<?xpacket end`);
    const result = await run(pdfWithXmp(padded, "<</Title(Info title)>>"));
    expect(result.pdf?.title).toBe("Info title");
    expect(result.warnings.join(" ")).toMatch(/XMP metadata unreadable: .*exceeds the limit/);
  });
});

describe("XMP dates", () => {
  it.each([
    ["2024", "2024-01-01T00:00:00"],
    ["2024-05", "2024-05-01T00:00:00"],
    ["2024-05-06T07:08+02:00", "2024-05-06T07:08:00+02:00"],
    ["2024-05-06T07:08:09.123-0530", "2024-05-06T07:08:09-05:30"],
    ["2024-05-06T07:08:09+00:00", "2024-05-06T07:08:09Z"],
  ])("reads %s as %s", (text, iso) => {
    expect(parseXmpDate(text)).toBe(iso);
  });

  it.each(["yesterday", "2024-13-01", "2024-05-06T25:00:00Z", "2024-05-06T07:08:09+15:00"])(
    "rejects %s",
    (text) => {
      expect(parseXmpDate(text)).toBeUndefined();
    },
  );
});

// The standard security handler with the empty user password, RC4 128-bit (ISO 32000-2 §7.6.4).

/** The file key and /U entry for the empty user password (algorithms 2 and 5). */
function emptyPasswordKey(revision: 3 | 4, encryptMetadata: boolean) {
  const p = Buffer.alloc(4);
  p.writeInt32LE(PERMISSIONS);
  const parts = [PADDING, OWNER, p, FILE_ID];
  if (revision === 4 && !encryptMetadata) parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  let key = md5(...parts);
  for (let i = 0; i < 50; i++) key = md5(key);
  let user = rc4(key, md5(PADDING, FILE_ID));
  for (let i = 1; i <= 19; i++)
    user = rc4(
      key.map((byte) => byte ^ i),
      user,
    );
  return { key, user: Buffer.concat([user, Buffer.alloc(16)]) };
}

function objectKey(key: Uint8Array, num: number): Uint8Array {
  return md5(key, Uint8Array.of(num, num >> 8, num >> 16, 0, 0));
}

const hex = (bytes: Uint8Array) => `<${Buffer.from(bytes).toString("hex")}>`;

/**
 * An RC4-encrypted PDF with an Info title and an XMP title. `encryptMetadata`
 * false leaves the metadata stream in the clear; `lockedForUser` writes a /U
 * the empty password does not match, as a file with a user password has.
 */
function encryptedPdf(options: {
  revision: 3 | 4;
  encryptMetadata: boolean;
  lockedForUser?: boolean;
  /** Store the metadata stream in the clear behind an /Identity crypt filter. */
  identityFilter?: boolean;
}) {
  const { key, user } = emptyPasswordKey(options.revision, options.encryptMetadata);
  const xmp = utf8(
    packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}><dc:title><rdf:Alt><rdf:li xml:lang="x-default">XMP title</rdf:li></rdf:Alt></dc:title>` +
        "<pdf:Producer>XMP producer</pdf:Producer></rdf:Description>",
    ),
  );
  const clear = !options.encryptMetadata || options.identityFilter;
  const metadata = clear ? xmp : rc4(objectKey(key, 4), xmp);
  const metadataDict = `/Type/Metadata/Subtype/XML${options.identityFilter ? "/Filter[/Crypt]" : ""}`;
  const u = options.lockedForUser ? Buffer.alloc(32, 0x99) : user;
  const filters =
    options.revision === 4
      ? "/V 4/CF<</StdCF<</CFM/V2/Length 16/AuthEvent/DocOpen>>>>/StmF/StdCF/StrF/StdCF"
      : "/V 2/Length 128";
  const flag = options.encryptMetadata ? "" : "/EncryptMetadata false";
  return buildPdf(
    {
      1: CATALOG,
      2: PAGES,
      3: PAGE,
      4: stream(metadataDict, metadata),
      5: `<</Title ${hex(rc4(objectKey(key, 5), Buffer.from("Info title")))}>>`,
      6: `<</Filter/Standard${filters}/R ${options.revision}/O ${hex(OWNER)}/U ${hex(u)}/P ${PERMISSIONS}${flag}>>`,
    },
    `/Root 1 0 R/Info 5 0 R/Encrypt 6 0 R/ID[${hex(FILE_ID)}${hex(FILE_ID)}]`,
  );
}

describe("PDF XMP metadata in encrypted files", () => {
  it("is decrypted like the rest of the file by default", async () => {
    const result = await run(encryptedPdf({ revision: 3, encryptMetadata: true }));
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({ encrypted: true, title: "XMP title", producer: "XMP producer" });
  });

  it("is read in the clear under /EncryptMetadata false, while the rest is decrypted", async () => {
    const result = await run(encryptedPdf({ revision: 4, encryptMetadata: false }));
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({ encrypted: true, title: "XMP title", producer: "XMP producer" });
  });

  it("is read in the clear under /EncryptMetadata false even when a user password is required", async () => {
    const result = await run(encryptedPdf({ revision: 4, encryptMetadata: false, lockedForUser: true }));
    expect(result.pdf).toMatchObject({ encrypted: true, pages: 1, title: "XMP title" });
    expect(result.warnings).toEqual([
      "encrypted (a user password is required): document information not decoded",
    ]);
  });

  it("is left alone when it is encrypted and a user password is required", async () => {
    const result = await run(encryptedPdf({ revision: 4, encryptMetadata: true, lockedForUser: true }));
    expect(result.pdf?.title).toBeUndefined();
    expect(result.pdf?.producer).toBeUndefined();
  });

  it("skips decryption of a stream behind the /Identity crypt filter", async () => {
    const result = await run(encryptedPdf({ revision: 4, encryptMetadata: true, identityFilter: true }));
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({ title: "XMP title", producer: "XMP producer" });
  });
});

/**
 * A PDF with a cross-reference stream whose page tree root (object 2) sits in
 * an object stream whose FlateDecode data is corrupt, as when an object
 * stream does not decrypt; the information dictionary (object 5) and the
 * metadata stream (object 4) are plain objects.
 */
function pdfWithBrokenPageTree(xmp: string, info: string): Uint8Array {
  const objects: Record<number, string> = {
    1: CATALOG,
    4: stream("/Type/Metadata/Subtype/XML", utf8(xmp)),
    5: info,
    6: stream(
      "/Type/ObjStm/N 1/First 4/Filter/FlateDecode",
      Uint8Array.of(0x78, 0x9c, 0xff, 0xff, 0xff, 0xff),
    ),
  };
  let text = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
  const offsets = new Map<number, number>();
  for (const [num, body] of Object.entries(objects)) {
    offsets.set(Number(num), text.length);
    text += `${num} 0 obj\n${body}\nendobj\n`;
  }
  const xrefAt = text.length;
  // Rows of /W [1 4 2]: type, offset or object stream number, generation or index.
  const row = (type: number, second: number, third: number) => {
    const bytes = Buffer.alloc(7);
    bytes.writeUInt8(type, 0);
    bytes.writeUInt32BE(second, 1);
    bytes.writeUInt16BE(third, 5);
    return bytes;
  };
  const rows = Buffer.concat([
    row(0, 0, 65535),
    row(1, offsets.get(1) as number, 0),
    row(2, 6, 0),
    row(0, 0, 0),
    row(1, offsets.get(4) as number, 0),
    row(1, offsets.get(5) as number, 0),
    row(1, offsets.get(6) as number, 0),
    row(1, xrefAt, 0),
  ]);
  text += `7 0 obj\n${stream("/Type/XRef/Size 8/W[1 4 2]/Root 1 0 R/Info 5 0 R", rows)}\nendobj\n`;
  text += `startxref\n${xrefAt}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(text, "latin1"));
}

describe("PDF metadata when the page tree is unreadable", () => {
  it("still reads the information dictionary and the XMP packet, with a warning", async () => {
    // Prepare
    const xmp = packet(
      `<rdf:Description rdf:about="" ${NAMESPACES}><pdf:Producer>XMP producer</pdf:Producer></rdf:Description>`,
    );
    const bytes = pdfWithBrokenPageTree(xmp, "<</Title(Info title)>>");
    // Act
    const result = await run(bytes);
    // Assess
    expect(result.status).toBe("ok");
    expect(result.pdf).toMatchObject({ title: "Info title", producer: "XMP producer" });
    expect(result.pdf?.pages).toBeUndefined();
    expect(result.warnings).toEqual(["page tree unreadable: corrupt FlateDecode stream"]);
  });
});
