/** A small deterministic PRNG (sfc32) seeded from bytes, with the helpers the fake generators use. */

/** Deterministic random source for fake generation. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** @param seed at least 16 bytes (e.g. an HMAC-SHA256 digest). */
  constructor(seed: Uint8Array) {
    const v = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
    this.a = v.getUint32(0);
    this.b = v.getUint32(4);
    this.c = v.getUint32(8);
    this.d = v.getUint32(12) | 1;
    for (let i = 0; i < 12; i++) this.next();
  }
  /** A uint32. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  digit(nonZero = false): string {
    return String(nonZero ? 1 + this.int(9) : this.int(10));
  }
  /** A letter A-Z (upper) or a-z. */
  letter(upper: boolean): string {
    return String.fromCharCode((upper ? 65 : 97) + this.int(26));
  }
}
