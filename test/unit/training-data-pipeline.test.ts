/**
 * The training data pipeline prepares batches in parallel (several micro-batches at once, each
 * one's examples at once). What a batch holds must not depend on that: these tests pin the order
 * and bounds of the prefetcher and compare parallel batches with examples made one at a time.
 */
import { Semaphore } from '../../src/core/semaphore';
import { Prefetcher } from '../../src/training/data/prefetch';
import { SyntheticPages, type Page, type PageSource } from '../../src/training/data/pages';
import { dataSlots, threadPoolSize } from '../../src/training/data/pool-slots';
import { unetBatch } from '../../src/training/data/unet-examples';
import { vaeBatch } from '../../src/training/data/vae-examples';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Prefetcher', () => {
  it('hands out batches in index order from the cursor, however the preparations finish', async () => {
    // Later indices finish first: 30, 25, 20, ... ms.
    const f = new Prefetcher(async (i) => (await sleep(Math.max(0, 60 - i * 5)), `batch ${i}`), 6, 4, 3);
    const got: string[] = [];
    for (let k = 0; k < 8; k++) got.push(await f.take());
    expect(got).toEqual([6, 7, 8, 9, 10, 11, 12, 13].map((i) => `batch ${i}`));
  });

  it('prepares at most `concurrency` batches at once and at most `capacity` ahead', async () => {
    let running = 0;
    let maxRunning = 0;
    const started: number[] = [];
    const f = new Prefetcher(
      async (i) => {
        started.push(i);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(15);
        running--;
        return i;
      },
      0,
      5,
      2,
    );
    await sleep(120); // everything the bounds allow is prepared by now
    expect(started).toEqual([0, 1, 2, 3, 4]); // capacity 5, in index order
    expect(maxRunning).toBe(2);
    for (let k = 0; k < 10; k++) expect(await f.take()).toBe(k);
    expect(maxRunning).toBe(2);
  });

  it('with concurrency 1 prepares one batch after the other', async () => {
    const log: string[] = [];
    const f = new Prefetcher(
      async (i) => {
        log.push(`start ${i}`);
        await sleep(5);
        log.push(`end ${i}`);
        return i;
      },
      0,
      3,
    );
    for (let k = 0; k < 3; k++) await f.take();
    expect(log.slice(0, 6)).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  });

  it("a batch's failure is reported when that batch is taken; the others are not affected", async () => {
    const f = new Prefetcher(
      async (i) => {
        await sleep(i === 1 ? 1 : 10);
        if (i === 1) throw new Error('page 1 is unreadable');
        return i;
      },
      0,
      4,
      4,
    );
    await sleep(30); // batch 1 has failed before anything was taken: no unhandled rejection
    expect(await f.take()).toBe(0);
    await expect(f.take()).rejects.toThrow('page 1 is unreadable');
    expect(await f.take()).toBe(2);
    expect(await f.take()).toBe(3);
  });

  it('rejects bounds that are not positive integers', () => {
    expect(() => new Prefetcher(async (i) => i, 0, 4, 0)).toThrow(RangeError);
    expect(() => new Prefetcher(async (i) => i, 0, 0, 1)).toThrow(RangeError);
  });
});

describe('parallel batches equal examples made one at a time', () => {
  const pages = (): SyntheticPages =>
    new SyntheticPages({ seed: 7, width: 420, height: 560, kinds: ['statement', 'invoice', 'form'], noise: 0.02, blur: 0, rotation: 0 });

  it('VAE: a batch of 6 over 3 pages (augmentation on) is the 6 single-example batches', async () => {
    const o = {
      seed: 3,
      cropSize: 48,
      examplesPerPage: 2,
      augment: { hflip: true, brightness: 0.1, contrast: 0.1, noise: 4, jpeg_quality: [60, 90] as [number, number] },
    };
    const shard = (local: number): number => local * 2 + 1; // rank 1 of 2
    const batch = await vaeBatch(pages(), o, 3, 6, shard);
    const one = pages(); // fresh caches: nothing shared with the batch above
    const singles: Uint8Array[] = [];
    for (let b = 0; b < 6; b++) singles.push((await vaeBatch(one, o, 3 + b, 1, shard)).images);
    const joined = new Uint8Array(batch.images.length);
    singles.forEach((s, b) => joined.set(s, b * s.length));
    expect(batch.shape).toEqual([6, 48, 48, 3]);
    expect(Buffer.from(batch.images).equals(Buffer.from(joined))).toBe(true);
    // Not trivially equal: the examples differ from each other.
    expect(Buffer.from(singles[0]).equals(Buffer.from(singles[1]))).toBe(false);
  });

  it('UNet: a batch of 4 (crops resized, glyphs preprocessed) is the 4 single-example batches', async () => {
    const o = { seed: 5, resolution: 64, cropSize: 96, minScore: 0.5, boxExtend: 0.1, examplesPerPage: 2, glyphSize: 32 };
    const batch = await unetBatch(pages(), o, 10, 4);
    const one = pages();
    for (let b = 0; b < 4; b++) {
      const s = await unetBatch(one, o, 10 + b, 1);
      expect(batch.texts[b]).toBe(s.texts[0]);
      expect(Array.from(batch.boxes.subarray(b * 4, b * 4 + 4))).toEqual(Array.from(s.boxes));
      expect(Buffer.from(batch.images.subarray(b * s.images.length, (b + 1) * s.images.length)).equals(Buffer.from(s.images))).toBe(true);
      expect(Array.from(batch.glyphs.subarray(b * s.glyphs.length, (b + 1) * s.glyphs.length))).toEqual(Array.from(s.glyphs));
    }
    expect(new Set(batch.texts).size).toBeGreaterThan(1);
  });
});

describe('Semaphore', () => {
  it('runs at most `size` tasks at once, starts the others in call order, and frees the slot of a failed task', async () => {
    const sem = new Semaphore(2);
    const started: number[] = [];
    let max = 0;
    const task = (i: number, fail = false) => async (): Promise<number> => {
      started.push(i);
      max = Math.max(max, sem.running);
      await sleep(10);
      if (fail) throw new Error(`task ${i} failed`);
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => sem.run(task(i, i === 1))));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 'task 1 failed', 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(max).toBe(2);
    expect(sem.running).toBe(0);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe("the data pipeline's share of libuv's thread pool", () => {
  it('reads UV_THREADPOOL_SIZE as libuv does (default 4, 1..1024)', () => {
    expect(threadPoolSize({})).toBe(4);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '16' })).toBe(16);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '0' })).toBe(1);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: 'many' })).toBe(4);
    // This process: one pool thread is left for the train step's native calls.
    expect(dataSlots.size).toBe(Math.max(1, threadPoolSize() - 1));
  });

  it('a batch prepares at most that many examples at once, even across batches', async () => {
    let inFlight = 0;
    let max = 0;
    const page: Page = { data: new Uint8Array(64 * 64 * 3).fill(200), width: 64, height: 64, annotation: { document: [], entities: [] } as never };
    // A page source that is slow and counts the examples waiting on it (each example asks once).
    const slow: PageSource = {
      page: async () => {
        inFlight++;
        max = Math.max(max, inFlight);
        await sleep(5);
        inFlight--;
        return page;
      },
    };
    const o = { seed: 1, cropSize: 16, examplesPerPage: 1 };
    const [a, b] = await Promise.all([vaeBatch(slow, o, 0, 12), vaeBatch(slow, o, 12, 12)]);
    expect(a.shape).toEqual([12, 16, 16, 3]);
    expect(b.shape).toEqual([12, 16, 16, 3]);
    expect(max).toBe(dataSlots.size);
  });
});
