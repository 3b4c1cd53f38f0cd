/**
 * Runs the data pipeline ahead of the train step: batches are handed out in index order, at most
 * `capacity` prepared or in preparation (bounded memory), up to `concurrency` of them prepared at
 * the same time. Batch i is a pure function of i, so preparing several at once changes when a
 * batch is ready, never what it holds. The step's wait on data is measured, so a run can report
 * whether loading is the bottleneck.
 */
export class Prefetcher<T> {
  private readonly queue: Array<Promise<T>> = [];
  /** Batches waiting for a free preparation slot, in index order. */
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private next_: number;
  /** Milliseconds the consumer spent waiting for data. */
  waitedMs = 0;

  constructor(
    private readonly produce: (index: number) => Promise<T>,
    start: number,
    private readonly capacity: number,
    private readonly concurrency = 1,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new RangeError(`Prefetcher: capacity and concurrency must be integers >= 1 (got ${capacity}, ${concurrency})`);
    }
    this.next_ = start;
    this.fill();
  }

  private fill(): void {
    while (this.queue.length < this.capacity) {
      const p = this.slot(this.next_++);
      p.catch(() => undefined); // reported when taken
      this.queue.push(p);
    }
  }

  /** Prepares batch `index` once a slot is free (slots are granted in index order). */
  private async slot(index: number): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((grant) => this.waiting.push(grant));
    else this.running++;
    try {
      return await this.produce(index);
    } finally {
      // The slot passes straight to the next waiting batch, so `running` never overshoots.
      const grant = this.waiting.shift();
      if (grant) grant();
      else this.running--;
    }
  }

  async take(): Promise<T> {
    const p = this.queue.shift() as Promise<T>;
    this.fill();
    const t0 = performance.now();
    const v = await p;
    this.waitedMs += performance.now() - t0;
    return v;
  }
}
