/**
 * Bytes laid end to end, for building files in tests; strings are taken as
 * latin1, one byte per character, as file signatures and chunk ids are written.
 *
 * @example
 * concatBytes("RIFF", u32le(size), "WAVE", chunks)
 */
export function concatBytes(...parts: (Uint8Array | string)[]): Uint8Array {
  const buffers = parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : part));
  return new Uint8Array(Buffer.concat(buffers));
}
