import { progressLine } from '../../src/cli/progress';

describe('progressLine', () => {
  const tty = process.stderr.isTTY;
  let written: string[];
  let spy: jest.SpyInstance;
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    written = [];
    (process.stderr as { isTTY?: boolean }).isTTY = true;
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      written.push(String(s));
      return true;
    });
  });
  afterEach(() => {
    spy.mockRestore();
    (process.stderr as { isTTY?: boolean }).isTTY = tty;
    jest.useRealTimers();
  });

  it('a resumed run counts only the steps this process did (rate and ETA)', () => {
    const bar = progressLine('train', 5100, 5000);
    jest.advanceTimersByTime(10_000);
    bar(5010);
    // 10 steps in 10 s: 1/s, 90 steps left.
    expect(written.join('')).toMatch(/5010\/5100 1\.00\/s ETA 90s/);
  });

  it('from scratch, and silent when stderr is not a TTY', () => {
    const bar = progressLine('train', 100);
    jest.advanceTimersByTime(5_000);
    bar(10);
    expect(written.join('')).toMatch(/10\/100 2\.00\/s ETA 45s/);
    (process.stderr as { isTTY?: boolean }).isTTY = false;
    written = [];
    progressLine('train', 100)(10);
    expect(written).toEqual([]);
  });
});
