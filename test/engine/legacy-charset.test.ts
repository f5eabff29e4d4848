import { describe, expect, it } from "vitest";
import { legacyCharset, MIN_HIGH_BYTES } from "../../src/engine/detect/legacy-charset.js";
import { detectTextEncoding } from "../../src/engine/detect/text-sniff.js";
import { textDecoder } from "../../src/engine/text-decoder.js";

/** Pushkin, Eugene Onegin, I.1 (public domain). */
const RUSSIAN =
  "Мой дядя самых честных правил,\nКогда не в шутку занемог,\nОн уважать себя заставил\nИ лучше выдумать не мог.\n" +
  "Его пример другим наука;\nНо, боже мой, какая скука\nС больным сидеть и день и ночь,\nНе отходя ни шагу прочь!\n";

/** Shevchenko, Testament (1845, public domain): Ukrainian, with і, ї and є. */
const UKRAINIAN =
  "Як умру, то поховайте\nМене на могилі,\nСеред степу широкого,\nНа Вкраїні милій,\n" +
  "Щоб лани широкополі,\nІ Дніпро, і кручі\nБуло видно, було чути,\nЯк реве ревучий.\n" +
  "І мене в сім'ї великій,\nВ сім'ї вольній, новій,\nНе забудьте пом'янути\nНезлим тихим словом.\n";

const FRENCH =
  "Il était une fois une marchande de foie qui vendait du foie dans la ville de Foix. " +
  "Elle se dit : ma foi, c'est la première fois et la dernière fois que je vends du foie dans la ville de Foix. " +
  "Déjà l'été s'achève ; où sont les élèves ? À côté du théâtre, près de l'église.\n";

const CZECH =
  "Praha je hlavní a současně největší město České republiky. Leží na řece Vltavě ve středu Čech. " +
  "Historické centrum města je zapsáno na seznamu světového dědictví. Pražský hrad patří k největším " +
  "hradním komplexům na světě. Karlův most spojuje Staré Město s Malou Stranou a je jedním z nejstarších " +
  "kamenných mostů v Evropě. V zimě bývá v ulicích sníh, v létě přijíždějí turisté ze všech koutů světa.\n";

const GREEK =
  "Η Αθήνα είναι η πρωτεύουσα και η μεγαλύτερη πόλη της Ελλάδας. Βρίσκεται στην Αττική και έχει ιστορία " +
  "που ξεπερνά τις τρεις χιλιάδες χρόνια. Η Ακρόπολη και ο Παρθενώνας είναι τα πιο γνωστά μνημεία της πόλης. " +
  "Κάθε χρόνο έρχονται επισκέπτες από όλο τον κόσμο για να δουν τα αρχαία μνημεία και τα μουσεία της.\n";

/** Hebrew with an en dash, which windows-1255 has at 0x96 and ISO-8859-8 lacks. */
const HEBREW =
  "ירושלים היא בירת מדינת ישראל והעיר הגדולה ביותר בה – עיר עתיקה בהרי יהודה, בין הים התיכון לים המלח. " +
  "העיר העתיקה מוקפת חומה ובה מקומות קדושים ליהודים, לנוצרים ולמוסלמים. בכל שנה מגיעים אליה מבקרים רבים מכל העולם.\n";

/** German with „quotes“ and a dash, which put bytes 0x80-0x9F in windows-1252 text. */
const GERMAN =
  "Über den Dächern der Stadt wehte ein kühler Wind. Die Straßen waren leer, nur ein Bäcker öffnete früh " +
  "seinen Laden. „Grüß Gott“, sagte er – und lächelte. Später kamen Schüler, Mütter und Großväter vorbei.\n";

/** An RSS feed with one item per line of `text`: mostly English tags, links and dates around it. */
function rss(text: string): string {
  const items = text
    .split(/(?<=[.,;!?\n])\s*/)
    .filter((line) => line.length > 0)
    .map(
      (line, i) =>
        `<item><title>${line}</title><link>https://example.org/posts/${i}.html</link>` +
        `<guid isPermaLink="true">https://example.org/posts/${i}.html</guid>` +
        `<pubDate>Mon, 0${i % 9} Jan 2024 10:00:00 GMT</pubDate></item>\n`,
    );
  return `<rss version="2.0"><channel><title>Example</title><link>https://example.org/</link>\n${items.join("")}</channel></rss>\n`;
}

/** Text in a single-byte set, by inverting what the engine's decoder reads each byte above 0x7F as. */
function encode(text: string, label: string): Uint8Array {
  const decoder = textDecoder(label);
  const byChar = new Map<string, number>();
  for (let byte = 0x80; byte <= 0xff; byte++) byChar.set(decoder.decode(Uint8Array.of(byte)), byte);
  return Uint8Array.from([...text], (char) => {
    const code = char.charCodeAt(0);
    const byte = code < 0x80 ? code : byChar.get(char);
    if (byte === undefined) throw new Error(`${label} has no ${char}`);
    return byte;
  });
}

describe("legacy character sets", () => {
  it.each(["windows-1251", "koi8-r", "ibm866", "ibm855", "x-mac-cyrillic", "iso-8859-5"])(
    "Russian in %s is read as that code page",
    (label) => {
      const bytes = encode(RUSSIAN, label);
      expect(legacyCharset(bytes)).toBe(label);
      expect(detectTextEncoding(bytes, true)).toEqual({
        encoding: label,
        bom: false,
        bomLength: 0,
        decoderLabel: label,
      });
    },
  );

  it.each(["koi8-u", "windows-1251", "ibm855"])("Ukrainian in %s is read as that code page", (label) => {
    const bytes = encode(UKRAINIAN, label);
    expect(legacyCharset(bytes)).toBe(label);
    expect(textDecoder(label).decode(bytes)).toBe(UKRAINIAN);
  });

  it("keeps the name koi8-r for Russian, which reads the same in KOI8-U", () => {
    const bytes = encode(RUSSIAN, "koi8-u");
    expect(bytes).toEqual(encode(RUSSIAN, "koi8-r"));
    expect(legacyCharset(bytes)).toBe("koi8-r");
  });

  it.each(["windows-1252", "iso-8859-1"])("leaves French in %s to the Latin-1 default", (label) => {
    const bytes = encode(FRENCH, label);
    expect(legacyCharset(bytes)).toBeUndefined();
    expect(detectTextEncoding(bytes, true)?.encoding).toBe("iso-8859-1");
  });

  it(`guesses nothing from fewer than ${MIN_HIGH_BYTES} bytes above 0x7F`, () => {
    const few = encode("Мой дядя", "windows-1251");
    expect(few.filter((byte) => byte >= 0x80).length).toBeLessThan(MIN_HIGH_BYTES);
    expect(legacyCharset(few)).toBeUndefined();
    expect(detectTextEncoding(few, true)?.encoding).toBe("iso-8859-1");
  });

  // How long a window takes is bench/extract.bench.ts's to report (the corpus's tika-russian.cp866.txt).
  it("decides on a full 8 KiB window", () => {
    const window = encode(RUSSIAN.repeat(40), "ibm866").subarray(0, 8192);
    const french = encode(FRENCH.repeat(40), "windows-1252").subarray(0, 8192);
    expect(legacyCharset(window)).toBe("ibm866");
    expect(legacyCharset(french)).toBeUndefined();
  });

  it("reads Russian among the English tags and links of markup as Cyrillic", () => {
    const bytes = encode(rss(RUSSIAN), "koi8-r");
    // Mostly ASCII letters, and the high bytes are a small part of the bytes.
    expect(bytes.filter((byte) => byte >= 0x80).length * 10).toBeLessThan(bytes.length);
    expect(legacyCharset(bytes)).toBe("koi8-r");
  });

  it("does not take a table of single Hebrew letters for Cyrillic", () => {
    // A keyboard map, as Vim's keymap/hebrew_iso-8859-8.vim: each letter alone among ASCII.
    const table = Array.from(
      "אבגדהוזחטיךכלםמןנסעףפץצקרשת",
      (letter, i) => `${"abcdefghijklmnopqrstuvwxyz,"[i]}\t${letter}\t" letter ${i}\n`,
    );
    expect(legacyCharset(encode(table.join(""), "iso-8859-8"))).toBeUndefined();
  });

  it.each([
    ["Czech", "windows-1250", CZECH],
    ["Czech", "iso-8859-2", CZECH],
    ["Greek", "iso-8859-7", GREEK],
    ["Hebrew", "windows-1255", HEBREW],
  ])("%s in %s is read as that set", (_language, label, text) => {
    const bytes = encode(text, label);
    expect(legacyCharset(bytes)).toBe(label);
    expect(detectTextEncoding(bytes, true)?.encoding).toBe(label);
  });

  it("leaves German in windows-1252, C1 quotes and dash included, to the Latin-1 default", () => {
    const bytes = encode(GERMAN, "windows-1252");
    expect(legacyCharset(bytes)).toBeUndefined();
    expect(detectTextEncoding(bytes, true)?.encoding).toBe("windows-1252");
  });

  it("reads Hebrew among the English tags of markup by the text between them", () => {
    expect(legacyCharset(encode(rss(HEBREW), "windows-1255"))).toBe("windows-1255");
  });

  it("leaves French among the tags of markup to the Latin-1 default", () => {
    expect(legacyCharset(encode(rss(FRENCH), "windows-1252"))).toBeUndefined();
  });
});
