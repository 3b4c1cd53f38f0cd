/**
 * Claiming a version before uploading it, so two writers never interleave their files under one
 * version and exactly one of them can publish a manifest.
 *
 * Why not only `If-None-Match: *` on the manifest: some S3 servers (s3rver, older MinIO) ignore
 * it, and even where it works, the loser's file uploads would already have overwritten the
 * winner's files. The protocol here needs only read-after-write consistent PUT/LIST/DELETE
 * (R2 and S3 provide it):
 *
 * 1. Each writer PUTs its own claim object `<version>/.claims/<writerId>` (distinct keys, so no
 *    overwrite is possible) and then LISTs `.claims/`.
 * 2. Only its claim listed: it wins. Its claim is never deleted while it holds the version.
 * 3. Others listed and its id is not the smallest: it deletes its claim and gets ERR_CONFLICT.
 * 4. Its id is the smallest: it polls until the others have withdrawn (they do, by rule 3) and
 *    wins; if a claim stays past `waitMs` (a live winner, or a dead writer) it withdraws with
 *    ERR_CONFLICT. A manifest appearing meanwhile also ends in ERR_CONFLICT.
 *
 * Two winners are impossible: a winner saw only its own claim at some instant while every other
 * winner's claim would have to have been present then (written before it listed, never removed).
 * A writer that dies after claiming leaves its claim; `abandonIncomplete` removes it.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { DocAnonError, ErrorCode } from '../core/errors';
import type { R2Remote } from './remote';
import { sleep } from './retry';

/** Folder of claim objects inside a version folder. */
export const CLAIMS_DIR = '.claims';

/** A new random writer id (sortable hex). */
export function newWriterId(): string {
  return randomBytes(12).toString('hex');
}

/** Options of {@link claimVersion}. */
export interface ClaimOptions {
  /** How long the writer with the smallest id waits for competitors to withdraw (default 15000 ms). */
  waitMs?: number;
  /** Poll interval while waiting (default 250 ms). */
  pollMs?: number;
  /** Extra check polled while waiting: returns true when the version got published meanwhile. */
  published?: () => Promise<boolean>;
}

function conflict(uri: string, why: string): DocAnonError {
  return new DocAnonError(
    ErrorCode.CONFLICT,
    `Version ${uri} already exists or is being written by another writer (${why}). Push under a new version; ` +
      'if a writer died mid-upload, remove its leftovers with ArtifactStore.abandonIncomplete().',
  );
}

/**
 * Claims `<versionKey>` for `writerId`. Resolves when this writer holds the version.
 * @throws DocAnonError ERR_CONFLICT when another writer holds or wins it.
 */
export async function claimVersion(
  remote: R2Remote,
  bucket: string,
  versionKey: string,
  writerId: string,
  uri: string,
  opts: ClaimOptions = {},
): Promise<void> {
  const prefix = `${versionKey}/${CLAIMS_DIR}/`;
  const mine = prefix + writerId;
  const body = JSON.stringify({ writerId, host: os.hostname(), pid: process.pid, createdAt: new Date().toISOString() });
  await remote.putBytes(bucket, mine, body, { contentType: 'application/json' });
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  try {
    for (;;) {
      const claims = (await remote.listKeys(bucket, prefix)).map((k) => k.key).sort();
      const others = claims.filter((k) => k !== mine);
      if (others.length === 0) return;
      if (claims[0] !== mine) throw conflict(uri, 'another writer claimed it');
      if (opts.published && (await opts.published())) throw conflict(uri, 'it was published meanwhile');
      if (Date.now() > deadline) throw conflict(uri, `${others.length} other claim(s) did not withdraw`);
      await sleep(opts.pollMs ?? 250);
    }
  } catch (e) {
    await releaseClaim(remote, bucket, versionKey, writerId).catch(() => undefined);
    throw e;
  }
}

/** Withdraws a claim (after a lost race or a failed upload). */
export async function releaseClaim(remote: R2Remote, bucket: string, versionKey: string, writerId: string): Promise<void> {
  await remote.delete(bucket, `${versionKey}/${CLAIMS_DIR}/${writerId}`);
}
