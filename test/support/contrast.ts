/**
 * Text contrast as WCAG 2.2 defines it, computed in the page from the
 * colours the browser resolved. Axe judges most text, but leaves out text
 * that is punctuation only (a breadcrumb's "/"), which a person still has
 * to read.
 */

/**
 * Runs in the page (kept as source text: this project's TypeScript has no
 * DOM types): a function from an element to the contrast ratio of its text
 * colour on its nearest opaque background, the page's white when none is.
 * Semi-transparent backgrounds count as opaque, which is close enough for the
 * page's own tints.
 *
 * @example
 * await page.evaluate(`[...document.querySelectorAll(".sep")].map(${CONTRAST_RATIO})`);
 */
export const CONTRAST_RATIO = `((node) => {
  const parse = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const channel = (value) => { const c = value / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (element) => {
    for (let at = element; at; at = at.parentElement) {
      const rgba = parse(getComputedStyle(at).backgroundColor);
      if (rgba.length === 3 || (rgba.length === 4 && rgba[3] > 0)) return rgba;
    }
    return [255, 255, 255];
  };
  const fg = luminance(parse(getComputedStyle(node).color));
  const bg = luminance(background(node));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
})`;

/** WCAG AA's least contrast for text under 18pt (24px), or 14pt bold. */
export const TEXT_CONTRAST_AA = 4.5;
