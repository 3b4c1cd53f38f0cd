/**
 * The document's synthetic persona: every name token maps to one fake token (keyed HMAC of the
 * token and its role, so the mapping holds on every page and, with a secret, in every document),
 * so "Margaret Whitfield" and "margaret.whitfield@..." and "Dear Margaret," all name the same fake
 * person. Email local parts built from a name ("first.last", "f.last", "firstlast", "last_first")
 * take the fake name's tokens in the same pattern.
 */
import { FIRST_NAMES, LAST_NAMES } from '../wordlists';
import { keyedRng } from './keyed';
import { matchCase, pickSimilarLength } from './shape';

/** A name token's role: it picks the list the fake comes from. */
export type NameRole = 'given' | 'family';

const TITLE = /^(?:mr|mrs|ms|miss|mx|dr|prof|sir|dame|rev|lady|lord|herr|frau|mme|mlle|m|sr|sra|sig|sig\.ra|dhr|mevr)\.?,?$/i;
const PARTICLE = /^(?:van|von|de|der|den|da|di|le|la|du|del|dos|bin|al|jr|sr|ii|iii|iv)\.?,?$/i;

/** Name tokens seen in this document and their fakes. */
export class Persona {
  private readonly fakes = new Map<string, string>();
  private readonly roles = new Map<string, NameRole>();
  /** Given-name initial -> the fake given names of people with that family name. */
  private readonly people: Array<{ given: string[]; family: string }> = [];

  constructor(private readonly key: Uint8Array) {}

  /** The fake of one name token (lower case), the same every time for this key. */
  token(token: string, role: NameRole, attempt = 0): string {
    const lower = token.toLowerCase();
    const k = `${role}\u0000${lower}\u0000${attempt}`;
    let fake = this.fakes.get(k);
    if (fake === undefined) {
      const rng = keyedRng(this.key, `name-${role}`, lower, attempt);
      fake = pickSimilarLength(role === 'given' ? FIRST_NAMES : LAST_NAMES, token.length, rng, token).toLowerCase();
      this.fakes.set(k, fake);
    }
    return fake;
  }

  /**
   * A person's name: titles, particles, punctuation and initials' shape stay; the last word is a
   * family name, the others given names (each hyphenated part alone); each token's fake is the
   * persona's. Records the name so an email local part can follow it.
   */
  person(original: string, attempt: number, letter: (upper: boolean) => string): string {
    const parts = original.split(/(\s+)/);
    const wordIdx = parts.map((p, i) => (/\S/.test(p) && !TITLE.test(p) && !PARTICLE.test(p) ? i : -1)).filter((i) => i >= 0);
    const lastIdx = wordIdx[wordIdx.length - 1];
    const given: string[] = [];
    let family = '';
    // "Mr Whitfield": a lone word after a title is a family name.
    const titled = parts.some((p) => TITLE.test(p));
    const out = parts.map((p, i) => {
      if (!wordIdx.includes(i)) return p;
      const positional: NameRole = (i === lastIdx && wordIdx.length > 1) || (wordIdx.length === 1 && titled) ? 'family' : 'given';
      return p.replace(/[A-Za-z\u00C0-\u024F']+/g, (run) => {
        if (run.length === 1) return letter(run === run.toUpperCase());
        // A token keeps the role it had where it was first seen ("Dear Margaret," after "Margaret Whitfield").
        const role = this.roles.get(run.toLowerCase()) ?? positional;
        this.roles.set(run.toLowerCase(), role);
        if (role === 'given') given.push(run.toLowerCase());
        else family = run.toLowerCase();
        return matchCase(run, this.token(run, role, attempt));
      });
    });
    if (family) this.people.push({ given, family });
    return out.join('');
  }

  /** The role a token had in a name of this document, if it was seen in one. */
  roleOf(token: string): NameRole | undefined {
    return this.roles.get(token.toLowerCase());
  }

  /**
   * An email local part whose letter runs are name tokens: each takes the persona's fake in its
   * case ("margaret.whitfield" -> "alexander.johansson"; an initial before a family name takes the
   * initial of that person's fake given name). Undefined when no run is a name seen in the document.
   */
  localPart(local: string, digit: () => string, letter: (upper: boolean) => string): string | undefined {
    const runs = [...local.matchAll(/\p{L}+/gu)].map((m) => m[0]);
    const known = runs.filter((r) => r.length > 1 && this.roles.has(r.toLowerCase()));
    if (known.length === 0) return undefined;
    let idx = 0;
    return local.replace(/\p{L}+|\p{N}+/gu, (run) => {
      if (/^\p{N}/u.test(run)) return run.replace(/\p{N}/gu, () => digit());
      const at = idx++;
      const lower = run.toLowerCase();
      if (run.length === 1) {
        // "m.whitfield": the initial of the fake given name of the person called Whitfield.
        const next = runs[at + 1]?.toLowerCase();
        const person = this.people.find((p) => p.family === next && p.given.some((g) => g[0] === lower));
        const g = person?.given.find((x) => x[0] === lower);
        return g ? matchCase(run, this.token(g, 'given')[0]) : letter(run === run.toUpperCase());
      }
      const role = this.roles.get(lower) ?? (at === 0 ? 'given' : 'family');
      return matchCase(run, this.token(run, role));
    });
  }
}
