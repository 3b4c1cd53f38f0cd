/** LR schedules: warm-up, constant, linear, cosine, cosine with restarts (num_cycles, min_lr honoured). */
import { learningRate, LrScheduleSchema } from '../../src/training/lr-schedule';

const S = (o: object) => LrScheduleSchema.parse(o);

describe('learning-rate schedules', () => {
  it('linear warm-up never gives 0 and reaches the peak', () => {
    const s = S({ kind: 'constant', warmup_steps: 4 });
    expect([0, 1, 2, 3, 4, 50].map((t) => learningRate(1, s, t, 100))).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
  });
  it('linear decays to min_lr', () => {
    const s = S({ kind: 'linear', min_lr: 0.1 });
    expect(learningRate(1, s, 0, 11)).toBeCloseTo(1);
    expect(learningRate(1, s, 5, 11)).toBeCloseTo(0.1 + 0.9 * (1 - 5 / 11));
    expect(learningRate(1, s, 11, 11)).toBeCloseTo(0.1);
  });
  it('cosine with warm-up: peak after warm-up, half way at the midpoint, min_lr at the end', () => {
    const s = S({ kind: 'cosine', warmup_steps: 10, min_lr: 0.2 });
    expect(learningRate(2, s, 10, 110)).toBeCloseTo(2);
    expect(learningRate(2, s, 60, 110)).toBeCloseTo(0.2 + 1.8 * 0.5);
    expect(learningRate(2, s, 110, 110)).toBeCloseTo(0.2);
    for (let t = 10; t < 110; t++) expect(learningRate(2, s, t + 1, 110)).toBeLessThanOrEqual(learningRate(2, s, t, 110) + 1e-12);
  });
  it('cosine with restarts: num_cycles restarts, each cycle from the peak down to min_lr', () => {
    const s = S({ kind: 'cosine_with_restarts', num_cycles: 3, min_lr: 0.1 });
    const total = 300;
    const lrs = Array.from({ length: total }, (_, t) => learningRate(1, s, t, total));
    expect(lrs[0]).toBeCloseTo(1);
    expect(lrs[100]).toBeCloseTo(1);
    expect(lrs[200]).toBeCloseTo(1);
    expect(lrs[99]).toBeLessThan(0.11);
    expect(lrs[50]).toBeCloseTo(0.1 + 0.9 * 0.5);
    const restarts = lrs.filter((v, i) => i > 0 && v > lrs[i - 1] + 1e-9).length;
    expect(restarts).toBe(2);
    expect(Math.min(...lrs)).toBeGreaterThanOrEqual(0.1 - 1e-12);
    expect(learningRate(1, s, total, total)).toBeCloseTo(0.1);
  });
  it('rejects unknown keys and bad values', () => {
    expect(() => S({ kind: 'cosine', cycles: 2 })).toThrow();
    expect(() => S({ kind: 'cosine_with_restarts', num_cycles: 0 })).toThrow();
  });
});
