/**
 * A small seeded PRNG (mulberry32) with the helpers the generator needs. Same seed, same page:
 * nothing in the generator reads Math.random or the clock.
 */

// Math through a module binding: a global lookup per call is slow inside vm contexts (jest).
const M = Math;

/** A deterministic random source. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = M.imul(t ^ (t >>> 15), t | 1);
    t ^= t + M.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + M.floor(this.next() * (hi - lo + 1));
  }

  /** Float in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[M.floor(this.next() * items.length)];
  }

  /** A string of `n` decimal digits. */
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }

  /** A string of `n` uppercase letters. */
  letters(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(65 + this.int(0, 25));
    return s;
  }

  /** Standard normal sample (Box-Muller). */
  gauss(): number {
    const u = M.max(this.next(), 1e-12);
    return M.sqrt(-2 * M.log(u)) * M.cos(2 * M.PI * this.next());
  }
}
