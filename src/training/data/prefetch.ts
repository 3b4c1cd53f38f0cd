import { Semaphore } from '../../core/semaphore';

/**
 * Runs the data pipeline ahead of the train step: batches are handed out in index order, at most
 * `capacity` prepared or in preparation (bounded memory), up to `concurrency` of them prepared at
 * the same time. Batch i is a pure function of i, so preparing several at once changes when a
 * batch is ready, never what it holds. The step's wait on data is measured, so a run can report
 * whether loading is the bottleneck.
 */
export class Prefetcher<T> {
  private readonly queue: Array<Promise<T>> = [];
  private readonly slots: Semaphore;
  private next_: number;
  /** Milliseconds the consumer spent waiting for data. */
  waitedMs = 0;

  constructor(
    private readonly produce: (index: number) => Promise<T>,
    start: number,
    private readonly capacity: number,
    concurrency = 1,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1 && Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new RangeError(`Prefetcher: capacity and concurrency must be integers >= 1 (got ${capacity}, ${concurrency})`);
    }
    this.slots = new Semaphore(concurrency);
    this.next_ = start;
    this.fill();
  }

  private fill(): void {
    while (this.queue.length < this.capacity) {
      const index = this.next_++;
      // Slots are granted in call order, i.e. in index order.
      const p = this.slots.run(() => this.produce(index));
      p.catch(() => undefined); // reported when taken
      this.queue.push(p);
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
