/**
 * Background uploads of a run's checkpoints to R2 (storage.uri): each checkpoint folder goes up as
 * the version named by its step, and a folder is never pruned while its upload is pending.
 */
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { ArtifactStore } from '../storage/store';
import type { TrainConfig } from './config';

/** Uploads of checkpoint folders, tracked so the pruning of old checkpoints spares them. */
export class CheckpointUploads {
  // Folders with uploads in flight (a count: a best checkpoint goes up twice).
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly store: ArtifactStore,
    /** The artifact the step versions go to. */
    readonly uri: string,
    private readonly config: TrainConfig,
    private readonly logger?: Logger,
  ) {}

  /** Folders whose upload has not finished (not to be pruned). */
  get inFlight(): Set<string> {
    return new Set(this.pending.keys());
  }

  /** Uploads `dir` as `<uri>/<its name>` (or to `to`), keeping `keepLast` versions there. */
  push(dir: string, to = `${this.uri}/${path.basename(dir)}`, keepLast = this.config.checkpoint.keep_last): void {
    this.pending.set(dir, (this.pending.get(dir) ?? 0) + 1);
    const done = (): void => {
      const n = (this.pending.get(dir) ?? 1) - 1;
      if (n > 0) this.pending.set(dir, n);
      else this.pending.delete(dir);
    };
    this.store.pushInBackground(dir, to, { config: this.config, keepLast }).flush().then(done, done);
  }

  /** Waits for every upload; with `quiet`, a failure is logged instead of thrown (a run that already failed). */
  async flush(quiet = false): Promise<void> {
    if (!quiet) {
      await this.store.flushBackground();
      return;
    }
    await this.store.flushBackground().catch((err: unknown) => this.logger?.error({ err: String(err) }, 'storage: an upload failed too'));
  }
}
