import { describe, expect, it } from "vitest";
import { BufferSource } from "../../src/engine/byte-source/byte-source.js";
import { extract } from "../../src/engine/engine.js";
import { FILE_ID, md5, OWNER, PADDING, PERMISSIONS, rc4 } from "../support/pdf-rc4.js";

/**
 * The standard security handler's RC4 key lengths (ISO 32000-2 §7.6.4), in
 * PDFs written by hand with the empty user password: which file key each
 * /V and /R pair derives object keys from.
 */

const TITLE = "Quarterly report";

/** Algorithms 2, 4 and 5 with the empty user password: the file key of `length` bytes and /U. */
function emptyPasswordKey(revision: 2 | 3 | 4, length: number) {
  const p = Buffer.alloc(4);
  p.writeInt32LE(PERMISSIONS);
  let hash = md5(PADDING, OWNER, p, FILE_ID);
  if (revision >= 3) for (let i = 0; i < 50; i++) hash = md5(hash.subarray(0, length));
  const key = hash.subarray(0, length);
  if (revision === 2) return { key, user: Buffer.from(rc4(key, PADDING)) };
  let user = rc4(key, md5(PADDING, FILE_ID));
  for (let i = 1; i <= 19; i++)
    user = rc4(
      key.map((byte) => byte ^ i),
      user,
    );
  return { key, user: Buffer.concat([user, Buffer.alloc(16)]) };
}

/** Algorithm 1: the RC4 key of object `num` generation 0. */
function objectKey(fileKey: Uint8Array, num: number): Uint8Array {
  return md5(fileKey, Uint8Array.of(num, num >> 8, num >> 16, 0, 0)).subarray(
    0,
    Math.min(16, fileKey.length + 5),
  );
}

const hex = (bytes: Uint8Array) => `<${Buffer.from(bytes).toString("hex")}>`;

/** A one-page PDF whose /Info title is encrypted with the object key `keyFor` derives from the file key. */
function encryptedPdf(options: {
  version: 1 | 2 | 4;
  revision: 2 | 3 | 4;
  bits: number;
  keyFor: (fileKey: Uint8Array) => Uint8Array;
}): Uint8Array {
  const { key, user } = emptyPasswordKey(options.revision, options.bits / 8);
  const filters =
    options.version === 4
      ? `/V 4/Length ${options.bits}/CF<</StdCF<</CFM/V2/Length ${options.bits / 8}/AuthEvent/DocOpen>>>>/StmF/StdCF/StrF/StdCF`
      : `/V ${options.version}/Length ${options.bits}`;
  const objects: Record<number, string> = {
    1: "<</Type/Catalog/Pages 2 0 R>>",
    2: "<</Type/Pages/Count 1/Kids[3 0 R]>>",
    3: "<</Type/Page/Parent 2 0 R>>",
    4: `<</Title ${hex(rc4(objectKey(options.keyFor(key), 4), Buffer.from(TITLE)))}>>`,
    5: `<</Filter/Standard${filters}/R ${options.revision}/O ${hex(OWNER)}/U ${hex(user)}/P ${PERMISSIONS}>>`,
  };
  let text = "%PDF-1.6\n";
  const offsets: number[] = [];
  for (const [num, body] of Object.entries(objects)) {
    offsets[Number(num)] = text.length;
    text += `${num} 0 obj\n${body}\nendobj\n`;
  }
  const xrefAt = text.length;
  text += "xref\n0 6\n0000000000 65535 f \n";
  for (let num = 1; num <= 5; num++) text += `${String(offsets[num]).padStart(10, "0")} 00000 n \n`;
  text += `trailer\n<</Size 6/Root 1 0 R/Info 4 0 R/Encrypt 5 0 R/ID[${hex(FILE_ID)}${hex(FILE_ID)}]>>\n`;
  text += `startxref\n${xrefAt}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(text, "latin1"));
}

/** The key zero-padded to 16 bytes, as Acrobat extends a short /V 4 key. */
function paddedTo16(key: Uint8Array): Uint8Array {
  const padded = new Uint8Array(16);
  padded.set(key);
  return padded;
}

const asIs = (key: Uint8Array) => key;

describe("PDF RC4 key lengths", () => {
  it.each([
    { case: "40-bit, revision 2", version: 1, revision: 2, bits: 40, keyFor: asIs },
    { case: "40-bit, revision 3", version: 2, revision: 3, bits: 40, keyFor: asIs },
    { case: "128-bit, revision 3", version: 2, revision: 3, bits: 128, keyFor: asIs },
    { case: "128-bit crypt filter, revision 4", version: 4, revision: 4, bits: 128, keyFor: asIs },
    // Acrobat's rule, followed by pdf.js since its issue 19484; the standard does not state it.
    {
      case: "40-bit crypt filter, revision 4, key padded to 16 bytes",
      version: 4,
      revision: 4,
      bits: 40,
      keyFor: paddedTo16,
    },
    {
      case: "48-bit crypt filter, revision 4, key padded to 16 bytes",
      version: 4,
      revision: 4,
      bits: 48,
      keyFor: paddedTo16,
    },
  ] as const)("decrypts strings under a $case", async ({ version, revision, bits, keyFor }) => {
    // Prepare
    const bytes = encryptedPdf({ version, revision, bits, keyFor });
    // Act
    const result = await extract(new BufferSource(bytes, "locked.pdf"));
    // Assess
    expect(result.warnings).toEqual([]);
    expect(result.pdf).toMatchObject({ encrypted: true, pages: 1, title: TITLE });
  });
});
