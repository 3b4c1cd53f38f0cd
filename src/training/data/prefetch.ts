/**
 * Runs the data pipeline ahead of the train step: batches are produced in order, one after the
 * other, at most `capacity` ahead (bounded memory). The step's wait on data is measured, so a run
 * can report whether loading is the bottleneck.
 */
export class Prefetcher<T> {
  private readonly queue: Array<Promise<T>> = [];
  private next_: number;
  private tail: Promise<unknown> = Promise.resolve();
  /** Milliseconds the consumer spent waiting for data. */
  waitedMs = 0;

  constructor(
    private readonly produce: (index: number) => Promise<T>,
    start: number,
    private readonly capacity: number,
  ) {
    this.next_ = start;
    this.fill();
  }

  private fill(): void {
    while (this.queue.length < this.capacity) {
      const index = this.next_++;
      // Chained: production is sequential (deterministic order, one page decode at a time).
      const p = this.tail.then(() => this.produce(index));
      p.catch(() => undefined); // reported when taken
      this.tail = p.catch(() => undefined);
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
