/** Result of sniffing bytes that carry no magic number. */
export interface TextSniff {
  mime: string;
  ext: string;
  /** utf-8, utf-16le, utf-16be, iso-8859-1, ascii */
  encoding: string;
  bom: boolean;
}

// Placeholder until text sniffing lands: no claim.
export function sniffText(_head: Uint8Array, _size: number): TextSniff | undefined {
  return undefined;
}
