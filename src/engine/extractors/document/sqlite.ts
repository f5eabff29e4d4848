import type { BlockReader } from "../../byte-source/block-reader.js";
import { ContentError } from "../../errors.js";
import type { DocumentInfo } from "../../types.js";

/** The database header: the first 100 bytes of page 1 (sqlite.org/fileformat.html, section 1.3). */
const HEADER_BYTES = 100;
const PAGE_SIZE_AT = 16;
const CHANGE_COUNTER_AT = 24;
const PAGE_COUNT_AT = 28;
const VERSION_VALID_FOR_AT = 92;

/** What a SQLite database's header shows, and why the file is cut short when it is. */
export interface SqliteReading {
  document: DocumentInfo;
  /** Set when the file is smaller than the pages its header counts. */
  truncated?: string;
}

/**
 * SQLite 3: the database header's page size and page count. The count is
 * trusted only where SQLite itself trusts it, when the version-valid-for
 * number equals the change counter (a writer before 3.7.0 left it stale);
 * a file shorter than count x size lost its last pages. A file longer is
 * left alone: SQLite reads only the pages it counts.
 *
 * @example
 * await readSqlite(reader) // { document: { kind: "sqlite" } }
 */
export async function readSqlite(reader: BlockReader): Promise<SqliteReading> {
  const header = await reader.read(0, Math.min(reader.size, HEADER_BYTES));
  if (header.byteLength < HEADER_BYTES) {
    throw new ContentError(
      `truncated: the SQLite header needs ${HEADER_BYTES} bytes, the file has ${reader.size}`,
    );
  }
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const document: DocumentInfo = { kind: "sqlite" };
  const sizeField = view.getUint16(PAGE_SIZE_AT);
  // 1 stands for 65536, which 16 bits cannot hold; any other size is a power of two from 512.
  const pageSize = sizeField === 1 ? 65536 : sizeField;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return { document };
  const pages = view.getUint32(PAGE_COUNT_AT);
  const countValid = pages > 0 && view.getUint32(VERSION_VALID_FOR_AT) === view.getUint32(CHANGE_COUNTER_AT);
  if (!countValid || pages * pageSize <= reader.size) return { document };
  return {
    document,
    truncated: `the SQLite header counts ${pages} pages of ${pageSize} bytes (${pages * pageSize}), the file has ${reader.size}`,
  };
}
