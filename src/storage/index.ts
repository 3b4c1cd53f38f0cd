/** Storage: R2 artifacts (push / pull / list / latest / retention) and the local cache. */
export { ArtifactStore, type ArtifactStoreOptions, type PullOptions, type PullResult } from './store';
export {
  RemoteArtifacts,
  parseArtifactUri,
  parseVersionUri,
  versionUri,
  LATEST_FILE,
  type ArtifactLocation,
  type VersionLocation,
  type VersionInfo,
  type PushOptions,
  type PushProgress,
  type PushResult,
} from './artifacts';
export { BackgroundPusher, type BackgroundOptions, type PushHandle, type PushState } from './background';
export { BlobCache, defaultCacheRoot, COMPLETE_MARKER, type CacheOptions, type FetchResult, type RangeOpener } from './cache';
export { createR2Client, readR2Settings, describeR2Endpoint, type R2ClientOptions, type R2Settings } from './client';
export { claimVersion, releaseClaim, CLAIMS_DIR, type ClaimOptions } from './claim';
export { acquireLock, type LockHandle, type LockOptions } from './lock';
export { silentLogger, type StorageLogger } from './log';
export { ManifestSchema, parseManifest, MANIFEST_FILE, MANIFEST_SCHEMA, type Manifest, type ManifestFile, type Provenance } from './manifest';
export { R2Remote, choosePartSize, MIN_PART_SIZE, type RemoteOptions, type UploadProgress, type RangeStream } from './remote';
export { withRetry, isTransientError, backoffDelay, type RetryOptions } from './retry';
export { parseR2Uri, formatR2Uri, validateKey, validateSegment, validateBucket, joinKey, safeLocalPath, MAX_KEY_BYTES, type R2Location } from './uri';
export { sha256File } from './hash';
