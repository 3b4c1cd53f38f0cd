/** Runs at most `size` tasks at once; the others wait their turn, in call order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`Semaphore: size must be an integer >= 1 (got ${size})`);
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((go) => this.waiting.push(go));
    else this.active++;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiting task, so `active` never overshoots.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
