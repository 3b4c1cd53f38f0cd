/**
 * How the training loop stops on a signal. A single process finishes the step the signal lands in,
 * checkpoints and stops. In a data-parallel job only the ranks' vote decides, so a signal
 * that lands while a vote is in flight is counted in the next vote instead of making this rank
 * leave one collective ahead of the others (the hang CI saw: one rank in the all-gather of its
 * last checkpoint, the other in the next step's gradient all-reduce). The trainer and group are
 * stand-ins that record the order of calls; the real two-rank run is in
 * test/integration/training-distributed.test.ts.
 */
import type { BaseTrainer } from '../../src/training/base-trainer';
import { runTraining } from '../../src/training/loop';

interface Script {
  /** What the other rank votes, per vote (true: it got a signal); absent: a single process. */
  peerVotes?: boolean[];
  /** Vote index during which this process receives SIGINT (the signal lands mid-vote). */
  signalDuringVote?: number;
  /** Step (1-based) during which this process receives SIGTERM. */
  signalDuringStep?: number;
  /** The signals it receives then (default: SIGTERM). */
  signals?: Array<'SIGINT' | 'SIGTERM'>;
}

function fakeTrainer(script: Script): { trainer: BaseTrainer<unknown>; calls: string[] } {
  const calls: string[] = [];
  let step = 0;
  let votes = 0;
  const group = {
    any: async (flag: boolean): Promise<boolean> => {
      const i = votes++;
      calls.push(`vote(${flag})`);
      // The handler runs while this rank waits for the others, after its own flag was sent.
      if (i === script.signalDuringVote) process.emit('SIGINT');
      await new Promise((r) => setImmediate(r));
      return flag || (script.peerVotes?.[i] ?? false);
    },
  };
  const trainer = {
    config: { train: { max_steps: 100 }, log: { metrics_file: 'metrics.jsonl', every: 1000 }, checkpoint: { every: 1000, keep_last: 1 } },
    get step() {
      return step;
    },
    group: script.peerVotes ? group : undefined,
    dist: script.peerVotes ? { rank: 1, worldSize: 2 } : { rank: 0, worldSize: 1 },
    trainStep: async () => {
      step += 1;
      calls.push(`step${step}`);
      if (step === script.signalDuringStep) for (const sig of script.signals ?? ['SIGTERM']) process.emit(sig);
      return { step, lr: 1e-4, gradNorm: 1, skipped: false, examples: 2, stepMs: 1, dataWaitMs: 0, terms: {} };
    },
    gatherGenerators: async () => {
      calls.push('gather');
      return undefined;
    },
  };
  return { trainer: trainer as unknown as BaseTrainer<unknown>, calls };
}

describe('training loop: stopping on a signal', () => {
  it('a signal that lands during a vote waits for the next vote (no rank leaves alone)', async () => {
    const { trainer, calls } = fakeTrainer({ peerVotes: [], signalDuringVote: 1 });
    const r = await runTraining(trainer, { outDir: '/nonexistent-not-written', writer: false });
    // Vote 1 went out as false and came back false: every rank takes step 2, then all vote to stop.
    expect(calls).toEqual(['vote(false)', 'step1', 'vote(false)', 'step2', 'vote(true)', 'gather']);
    expect(r).toMatchObject({ steps: 2, stoppedBy: 'signal' });
  });

  it("another rank's signal stops this one after the same step", async () => {
    const { trainer, calls } = fakeTrainer({ peerVotes: [false, false, false, true] });
    const r = await runTraining(trainer, { outDir: '/nonexistent-not-written', writer: false });
    expect(calls).toEqual(['vote(false)', 'step1', 'vote(false)', 'step2', 'vote(false)', 'step3', 'vote(false)', 'gather']);
    expect(r).toMatchObject({ steps: 3, stoppedBy: 'signal' });
  });

  it('a single process finishes the step a signal lands in, then stops', async () => {
    const { trainer, calls } = fakeTrainer({ signalDuringStep: 2 });
    const r = await runTraining(trainer, { outDir: '/nonexistent-not-written', writer: false });
    expect(calls).toEqual(['step1', 'step2', 'gather']);
    expect(r).toMatchObject({ steps: 2, stoppedBy: 'signal' });
  });

  it('SIGINT twice (Ctrl-C again) ends the process by SIGINT at once; SIGTERM twice or a forwarded SIGTERM does not', async () => {
    const before = process.listenerCount('SIGINT');
    let handlersAtKill = -1;
    const kill = jest.spyOn(process, 'kill').mockImplementation(() => {
      handlersAtKill = process.listenerCount('SIGINT');
      return true;
    });
    try {
      const twice = fakeTrainer({ signalDuringStep: 2, signals: ['SIGINT', 'SIGINT'] });
      await runTraining(twice.trainer, { outDir: '/nonexistent-not-written', writer: false });
      // Re-raised with the loop's handlers removed: the default action ends the process.
      expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT');
      expect(handlersAtKill).toBe(before);
      kill.mockClear();
      // A launcher forwards SIGTERM to ranks that got the terminal's SIGINT too: still one request.
      const forwarded = fakeTrainer({ signalDuringStep: 2, signals: ['SIGINT', 'SIGTERM'] });
      await expect(runTraining(forwarded.trainer, { outDir: '/nonexistent-not-written', writer: false })).resolves.toMatchObject({ steps: 2, stoppedBy: 'signal' });
      // A scheduler signalling the whole job, and the launcher forwarding it: one request.
      const scheduler = fakeTrainer({ signalDuringStep: 2, signals: ['SIGTERM', 'SIGTERM'] });
      await expect(runTraining(scheduler.trainer, { outDir: '/nonexistent-not-written', writer: false })).resolves.toMatchObject({ steps: 2, stoppedBy: 'signal' });
      expect(kill).not.toHaveBeenCalled();
    } finally {
      kill.mockRestore();
    }
  });

  it('keeps its signal handlers while the last uploads finish', async () => {
    const before = process.listenerCount('SIGTERM');
    let during = -1;
    const store = {
      flushBackground: async () => {
        during = process.listenerCount('SIGTERM');
        return [];
      },
    };
    const { trainer } = fakeTrainer({ signalDuringStep: 1 });
    await runTraining(trainer, { outDir: '/nonexistent-not-written', writer: false, store: store as never, storageUri: 'r2://bucket/run' });
    expect(during).toBe(before + 1);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('removes its signal handlers when it returns', async () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const { trainer } = fakeTrainer({ peerVotes: [true] });
    await runTraining(trainer, { outDir: '/nonexistent-not-written', writer: false });
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
