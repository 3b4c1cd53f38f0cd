/**
 * Turning raw recognizer matches into the entities to replace: policy filtering (entity types,
 * keep-lists), and overlap resolution (higher score wins, then the longer span).
 */
import { type DetectionPolicy, entityEnabled, normalizeKept } from './policy';
import type { RecognizerMatch } from './recognizers/types';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Character ranges of the page text covered by a kept value. */
export function keepRanges(text: string, values: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  for (const v of values) {
    const words = v.trim().split(/\s+/).filter(Boolean).map(esc);
    if (words.length === 0) continue;
    const re = new RegExp(`(?<![\\p{L}\\p{N}])${words.join('\\s+')}(?![\\p{L}\\p{N}])`, 'giu');
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) out.push([m.index, m.index + m[0].length]);
  }
  return out;
}

/** Applies the policy's entity selection and keep rules. */
export function applyPolicy(text: string, matches: readonly RecognizerMatch[], policy: DetectionPolicy): RecognizerMatch[] {
  const ranges = keepRanges(text, policy.keep.values);
  const kept = new Set(policy.keep.values.map(normalizeKept));
  const patterns = policy.keep.patterns.map((p) => new RegExp(`^(?:${p})$`, 'i'));
  return matches.filter((m) => {
    if (!entityEnabled(policy, m.entity)) return false;
    const value = text.slice(m.start, m.end);
    if (kept.has(normalizeKept(value))) return false;
    if (patterns.some((re) => re.test(value) || re.test(normalizeKept(value)))) return false;
    return !ranges.some(([a, b]) => m.start >= a && m.end <= b);
  });
}

/** Keeps the best of overlapping matches: higher score first, then the longer span, then the earlier one. */
export function resolveOverlaps(matches: readonly RecognizerMatch[]): RecognizerMatch[] {
  const order = [...matches].sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const taken: RecognizerMatch[] = [];
  for (const m of order) {
    if (taken.some((t) => m.start < t.end && t.start < m.end)) continue;
    taken.push(m);
  }
  return taken.sort((a, b) => a.start - b.start);
}
