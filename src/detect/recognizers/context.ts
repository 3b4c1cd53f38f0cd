/**
 * Context rules: whether label words ("IBAN", "Routing", "Sort code", ...) appear near a span, on
 * its own line before it, at the end of the previous line (a label above the value), or right
 * after it.
 */

/** Text before `start` on the same line and on the previous line (at most `window` characters each). */
export function textBefore(text: string, start: number, window = 48): { sameLine: string; previousLine: string } {
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const sameLine = text.slice(Math.max(lineStart, start - window), start);
  let previousLine = '';
  if (lineStart > 0) {
    const prevStart = text.lastIndexOf('\n', lineStart - 2) + 1;
    previousLine = text.slice(Math.max(prevStart, lineStart - 1 - window), lineStart - 1);
  }
  return { sameLine, previousLine };
}

/** Text after `end` on the same line (at most `window` characters). */
export function textAfter(text: string, end: number, window = 24): string {
  const nl = text.indexOf('\n', end);
  return text.slice(end, Math.min(nl < 0 ? text.length : nl, end + window));
}

/**
 * True when `words` (a case-insensitive regex source, e.g. "iban|account") matches near the span:
 * before it on its line, on the previous line, or (when `after`) right after it.
 */
export function hasContext(text: string, start: number, end: number, words: string, after = false, window = 48): boolean {
  const re = new RegExp(`(?:^|[^a-z])(?:${words})(?![a-z])`, 'i');
  // On the previous line, only a label that ends it counts (a label above its value).
  const reEnd = new RegExp(`(?:^|[^a-z])(?:${words})[\\s:#.\\-]*$`, 'i');
  const { sameLine, previousLine } = textBefore(text, start, window);
  if (re.test(sameLine) || reEnd.test(previousLine)) return true;
  return after && re.test(textAfter(text, end));
}
