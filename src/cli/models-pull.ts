/**
 * `doc-anon models pull`: a model from the Hugging Face Hub into the package's cache (and a
 * folder, with --out). Says what it will fetch and how big it is first; resumable; every file
 * verified by sha256.
 */
import { parseArgs } from 'node:util';
import { DocAnonError, ErrorCode } from '../core/errors';
import { hubAccessFromEnv, planPull, pullModel } from '../models/hub-pull';
import { KNOWN_MODELS, parsePullSpec, shippedPins } from '../models/hub-registry';
import type { Command } from './commands';
import { helpExit } from './models-options';
import { formatBytes, progressLine } from './progress';

function help(): string {
  const pins = shippedPins();
  const width = Math.max(...Object.keys(KNOWN_MODELS).map((n) => n.length));
  const known = Object.values(KNOWN_MODELS)
    .map((m) => `  ${m.name.padEnd(width)}  ${m.repo}${pins[m.name] ? `@${pins[m.name]!.revision.slice(0, 12)} (pinned)` : ' (not pinned)'}\n  ${''.padEnd(width)}  ${m.description}`)
    .join('\n');
  return `usage: doc-anon models pull <name | owner/repo>[@revision] [--out DIR] [--variant fp16] [--dry-run]

Downloads the files this package loads (configs and safetensors) from the Hugging Face Hub into
the cache ($DOC_ANON_CACHE, default ~/.cache/doc-anon-torch) and prints the folder. It says what
it will fetch and how big it is first, resumes an interrupted download, and verifies every file by
sha256 (a file that does not match is refused and removed). HF_TOKEN: token for gated
repositories. HF_ENDPOINT: a mirror. Nothing else in this package downloads anything.

  --out DIR        also copy the files (and manifest.json) into DIR
  --variant fp16   take the float16 weights where the repository has them
  --dry-run        print the plan (files, sizes, commit) and fetch nothing

Known models:
${known}

A known model that is pinned is fetched at its pinned commit and checked against the sha256 values
shipped with this package. An unpinned one, or any owner/repo, is resolved to a commit now and
checked against the Hub's own sha256 (its LFS pointers); the folder's manifest.json records them.
`;
}

export const modelsPullCommand: Command = {
  summary: 'download a model from the Hugging Face Hub into the cache (verified, resumable)',
  async run(args) {
    const helped = helpExit(args, help());
    if (helped !== undefined) return helped;
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, variant: { type: 'string' }, 'dry-run': { type: 'boolean' } },
    });
    if (positionals.length !== 1) throw new DocAnonError(ErrorCode.ARGUMENT, 'pull takes one model: a known name or owner/repo[@revision]');
    if (values.variant !== undefined && values.variant !== 'fp16') throw new DocAnonError(ErrorCode.ARGUMENT, `--variant takes fp16, got "${values.variant}"`);
    const variant = values.variant as 'fp16' | undefined;
    const spec = parsePullSpec(positionals[0]!);
    const access = hubAccessFromEnv();
    const describe = (plan: Awaited<ReturnType<typeof planPull>>): void => {
      process.stderr.write(
        `${plan.repo}@${plan.commit}${plan.revision !== plan.commit ? ` (${plan.revision})` : ''}: ${plan.files.length} file(s), ${formatBytes(plan.totalBytes)}` +
          `${plan.pinned ? ', pinned' : ', not pinned: checked against the Hub\'s sha256'}\n` +
          plan.files.map((f) => `  ${f.path}  ${formatBytes(f.size)}\n`).join(''),
      );
    };
    if (values['dry-run']) {
      const plan = await planPull(spec, { ...access, variant });
      describe(plan);
      process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      return 0;
    }
    let show: ((done: number, extra?: string) => void) | undefined;
    const r = await pullModel(spec, {
      ...access,
      variant,
      out: values.out,
      onPlan: (plan) => {
        describe(plan);
        show = progressLine('pull', plan.totalBytes, 0, formatBytes);
      },
      onProgress: (p) => show?.(p.doneBytes, p.file),
    });
    process.stderr.write(
      `pulled ${r.plan.repo}@${r.plan.commit.slice(0, 12)} into ${r.dir}${r.out ? ` and ${r.out}` : ''} (${formatBytes(r.bytesDownloaded)} downloaded, ${r.cacheHits} file(s) from the cache${r.resumed ? `, ${r.resumed} resumed` : ''})\n` +
        (spec.known?.next ? `next: ${spec.known.next.replaceAll('<dir>', r.out ?? r.dir)}\n` : ''),
    );
    process.stdout.write(`${JSON.stringify({ dir: r.dir, out: r.out, repo: r.plan.repo, commit: r.plan.commit, pinned: r.plan.pinned, files: r.manifest.files, bytesDownloaded: r.bytesDownloaded, cacheHits: r.cacheHits, resumed: r.resumed }, null, 2)}\n`);
    return 0;
  },
};
