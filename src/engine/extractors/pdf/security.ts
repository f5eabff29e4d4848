import { createCipheriv, createDecipheriv, createHash } from "node:crypto";
import { PdfDict, PdfString } from "./lexer.js";

/**
 * The standard security handler (ISO 32000-2 §7.6.4) tried with the empty
 * user password, which is how most "protected" PDFs are written: they open
 * without a prompt and only restrict printing or editing. When the empty
 * password does not open the file, nothing is decrypted and the extractor
 * reports `encrypted: true` without strings rather than decoding ciphertext.
 *
 * RC4 is written out here because OpenSSL 3 ships it only in its legacy
 * provider, which Node does not load by default.
 */

/** Decrypts strings and streams of one file. */
export interface Decryptor {
  /** Decrypts a string or stream of object `num gen`. */
  decrypt(bytes: Uint8Array, num: number, gen: number, kind: "string" | "stream"): Uint8Array;
}

type Method = "none" | "rc4" | "aes128" | "aes256";

const PADDING = Uint8Array.from([
  0x28, 0xbf, 0x4e, 0x5e, 0x4e, 0x75, 0x8a, 0x41, 0x64, 0x00, 0x4e, 0x56, 0xff, 0xfa, 0x01, 0x08, 0x2e, 0x2e,
  0x00, 0xb6, 0xd0, 0x68, 0x3e, 0x80, 0x2f, 0x0c, 0xa9, 0xfe, 0x64, 0x53, 0x69, 0x7a,
]);

/** Why a file could not be opened, or the decryptor that opens it. */
export type OpenResult = { ok: true; decryptor: Decryptor } | { ok: false; reason: string };

/**
 * Opens an /Encrypt dictionary with the empty user password.
 *
 * @example
 * const opened = openWithEmptyPassword(encryptDict, trailerIdFirstBytes);
 * if (opened.ok) title = opened.decryptor.decrypt(raw, 5, 0, "string");
 */
export function openWithEmptyPassword(encrypt: PdfDict, fileId: Uint8Array): OpenResult {
  const filter = encrypt.name("Filter");
  if (filter !== "Standard") return { ok: false, reason: `security handler ${filter ?? "unknown"}` };
  const version = encrypt.number("V") ?? 0;
  const revision = encrypt.number("R") ?? 0;
  const owner = stringBytes(encrypt.get("O"));
  const user = stringBytes(encrypt.get("U"));
  if (!owner || !user) return { ok: false, reason: "no /O or /U in the encryption dictionary" };

  const streamMethod = methodOf(encrypt, "StmF", version);
  const stringMethod = methodOf(encrypt, "StrF", version);
  if (!streamMethod || !stringMethod) return { ok: false, reason: "unsupported crypt filter" };

  if (revision >= 5) {
    const key = aes256Key(revision, user, stringBytes(encrypt.get("UE")));
    if (!key) return { ok: false, reason: "a user password is required" };
    return { ok: true, decryptor: makeDecryptor(key, streamMethod, stringMethod, false) };
  }
  if (revision < 2) return { ok: false, reason: `unsupported revision ${revision}` };
  const keyLength = fileKeyLength(encrypt, version, revision);
  const encryptMetadata = encrypt.get("EncryptMetadata") !== false;
  const key = legacyKey(revision, keyLength, owner, encrypt.number("P") ?? 0, fileId, encryptMetadata);
  if (!legacyUserPasswordMatches(revision, key, user, fileId)) {
    return { ok: false, reason: "a user password is required" };
  }
  return {
    ok: true,
    decryptor: makeDecryptor(objectKeyBase(key, version), streamMethod, stringMethod, true),
  };
}

function stringBytes(value: unknown): Uint8Array | undefined {
  return value instanceof PdfString ? value.bytes : undefined;
}

function methodOf(encrypt: PdfDict, which: "StmF" | "StrF", version: number): Method | undefined {
  if (version < 4) return "rc4";
  const name = encrypt.name(which) ?? "Identity";
  if (name === "Identity") return "none";
  const filters = encrypt.get("CF");
  const filter = filters instanceof PdfDict ? filters.get(name) : undefined;
  if (!(filter instanceof PdfDict)) return undefined;
  switch (filter.name("CFM")) {
    case "V2":
      return "rc4";
    case "AESV2":
      return "aes128";
    case "AESV3":
      return "aes256";
    case "None":
      return "none";
    default:
      return undefined;
  }
}

function fileKeyLength(encrypt: PdfDict, version: number, revision: number): number {
  if (revision === 2) return 5;
  let bits = encrypt.number("Length");
  if (version >= 4) {
    const filters = encrypt.get("CF");
    const std = filters instanceof PdfDict ? filters.get(encrypt.name("StmF") ?? "StdCF") : undefined;
    const cfLength = std instanceof PdfDict ? std.number("Length") : undefined;
    // Crypt filter lengths are in bytes by the standard, in bits in some files.
    if (bits === undefined && cfLength !== undefined) bits = cfLength <= 32 ? cfLength * 8 : cfLength;
  }
  const bytes = Math.floor((bits ?? 40) / 8);
  return Math.min(16, Math.max(5, bytes));
}

function md5(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash("md5");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** Algorithm 2: the file key from the (empty) user password. */
function legacyKey(
  revision: number,
  length: number,
  owner: Uint8Array,
  permissions: number,
  fileId: Uint8Array,
  encryptMetadata: boolean,
): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setInt32(0, permissions | 0, true);
  const parts = [PADDING, owner.subarray(0, 32), p, fileId];
  if (revision >= 4 && !encryptMetadata) parts.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  let hash = md5(...parts);
  if (revision >= 3) for (let i = 0; i < 50; i++) hash = md5(hash.subarray(0, length));
  return hash.slice(0, length);
}

/**
 * The file key that object keys are derived from. Under /V 4 Acrobat zero-pads
 * a key shorter than 16 bytes to 16 before Algorithm 1, which the standard
 * does not say but files with `/V 4 /R 4 /Length 40` need (pdf.js does the
 * same since its issue 19484). The password check above still uses the short
 * key; older /V values keep the key as it is, so 40-bit revision 2 and 3
 * files are unchanged.
 */
function objectKeyBase(key: Uint8Array, version: number): Uint8Array {
  if (version !== 4 || key.length >= 16) return key;
  const padded = new Uint8Array(16);
  padded.set(key);
  return padded;
}

/** Algorithms 4 and 5: does the empty password reproduce /U? */
function legacyUserPasswordMatches(revision: number, key: Uint8Array, user: Uint8Array, fileId: Uint8Array) {
  if (revision === 2) return equalBytes(rc4(key, PADDING), user.subarray(0, 32));
  let value = rc4(key, md5(PADDING, fileId));
  for (let i = 1; i <= 19; i++)
    value = rc4(
      key.map((byte) => byte ^ i),
      value,
    );
  return equalBytes(value, user.subarray(0, 16));
}

/** Algorithm 2.A with the empty password: check /U's hash, then unwrap /UE. */
function aes256Key(
  revision: number,
  user: Uint8Array,
  userKey: Uint8Array | undefined,
): Uint8Array | undefined {
  if (user.length < 48 || !userKey || userKey.length < 32) return undefined;
  const password = new Uint8Array(0);
  const hash = revision >= 6 ? hardenedHash : (pw: Uint8Array, salt: Uint8Array) => sha(256, pw, salt);
  if (!equalBytes(hash(password, user.subarray(32, 40)), user.subarray(0, 32))) return undefined;
  const intermediate = hash(password, user.subarray(40, 48));
  const decipher = createDecipheriv("aes-256-cbc", intermediate, new Uint8Array(16));
  decipher.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([decipher.update(userKey.subarray(0, 32)), decipher.final()]));
}

function sha(bits: 256 | 384 | 512, ...parts: Uint8Array[]): Uint8Array {
  const hash = createHash(`sha${bits}`);
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** Algorithm 2.B (revision 6), for the user password (no /U data mixed in). */
function hardenedHash(password: Uint8Array, salt: Uint8Array): Uint8Array {
  let key = sha(256, password, salt);
  let last = 0;
  for (let round = 0; round < 64 || last > round - 32; round++) {
    const block = Buffer.concat([password, key]);
    const repeated = Buffer.concat(Array.from({ length: 64 }, () => block));
    const cipher = createCipheriv("aes-128-cbc", key.subarray(0, 16), key.subarray(16, 32));
    cipher.setAutoPadding(false);
    const encrypted = Buffer.concat([cipher.update(repeated), cipher.final()]);
    let sum = 0;
    for (let i = 0; i < 16; i++) sum += encrypted[i] as number;
    key = sha(([256, 384, 512] as const)[sum % 3] as 256 | 384 | 512, encrypted);
    last = encrypted[encrypted.length - 1] as number;
  }
  return key.subarray(0, 32);
}

function makeDecryptor(
  fileKey: Uint8Array,
  streams: Method,
  strings: Method,
  perObjectKey: boolean,
): Decryptor {
  return {
    decrypt(bytes, num, gen, kind) {
      const method = kind === "stream" ? streams : strings;
      if (method === "none") return bytes;
      let key = fileKey;
      if (perObjectKey) {
        const suffix = Uint8Array.of(num, num >> 8, num >> 16, gen, gen >> 8);
        const salt = method === "aes128" ? Uint8Array.of(0x73, 0x41, 0x6c, 0x54) : new Uint8Array(0);
        key = md5(fileKey, suffix, salt).subarray(0, Math.min(16, fileKey.length + 5));
      }
      if (method === "rc4") return rc4(key, bytes);
      return aesDecrypt(method === "aes256" ? "aes-256-cbc" : "aes-128-cbc", key, bytes);
    },
  };
}

function aesDecrypt(algorithm: string, key: Uint8Array, bytes: Uint8Array): Uint8Array {
  if (bytes.length < 32 || bytes.length % 16 !== 0) return new Uint8Array(0);
  try {
    const decipher = createDecipheriv(algorithm, key, bytes.subarray(0, 16));
    return new Uint8Array(Buffer.concat([decipher.update(bytes.subarray(16)), decipher.final()]));
  } catch {
    // Bad padding: the data was not encrypted with this key; return nothing rather than noise.
    return new Uint8Array(0);
  }
}

function rc4(key: Uint8Array, data: Uint8Array): Uint8Array {
  const state = new Uint8Array(256);
  for (let i = 0; i < 256; i++) state[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + (state[i] as number) + (key[i % key.length] as number)) & 0xff;
    [state[i], state[j]] = [state[j] as number, state[i] as number];
  }
  const out = new Uint8Array(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + (state[i] as number)) & 0xff;
    [state[i], state[j]] = [state[j] as number, state[i] as number];
    out[n] = (data[n] as number) ^ (state[((state[i] as number) + (state[j] as number)) & 0xff] as number);
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The first string of the trailer's /ID, which keys the legacy algorithms. */
export function firstFileId(id: unknown): Uint8Array {
  return Array.isArray(id) && id[0] instanceof PdfString ? id[0].bytes : new Uint8Array(0);
}
