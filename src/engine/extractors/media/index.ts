import { HEAD_WINDOW_BYTES } from "../../limits.js";
import { type ExtractorDescriptor, headRange, tailRange } from "../extractor.js";
import { MEDIA_MIMES } from "./mimes.js";

/**
 * Tail fetched up front: ID3v1 (128 bytes), Lyrics3 and APEv2 footers that
 * music-metadata looks for at the end of every file, an Ogg stream's last
 * page, and a short clip's `moov`. Larger tails are read only when needed.
 */
const MEDIA_TAIL_BYTES = 16 * 1024;

/**
 * Audio and video: duration, codecs, audio format, picture size and tags.
 *
 * @example
 * (await extract(await FileSource.open("clip.mp4"))).media // { container: "isom/iso2/avc1/mp41", width: 256, ... }
 */
export const mediaExtractor: ExtractorDescriptor = {
  id: "media",
  mimes: MEDIA_MIMES,
  plan: (size) => [headRange(size, HEAD_WINDOW_BYTES), tailRange(size, MEDIA_TAIL_BYTES)],
  load: async () => (await import("./extract.js")).extractMedia,
};
