/**
 * Person names, by context and by lexicon.
 *
 * Context: after a title (Mr, Mrs, Herr, Mme, Sr., Sig.ra, Dhr., ...), a label ("Name:",
 * "Account holder", "Kontoinhaber", "Titulaire", "Nombre", ...) or a greeting ("Dear",
 * "Sehr geehrte", "Cher", ...). After a title every capitalised word is taken, even an ordinary
 * one ("Mr. May", "Mr. June Carter"): only words that are never names (headings, labels, "Bank",
 * "Ltd", ...) end it. After a label or greeting a word must be a known name or not a common word
 * ("Dear Valued Customer" is no name, "Dear May" is).
 *
 * Lexicon (no context): two to four capitalised words, the first one in the name lexicon
 * (@cspell/dict-people-names), every word a known name or not a common English word, and at least
 * one that is a name and not a common word ("Dan May", "Olivia Hartley"; not "Grant Application",
 * "Rose Garden"). A single word is never a name without context.
 *
 * Also: a name-like line just above an address (the addressee block of a letter).
 */
import { monthFromName } from '../dates';
import { isCommonWord, isLexiconName } from '../lexicon';
import { CITIES, FIRST_NAMES, LAST_NAMES, MAJOR_CITIES, NOT_NAME_WORDS } from '../wordlists';
import { AddressRecognizer } from './address';
import { GREETINGS, PERSON_LABELS, TITLES } from './labels';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const TOKEN = String.raw`(?:(?:Mc|Mac|O['’])?\p{Lu}\p{Ll}+(?:[-'’]\p{Lu}?\p{Ll}+)*|\p{Lu}{2,}(?:[-'’]\p{Lu}+)*|\p{Lu}\.?(?!\p{L}))`;
const PARTICLES = ['van', 'von', 'vom', 'zu', 'zum', 'de', 'der', 'den', 'des', 'da', 'das', 'do', 'dos', 'di', 'del', 'della', 'dei', 'le', 'la', 'du', 'bin', 'al', 'ter', 'ten', 'te', 'y'];
const PARTICLE = `(?:${PARTICLES.join('|')})`;
const RUN = String.raw`${TOKEN}(?:[ ](?:${PARTICLE}[ ]){0,2}${TOKEN}){0,3}`;
// Titles whose bare form is an ordinary word or letter ("M", "Fr", "D") need their dot.
// "M." after a capitalised word is an initial ("John M. Smith"), not "Monsieur".
const DOTTED_TITLES = String.raw`(?:(?<!\p{Lu}[\p{L}.]*[ ])(?:M|D)|MM|Fr|Hr|Sr|Sra|Srta|Dr|Me)`;
const TITLE = String.raw`(?:(?:${TITLES})(?:\.|(?=[ ]))|${DOTTED_TITLES}\.)`;

const both = (ws: string[]): string => [...new Set(ws.flatMap((w) => [w, w.toUpperCase(), w.toLowerCase()]))].sort((a, b) => b.length - a.length).join('|');
const LABELS = both(PERSON_LABELS);

const SALUTATION = new RegExp(String.raw`(?<![\p{L}\p{N}])${TITLE}[ ]?(${RUN})`, 'gu');
const LABELLED = new RegExp(
  String.raw`(?<![\p{L}])(?:${LABELS})(?:[ ]?[:\-]?[ ]?|[ ]?:\n)(?:${TITLE}[ ]?)?(${RUN}(?:,[ ]${RUN})?)`,
  'gu',
);
const GREETING = new RegExp(String.raw`(?<![\p{L}])(?:${GREETINGS})[ ](?:${TITLE}[ ]?)?(${RUN})`, 'gu');
const RUN_RE = new RegExp(String.raw`(?<![\p{L}\p{N}])${RUN}(?![\p{L}])`, 'gu');
const ABOVE_ADDRESS = new RegExp(String.raw`^(?:${TITLE}[ ]?)?(${RUN})[ ,]*$`, 'u');
// A title inside a run starts the next name ("José López y Sra. María"); single letters are initials.
const TITLE_WORD = new RegExp(String.raw`^(?:${TITLES}|MM|Fr|Hr|Sr|Sra|Srta|Dr|Me)\.?$`, 'u');
const IS_PARTICLE = new RegExp(`^${PARTICLE}$`);
// First words of place names that the name lexicon also holds ("New York", "San Francisco", "Hong Kong").
const PLACE_LEADS = new Set(
  'new san santa santo são sao los las hong saint st ste sankt port fort mount mont monte lake rio buenos costa sri el la le den bad north south east west upper lower great little old'.split(' '),
);
const CITY_SET = new Set([...CITIES, ...MAJOR_CITIES].map((c) => c.toLowerCase()));
const FIRST_SET = new Set(FIRST_NAMES.map((c) => c.toLowerCase()));
const LAST_SET = new Set(LAST_NAMES.map((c) => c.toLowerCase()));

type Mode = 'title' | 'label' | 'lexicon';

const bare = (w: string): string => w.replace(/[.,]$/, '').toLowerCase();
const isInitial = (w: string): boolean => /^\p{Lu}\.?$/u.test(w);
const structural = (w: string): boolean => NOT_NAME_WORDS.has(bare(w));
/** A word a name may hold after a label or greeting: a known name, or no common word. */
const nameLike = (w: string): boolean => isInitial(w) || w.split(/[-'’]/).every((p) => p.length < 2 || isLexiconName(p) || !isCommonWord(p));

/**
 * Trims a candidate run at the first word that cannot be part of a name in this mode. Returns the
 * kept length and the name words (no particles) kept.
 */
function trimRun(run: string, mode: Mode): { length: number; words: string[] } {
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  let length = 0;
  const words: string[] = [];
  while ((m = re.exec(run)) !== null) {
    const w = m[0].replace(/,$/, '');
    if (IS_PARTICLE.test(w)) {
      length = m.index + m[0].length;
      continue;
    }
    if (structural(w) || TITLE_WORD.test(w)) break;
    // After a label or greeting the first word must be a name or no common word ("Dear Valued
    // Customer" is none); the rest of the run only must not be a heading word ("JOHN Q PUBLIC").
    if (mode === 'lexicon' && !nameLike(w)) break;
    if (mode === 'label' && words.length === 0 && !nameLike(w)) break;
    length = m.index + w.length;
    words.push(w);
  }
  // A name does not end with a particle or a comma.
  const trimmed = run.slice(0, length).replace(new RegExp(`(?:[ ,]+${PARTICLE})+$`), '').replace(/[ ,]+$/, '');
  return { length: trimmed.length, words };
}

/** True when a run of capitalised words is a name by the lexicon alone (see the module comment). */
export function lexiconName(words: readonly string[]): boolean {
  const full = words.filter((w) => !isInitial(w));
  if (full.length < 2 || words.length > 4) return false;
  const first = words[0].split(/[-'’]/)[0];
  // The bundled given names count as known too ("Giulia" is not in the lexicon).
  if (isInitial(words[0]) || !(isLexiconName(first) || FIRST_SET.has(first.toLowerCase()))) return false;
  if (PLACE_LEADS.has(bare(words[0])) || full.some((w) => CITY_SET.has(bare(w)))) return false;
  // The same word twice ("Lisboa Lisboa") is two columns or a heading, not a name.
  if (new Set(full.map(bare)).size < full.length) return false;
  const parts = full.flatMap((w) => w.split(/[-'’]/).filter((p) => p.length >= 2));
  if (!parts.every((p) => isLexiconName(p) || !isCommonWord(p))) return false;
  // Names made only of common words ("Peter Baker", "Frank Miller") need a frequent given name
  // and surname of the bundled lists ("Mark Down" is no name).
  if (parts.some((p) => (isLexiconName(p) || FIRST_SET.has(p.toLowerCase())) && !isCommonWord(p))) return true;
  return FIRST_SET.has(bare(full[0])) && LAST_SET.has(bare(full[full.length - 1]));
}

/** Finds person names. */
export class PersonRecognizer implements Recognizer {
  readonly name = 'person';
  readonly entities = ['person'] as const;
  private readonly address = new AddressRecognizer();
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    const push = (start: number, run: string, mode: Mode, minWords: number, score: number): void => {
      const t = trimRun(run, mode);
      if (t.words.length < minWords || t.length === 0) return;
      if (mode === 'lexicon' && !lexiconName(t.words)) return;
      out.push({ entity: 'person', start, end: start + t.length, score, recognizer: this.name });
    };
    // Each context scan resumes after the name it kept, so a title that a longer run swallowed
    // ("José López y Sra. María") starts the next match.
    const scan = (re: RegExp, mode: Mode, score: number): void => {
      const r = new RegExp(re.source, re.flags);
      let m: RegExpExecArray | null;
      while ((m = r.exec(text)) !== null) {
        const start = m.index + m[0].length - m[1].length;
        const before = out.length;
        push(start, m[1], mode, 1, score);
        r.lastIndex = out.length > before ? Math.max(out[out.length - 1].end, m.index + 1) : m.index + 1;
      }
    };
    scan(SALUTATION, 'title', 0.9);
    scan(LABELLED, 'label', 0.85);
    scan(GREETING, 'label', 0.85);
    for (const m of matchAll(RUN_RE, text)) {
      // Each start inside the run, so "Paid to Olivia Hartley" finds the name after "Paid".
      const tokens = [...m[0].matchAll(/\S+/g)];
      for (const tok of tokens) {
        if (IS_PARTICLE.test(tok[0]) || isInitial(tok[0])) continue;
        const before = out.some((o) => o.start <= m.index + tok.index! && m.index + tok.index! < o.end);
        if (before) continue;
        const t = trimRun(m[0].slice(tok.index!), 'lexicon');
        // "02 Jan TESCO": a month after a day number is a date, not the given name "Jan".
        const at = m.index + tok.index!;
        if (monthFromName(tok[0].replace(/\.$/, '')) !== undefined && /\d\.?[ ]$/.test(text.slice(Math.max(0, at - 3), at))) continue;
        if (t.words.length >= 2 && lexiconName(t.words)) {
          push(m.index + tok.index!, m[0].slice(tok.index!), 'lexicon', 2, 0.75);
          break;
        }
      }
    }
    // A name-only line just above an address (the addressee block of a letter or statement).
    const lines = text.split('\n');
    const starts: number[] = [];
    let p = 0;
    for (const l of lines) {
      starts.push(p);
      p += l.length + 1;
    }
    const lineOf = (pos: number): number => {
      let i = 0;
      while (i + 1 < starts.length && starts[i + 1] <= pos) i++;
      return i;
    };
    for (const a of this.address.find(text)) {
      const li = lineOf(a.start);
      if (li === 0 || text.slice(starts[li], a.start).trim() !== '') continue;
      const prev = lines[li - 1];
      const m = ABOVE_ADDRESS.exec(prev.trim());
      if (!m) continue;
      const lead = prev.length - prev.trimStart().length + m[0].indexOf(m[1]);
      push(starts[li - 1] + lead, m[1], 'title', 2, 0.8);
    }
    return mergeOverlapping(out);
  }
}

/** One match per name: overlapping finds ("Smith" after a title inside "John M. Smith") become their union. */
function mergeOverlapping(ms: RecognizerMatch[]): RecognizerMatch[] {
  const sorted = [...ms].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: RecognizerMatch[] = [];
  for (const m of sorted) {
    const last = out[out.length - 1];
    if (last && m.start < last.end) {
      last.end = Math.max(last.end, m.end);
      last.score = Math.max(last.score, m.score);
    } else out.push({ ...m });
  }
  return out;
}
