/**
 * The artifact manifest: the last object written for an artifact version, and the only proof that
 * the version is complete. Readers trust sha256 + size from here, never ETags (multipart ETags
 * differ between servers).
 */
import { z } from 'zod';
import { DocAnonError, ErrorCode } from '../core/errors';
import { validateKey } from './uri';

/** File name of the manifest inside a version folder. */
export const MANIFEST_FILE = 'manifest.json';
/** Schema tag written into every manifest. */
export const MANIFEST_SCHEMA = 'doc-anon-torch/artifact@1';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex characters');

/** One file of an artifact. */
export const ManifestFileSchema = z.object({
  /** Relative POSIX path inside the artifact. */
  path: z.string().refine((p) => {
    try {
      validateKey(p, 'path');
      return p !== MANIFEST_FILE;
    } catch {
      return false;
    }
  }, 'unsafe or reserved file path'),
  size: z.number().int().nonnegative(),
  sha256: Sha256,
});

/** Where an artifact came from. Extra keys are kept. */
export const ProvenanceSchema = z
  .object({
    gitCommit: z.string().optional(),
    configHash: z.string().optional(),
    step: z.number().int().nonnegative().optional(),
    metrics: z.record(z.string(), z.number()).optional(),
    host: z.string().optional(),
  })
  .loose();

/** The manifest.json of an artifact version. */
export const ManifestSchema = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  name: z.string(),
  version: z.string(),
  /** ISO 8601 time the upload finished. */
  createdAt: z.string(),
  /** Random id of the writer; lets a writer check that the stored manifest is its own. */
  writerId: z.string(),
  files: z.array(ManifestFileSchema),
  totalSize: z.number().int().nonnegative(),
  config: z.unknown().optional(),
  provenance: ProvenanceSchema,
});

export type ManifestFile = z.infer<typeof ManifestFileSchema>;
export type Provenance = z.infer<typeof ProvenanceSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;

/** Parses and validates manifest bytes. @throws DocAnonError ERR_INTEGRITY when malformed. */
export function parseManifest(bytes: Buffer | string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString());
  } catch {
    throw new DocAnonError(ErrorCode.INTEGRITY, `Manifest ${where} is not valid JSON. The artifact is damaged; push it again.`);
  }
  const r = ManifestSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DocAnonError(ErrorCode.INTEGRITY, `Manifest ${where} is invalid (${issues}). The artifact is damaged or from an incompatible version.`);
  }
  const seen = new Set<string>();
  for (const f of r.data.files) {
    if (seen.has(f.path)) throw new DocAnonError(ErrorCode.INTEGRITY, `Manifest ${where} lists ${f.path} twice.`);
    seen.add(f.path);
  }
  return r.data;
}
