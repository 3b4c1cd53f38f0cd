/**
 * `doc-anon artifacts push|pull|ls`: artifacts in R2 (or any S3-compatible server set by
 * R2_ENDPOINT). Credentials come from the environment only (R2_ACCOUNT_ID, R2_ACCESS_KEY_ID,
 * R2_SECRET_ACCESS_KEY).
 */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { ArtifactStore } from '../storage/store';
import { parseR2Uri } from '../storage/uri';
import type { Command } from './commands';

const HELP = `usage: doc-anon artifacts push <dir> r2://bucket/prefix/name/version [--no-latest] [--keep N]
       doc-anon artifacts pull r2://bucket/prefix/name/(version|latest) <dir> [--link]
       doc-anon artifacts ls r2://bucket/prefix[/name] [--json]

push uploads every file, then writes manifest.json (sha256 and size of each file) last and
create-only: a version that exists is never overwritten (ERR_CONFLICT), and a half-uploaded one is
invisible to readers. pull verifies every file's sha256 through the local cache.
ls lists the complete versions of an artifact, or the names under a prefix.
`;

export const artifactsCommand: Command = {
  summary: 'push, pull and list model / checkpoint / dataset artifacts in R2',
  async run(args) {
    const [verb, ...rest] = args;
    if (!verb || verb === '--help' || verb === '-h') {
      process.stdout.write(HELP);
      return verb ? 0 : 2;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        'no-latest': { type: 'boolean' },
        keep: { type: 'string' },
        link: { type: 'boolean' },
        json: { type: 'boolean' },
      },
    });
    const store = new ArtifactStore();
    try {
      if (verb === 'push') {
        const [dir, uri] = positionals;
        if (!dir || !uri) throw new DocAnonError(ErrorCode.ARGUMENT, 'push needs <dir> <r2://bucket/prefix/name/version>');
        const keep = values.keep === undefined ? undefined : Number(values.keep);
        if (keep !== undefined && (!Number.isInteger(keep) || keep < 1)) throw new DocAnonError(ErrorCode.ARGUMENT, '--keep must be a positive integer');
        const r = await store.push(dir, uri, { setLatest: !values['no-latest'], keepLast: keep });
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return 0;
      }
      if (verb === 'pull') {
        const [uri, dir] = positionals;
        if (!uri || !dir) throw new DocAnonError(ErrorCode.ARGUMENT, 'pull needs <r2://...> <dir>');
        const r = await store.pull(uri, dir, { link: values.link ?? false });
        process.stderr.write(`pulled ${r.uri} into ${r.dir} (${r.bytesDownloaded} bytes downloaded, ${r.cacheHits} from cache)\n`);
        return 0;
      }
      if (verb === 'ls') {
        const [uri] = positionals;
        if (!uri) throw new DocAnonError(ErrorCode.ARGUMENT, 'ls needs <r2://bucket/prefix>');
        const versions = await store.listVersions(uri).catch(() => []);
        if (versions.length > 0) {
          if (values.json) process.stdout.write(`${JSON.stringify(versions, null, 2)}\n`);
          else for (const v of versions) process.stdout.write(`${v.version}\t${v.createdAt}\t${v.fileCount} files\t${v.totalSize} bytes${v.step !== undefined ? `\tstep ${v.step}` : ''}\n`);
          return 0;
        }
        const loc = parseR2Uri(uri);
        const prefix = loc.key === '' || loc.key.endsWith('/') ? loc.key : `${loc.key}/`;
        const names = await store.artifacts.remote.listChildren(loc.bucket, prefix);
        if (values.json) process.stdout.write(`${JSON.stringify(names)}\n`);
        else for (const n of names) process.stdout.write(`${n}/\n`);
        return 0;
      }
      throw new DocAnonError(ErrorCode.ARGUMENT, `unknown artifacts verb "${verb}" (push, pull, ls)`);
    } finally {
      store.close();
    }
  },
};
