/**
 * Organisation names: one to four capitalised words followed by a legal form (Ltd, Inc, GmbH,
 * LLC, plc, S.A., B.V., ...) or ending in a sector word (Bank, Credit Union, Insurance, Logistics,
 * ...). The document's own issuer is usually one of these: keep it with the policy's keep-list.
 */
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

/** Legal forms that end an organisation name. */
export const LEGAL_FORMS = ['Ltd', 'Ltd.', 'Limited', 'Inc', 'Inc.', 'Corp', 'Corp.', 'GmbH', 'AG', 'LLC', 'LLP', 'plc', 'PLC', 'S.A.', 'SA', 'B.V.', 'BV', 'N.V.', 'Co.', 'S.p.A.', 'SARL', 'S.L.', 'Pty', 'KG', 'Oy', 'AB', 'A/S'];
/** Words that end organisation names even without a legal form. */
export const SECTOR_WORDS = [
  'Bank', 'Savings Bank', 'Credit Union', 'Trust', 'Insurance', 'Assurance', 'Logistics', 'Consulting', 'Supplies', 'Systems',
  'Foods', 'Energy', 'Media', 'Group', 'Holdings', 'Partners', 'Services', 'Solutions', 'Industries', 'Technologies',
  'Capital', 'Investments', 'Securities', 'Pharma', 'Motors', 'Airlines', 'Telecom', 'Utilities', 'Properties',
];
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const WORD = String.raw`(?:[A-Z][A-Za-z&'\-]+|[A-Z]{2,}|&)`;
const SECTOR = SECTOR_WORDS.map(esc).join('|');
const LEGAL = [...LEGAL_FORMS].sort((a, b) => b.length - a.length).map(esc).join('|');
const WITH_LEGAL = new RegExp(String.raw`(?<![A-Za-z])(?:${WORD} ){1,4}(?:${LEGAL})(?![A-Za-z])`, 'g');
const WITH_SECTOR = new RegExp(String.raw`(?<![A-Za-z])(?:${WORD} ){1,3}(?:${SECTOR})(?: (?:${LEGAL}))?(?![A-Za-z])`, 'g');
const NOT_LEADING = /^(?:Transfer|To|From|Payment|Paid|Card|Direct|Debit|Standing|Order|Issued|By|The|Your|Our|Dear|Account|Statement|Customer|Invoice)\s/;

/** Finds organisation names. */
export class OrganizationRecognizer implements Recognizer {
  readonly name = 'organization';
  readonly entities = ['organization'] as const;
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    for (const [re, score] of [[WITH_LEGAL, 0.8], [WITH_SECTOR, 0.7]] as const) {
      for (const m of matchAll(re, text)) {
        let start = m.index;
        let s = m[0];
        // Leading words such as "Transfer to" are not part of the name.
        while (NOT_LEADING.test(s)) {
          const cut = s.indexOf(' ') + 1;
          start += cut;
          s = s.slice(cut);
        }
        if (!/\s/.test(s)) continue;
        out.push({ entity: 'organization', start, end: start + s.length, score, recognizer: this.name });
      }
    }
    return out;
  }
}
