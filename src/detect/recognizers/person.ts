/**
 * Person names by context: after salutations (Mr, Mrs, Ms, Dr, ...), after labels ("Name:",
 * "Account holder", "Beneficiary", ...), after "Dear", a known given name followed by a surname,
 * and a name-like line just above an address. Words that are never names (headings, "Bank",
 * "Ltd", ...) end a name.
 */
import { FIRST_NAMES, NOT_NAME_WORDS } from '../wordlists';
import { AddressRecognizer } from './address';
import type { Recognizer, RecognizerMatch } from './types';
import { matchAll } from './types';

const TOKEN = String.raw`(?:(?:Mc|Mac|O')?[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)*|[A-Z]{2,}(?:[-'][A-Z]+)*|[A-Z]\.?(?![A-Za-z]))`;
const PARTICLE = String.raw`(?:van|von|de|der|den|da|di|le|la|du|del|dos|bin|al)`;
const RUN = String.raw`${TOKEN}(?:[ ](?:${PARTICLE}[ ]){0,2}${TOKEN}){0,3}`;
const TITLES = String.raw`(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|Lady|Lord|MR|MRS|MS|MISS|DR|PROF)`;

const both = (ws: string[]): string => ws.flatMap((w) => [w, w.toUpperCase(), w.toLowerCase()]).join('|');
const LABELS = both([
  'Name', 'Full name', 'Full Name', 'Account holder', 'Account Holder', 'Account name', 'Account Name', 'Account owner',
  'Customer', 'Customer name', 'Customer Name', 'Client', 'Client name', 'Beneficiary', 'Beneficiary name', 'Payee', 'Payer',
  'Cardholder', 'Card holder', 'Card Holder', 'Recipient', 'Sender', 'Remitter', 'Authorised by', 'Authorized by',
  'Signed by', 'Prepared for', 'Prepared by', 'Attn', 'Attention', 'Holder', 'Insured', 'Patient', 'Employee',
  'Policyholder', 'Applicant', 'Borrower', 'Co-borrower', 'Guarantor', 'Tenant', 'Landlord', 'Owner', 'Contact',
]);

const SALUTATION = new RegExp(String.raw`(?<![A-Za-z])${TITLES}\.?[ ](${RUN})`, 'g');
const LABELLED = new RegExp(String.raw`(?<![A-Za-z])(?:${LABELS})(?:[ ]?[:\-]?[ ]?|[ ]?:\n)(?:${TITLES}\.?[ ])?(${RUN})`, 'g');
const DEAR = new RegExp(String.raw`(?<![A-Za-z])(?:Dear|DEAR)[ ](?:${TITLES}\.?[ ])?(${RUN})`, 'g');
const RUN_RE = new RegExp(String.raw`(?<![A-Za-z])${RUN}(?![A-Za-z])`, 'g');
const ABOVE_ADDRESS = new RegExp(String.raw`^(?:${TITLES}\.?[ ])?(${RUN})[ ,]*$`);
const FIRST = new Set(FIRST_NAMES.map((n) => n.toLowerCase()));

/**
 * Trims a candidate name run at the first word that is never a name. Returns the kept length
 * and the number of name tokens kept.
 */
function trimRun(run: string): { length: number; tokens: number } {
  const re = /\S+/g;
  let m: RegExpExecArray | null;
  let length = 0;
  let tokens = 0;
  while ((m = re.exec(run)) !== null) {
    const w = m[0].replace(/\.$/, '').toLowerCase();
    if (NOT_NAME_WORDS.has(w)) break;
    length = m.index + m[0].length;
    if (!/^(van|von|de|der|den|da|di|le|la|du|del|dos|bin|al)$/.test(m[0])) tokens++;
  }
  // A name does not end with a particle.
  const trimmed = run.slice(0, length).replace(/(?:\s(?:van|von|de|der|den|da|di|le|la|du|del|dos|bin|al))+$/, '');
  return { length: trimmed.length, tokens };
}

/** Finds person names. */
export class PersonRecognizer implements Recognizer {
  readonly name = 'person';
  readonly entities = ['person'] as const;
  private readonly address = new AddressRecognizer();
  find(text: string): RecognizerMatch[] {
    const out: RecognizerMatch[] = [];
    const push = (start: number, run: string, minTokens: number, score: number): void => {
      const t = trimRun(run);
      if (t.tokens < minTokens || t.length === 0) return;
      out.push({ entity: 'person', start, end: start + t.length, score, recognizer: this.name });
    };
    const group = (m: RegExpExecArray): number => m.index + m[0].length - m[1].length;
    for (const m of matchAll(SALUTATION, text)) push(group(m), m[1], 1, 0.9);
    for (const m of matchAll(LABELLED, text)) push(group(m), m[1], 1, 0.85);
    for (const m of matchAll(DEAR, text)) push(group(m), m[1], 1, 0.85);
    for (const m of matchAll(RUN_RE, text)) {
      const first = m[0].split(' ')[0];
      if (FIRST.has(first.toLowerCase()) && first !== first.toLowerCase()) push(m.index, m[0], 2, 0.75);
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
      push(starts[li - 1] + lead, m[1], 2, 0.8);
    }
    return out;
  }
}
