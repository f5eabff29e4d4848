/**
 * Characters a terminal acts on instead of showing: C0 and C1 controls
 * (ESC starts the sequences that move the cursor, clear the screen or set the
 * window title; CSI is one character in C1), DEL, and the invisible
 * formatting characters that reorder or hide text (bidirectional overrides
 * and isolates, zero-width characters).
 */
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Same set without the C0 controls, which JSON already escapes. */
const ACTIVE_IN_JSON = /[\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

const escaped = (character: string) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * A value for a line of terminal output, with every character the terminal
 * would act on written as a visible `\uXXXX` escape. Object keys, file names
 * and every metadata field come from uploaders and files: printed raw, an
 * EXIF title could rewrite the screen or a key with a newline forge a line.
 *
 * @example
 * terminalSafe("photo\u001b[2J.jpg") // "photo\\u001b[2J.jpg"
 */
export function terminalSafe(text: string): string {
  return text.replace(ACTIVE, escaped);
}

/**
 * JSON text with the characters JSON leaves as they are but a terminal acts
 * on (C1 controls, DEL, bidirectional and zero-width formatting) escaped as
 * `\uXXXX`: the same JSON value, safe to print.
 *
 * @example
 * jsonTerminalSafe(JSON.stringify({ title: "\u202eevil" })) // '{"title":"\\u202eevil"}'
 */
export function jsonTerminalSafe(json: string): string {
  return json.replace(ACTIVE_IN_JSON, escaped);
}
