/**
 * How a training run learns it should stop: a {@link StopSource} the loop asks before each step.
 * {@link SignalStop} is the one `doc-anon train-*` uses: SIGINT/SIGTERM ask the run to finish its
 * step, write a checkpoint and stop; a second SIGINT (Ctrl-C twice) kills the process at once
 * (checkpoints are written atomically, so nothing is left half-written).
 */
import type { Logger } from 'pino';

/** Something that can ask a run to stop after its current step. */
export interface StopSource {
  /** The reason a stop was asked for (e.g. `SIGTERM`), or null to go on. */
  readonly requested: string | null;
}

/** SIGINT/SIGTERM as a {@link StopSource}, installed until {@link SignalStop.dispose}. */
export class SignalStop implements StopSource {
  private reason: string | null = null;
  private interrupted = false;
  private readonly onInt = (): void => this.receive('SIGINT');
  private readonly onTerm = (): void => this.receive('SIGTERM');

  /** @param describe what the log line of a second Ctrl-C names (e.g. the last checkpoint). */
  constructor(
    private readonly logger?: Logger,
    private readonly describe: () => Record<string, unknown> = () => ({}),
  ) {
    process.on('SIGINT', this.onInt);
    process.on('SIGTERM', this.onTerm);
  }

  get requested(): string | null {
    return this.reason;
  }

  private receive(sig: 'SIGINT' | 'SIGTERM'): void {
    // Only SIGINT counts twice: a rank can get SIGTERM twice from one request (a scheduler
    // signalling the whole job, and the --nproc launcher forwarding it).
    if (sig === 'SIGINT' && this.interrupted) {
      this.logger?.error({ signal: sig, ...this.describe() }, 'interrupted twice: exiting now, without a final checkpoint or pending uploads');
      // Die of the signal, as a process without a handler does: at once, even in the middle of a
      // native step (process.exit would wait for the step to finish).
      this.dispose();
      process.kill(process.pid, 'SIGINT');
      return;
    }
    if (sig === 'SIGINT') this.interrupted = true;
    this.reason ??= sig;
    this.logger?.warn({ signal: sig }, 'signal received: finishing the current step, writing a checkpoint, then exiting (Ctrl-C again exits at once)');
  }

  /** Removes the handlers. */
  dispose(): void {
    process.off('SIGINT', this.onInt);
    process.off('SIGTERM', this.onTerm);
  }
}
