/** Custom recognizers from config: a regex, an optional validator, an entity type and a score. */
import { abaValid, luhnValid, mod97 } from '../checksums';
import { hasContext } from './context';
import { isIban } from './iban';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

/** Validators a custom rule may name; each receives the match with separators removed. */
export const VALIDATORS: Record<string, (compact: string) => boolean> = {
  luhn: luhnValid,
  aba: abaValid,
  iban: isIban,
  /** ISO 7064 mod 97-10 over the whole string (e.g. creditor references "RF..."). */
  mod97: (s) => s.length > 2 && mod97(s.slice(4) + s.slice(0, 4)) === 1,
};

/** A custom rule, as validated by the policy schema. */
export interface CustomRule {
  name: string;
  entity: string;
  pattern: string;
  flags?: string;
  /** Which capture group is the value (0 = the whole match). */
  group?: number;
  validator?: keyof typeof VALIDATORS;
  /** Label words (regex alternatives) that must appear before the value on its line or the line above. */
  context?: string[];
  score?: number;
  /** Leading characters the replacement keeps (used by the Replacer, not by the recognizer). */
  keepPrefix?: number;
}

/** A recognizer built from a {@link CustomRule}. */
export class CustomRecognizer implements Recognizer {
  readonly name: string;
  readonly entities: readonly string[];
  private readonly re: RegExp;
  constructor(private readonly rule: CustomRule) {
    this.name = `custom:${rule.name}`;
    this.entities = [rule.entity];
    this.re = new RegExp(rule.pattern, (rule.flags ?? '').replace(/g/g, '') + 'g');
  }
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    const g = this.rule.group ?? 0;
    for (const m of matchAll(this.re, text)) {
      const value = m[g];
      if (value === undefined || value.length === 0) continue;
      const start = g === 0 ? m.index : m.index + m[0].indexOf(value);
      const end = start + value.length;
      if (this.rule.validator && !VALIDATORS[this.rule.validator](value.replace(/[\s\-.\/]/g, ''))) continue;
      if (this.rule.context?.length && !hasContext(text, start, end, this.rule.context.join('|'))) continue;
      out.push({ entity: this.rule.entity, start, end, score: this.rule.score ?? 0.8, recognizer: this.name });
    }
    return out;
  }
}
