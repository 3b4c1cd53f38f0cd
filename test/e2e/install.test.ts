/**
 * The package as a user gets it: `npm pack`, then `npm init -y && npm install <tarball>` in an
 * empty folder outside the repository (npm hoists the dependencies into that project, as for any
 * user), then an ES module and a CommonJS script that import the package by name and anonymize
 * the example page, `npx doc-anon info`, the prebuilt harness, a CLI command that talks to R2, and
 * a strict TypeScript consumer under moduleResolution node16 and bundler.
 *
 * Everything runs on the Node that runs jest (process.execPath first on PATH), so CI runs it once
 * per Node version. What it fetches is setup, as `npm ci` is: the tarball's dependencies from the
 * npm registry (--prefer-offline: npm's cache first), and the pinned libtorch wheel, which the
 * install takes from the wheel cache (filled by the repository's own setup or by `npm pack`'s
 * check of .libtorch) and fetches with pip only when the cache lacks it. Nothing is fetched by the
 * library itself. DOC_ANON_TEST_TARBALL reuses a tarball packed beforehand (CI packs once).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { packageRoot } from '../../src/core/package-paths';
import { startS3, type TestS3 } from '../integration/storage-server';

jest.setTimeout(20 * 60_000);

const nodeMajor = Number(process.versions.node.split('.')[0]);
// npm is a JavaScript program: run it on this Node, and give scripts and bin shims this Node first on PATH.
const npmCli = path.join(path.dirname(path.dirname(fs.realpathSync(whichOnPath('npm')))), 'bin', 'npm-cli.js');
const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
delete env.DOC_ANON_NATIVE;
delete env.LIBTORCH;
delete env.DOC_ANON_BUILD_FROM_SOURCE;
// npm's own lifecycle variables of the outer `npm test` would leak into the inner npm.
for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];

function whichOnPath(name: string): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} is not on PATH`);
}

function run(cmd: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: { ...env, ...extraEnv }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}
function npm(args: string[], cwd: string, extraEnv?: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  return run(process.execPath, [npmCli, ...args], cwd, extraEnv);
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
// As npm pack and the README count: decimal megabytes.
const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB (${n} bytes)`;

let work: string;
let project: string;
let tarball: string;
let files: string[];
let installLog: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'doc-anon-install-'));
  if (process.env.DOC_ANON_TEST_TARBALL) {
    tarball = path.resolve(process.env.DOC_ANON_TEST_TARBALL);
  } else {
    const t0 = Date.now();
    const packed = JSON.parse(ok(npm(['pack', '--json', '--pack-destination', work], packageRoot), 'npm pack')) as Array<{ filename: string }>;
    tarball = path.join(work, path.basename(packed[0].filename));
    process.stdout.write(`[install test] npm pack: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  files = ok(run('tar', ['-tzf', tarball], work), 'tar -t').split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  process.stdout.write(`[install test] ${path.basename(tarball)}: ${mb(fs.statSync(tarball).size)}, ${files.length} files\n`);

  // Outside the repository: nothing of its node_modules can be found from here.
  project = path.join(work, 'app');
  fs.mkdirSync(project);
  ok(npm(['init', '-y'], project), 'npm init');
  const t0 = Date.now();
  const r = npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', tarball], project);
  const seconds = (Date.now() - t0) / 1000;
  installLog = `${r.stdout}\n${r.stderr}`;
  ok(r, 'npm install <tarball>');
  process.stdout.write(`[install test] npm install of the tarball on Node ${process.version}: ${seconds.toFixed(1)} s\n`);
  for (const f of ['statement.png', 'statement.regions.json']) fs.copyFileSync(path.join(packageRoot, 'examples', f), path.join(project, f));
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the published package', () => {
  it('ships what runs and nothing else: compiled code, the ESM entry, the prebuilt addon and harness, native sources for source builds', () => {
    for (const f of ['package.json', 'README.md', 'lib/index.js', 'lib/index.d.ts', 'lib/index.mjs', 'lib/index.d.mts', 'lib/cli/main.js',
      'prebuilt/manifest.json', 'prebuilt/Release/docanon.node', 'prebuilt/docanon_harness',
      'scripts/install.cjs', 'scripts/build-native.sh', 'scripts/setup-libtorch.sh', 'scripts/libtorch-pin.json', 'CMakeLists.txt',
      'assets/lpips/lpips_v0.1_vgg_lin.safetensors', 'assets/models/diffute-small/model_index.json', 'assets/models/diffute-small/unet/diffusion_pytorch_model.safetensors', 'configs/training/vae.local.yaml',
      'schemas/regions-document.v1.schema.json', 'lib/web/index.html', 'lib/web/review.js', 'lib/web/vendor/pdf.min.mjs', 'lib/web/vendor/pdf.worker.min.mjs']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('native/src/') && f.endsWith('.cc'))).toBe(true);
    const unwanted = files.filter(
      (f) => /^(test|bench|src|modal|examples|docs|build|\.libtorch|node_modules)\//.test(f) || /fixtures/.test(f) || f.endsWith('.map') || (f.endsWith('.ts') && !/\.d\.m?ts$/.test(f)),
    );
    expect(unwanted).toEqual([]);
    expect(files.filter((f) => f.startsWith('scripts/')).sort()).toEqual(['scripts/build-native.sh', 'scripts/install.cjs', 'scripts/libtorch-pin.json', 'scripts/setup-libtorch.sh']);
  });

  it('installs as a dependency with the prebuilt addon: only libtorch is fetched (sha256-verified), nothing is compiled', () => {
    expect(installLog).toMatch(/\[doc-anon-torch\] the prebuilt addon fits this machine/);
    expect(installLog).toMatch(/\[setup-libtorch\] (sha256 verified|using the cached .* \(sha256 verified\))/);
    expect(installLog).toMatch(/\[doc-anon-torch\] ok: using the prebuilt addon prebuilt\/Release\/docanon\.node \(libtorch 2\.13\.0\+cpu, sha256-verified\)/);
    expect(installLog).not.toMatch(/building from source|\[build-native\]/);
    // npm hoisted the dependencies into the project, beside the package, not inside it.
    const pkg = path.join(project, 'node_modules', 'doc-anon-torch');
    expect(fs.existsSync(path.join(project, 'node_modules', 'cmake-js'))).toBe(true);
    expect(fs.existsSync(path.join(pkg, 'node_modules', 'cmake-js'))).toBe(false);
    expect(fs.existsSync(path.join(pkg, 'build'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(pkg, '.libtorch', 'source.json'), 'utf8'))).toEqual(
      expect.objectContaining({ version: '2.13.0+cpu', sha256: JSON.parse(fs.readFileSync(path.join(pkg, 'scripts', 'libtorch-pin.json'), 'utf8')).sha256 }),
    );
  });

  it('anonymizes the example page from an ES module (named imports) and from CommonJS, with the same result', async () => {
    const script = (out: string): string => `
      const regions = JSON.parse(fs.readFileSync('statement.regions.json', 'utf8')).pages[0].regions;
      const anonymizer = await Anonymizer.create({ engine: 'classic' });
      const { image, reports } = await anonymizer.anonymize('statement.png', { regions });
      anonymizer.dispose();
      fs.writeFileSync(${JSON.stringify(out)}, image);
      console.log(JSON.stringify({ regions: reports.length, addon: info().addon.kind, isError: new DocAnonError('ERR_IO', 'x') instanceof Error }));`;
    fs.writeFileSync(path.join(project, 'esm.mjs'), `import { Anonymizer, DocAnonError, info } from 'doc-anon-torch';\nimport * as fs from 'node:fs';\n${script('esm.png')}\n`);
    fs.writeFileSync(path.join(project, 'cjs.cjs'), `const { Anonymizer, DocAnonError, info } = require('doc-anon-torch');\nconst fs = require('node:fs');\n(async () => {${script('cjs.png')}\n})();\n`);
    // One instance behind both entries: the ESM named exports are the CommonJS module's own.
    fs.writeFileSync(path.join(project, 'same.mjs'), `import * as esm from 'doc-anon-torch';\nimport { createRequire } from 'node:module';\nconst cjs = createRequire(import.meta.url)('doc-anon-torch');\nconst names = Object.keys(cjs);\nconsole.log(JSON.stringify({ names: names.length, same: names.every((n) => esm[n] === cjs[n]), def: esm.default === cjs }));\n`);
    const regions = (JSON.parse(fs.readFileSync(path.join(project, 'statement.regions.json'), 'utf8')) as { pages: Array<{ regions: unknown[] }> }).pages[0].regions.length;
    for (const file of ['esm.mjs', 'cjs.cjs']) {
      expect(JSON.parse(ok(run(process.execPath, [file], project), file))).toEqual({ regions, addon: 'prebuilt', isError: true });
    }
    const same = JSON.parse(ok(run(process.execPath, ['same.mjs'], project), 'same.mjs')) as { names: number; same: boolean; def: boolean };
    expect(same).toEqual({ names: expect.any(Number), same: true, def: true });
    expect(same.names).toBeGreaterThan(100);

    const [input, esm, cjs] = ['statement.png', 'esm.png', 'cjs.png'].map((f) => fs.readFileSync(path.join(project, f)));
    expect(esm.equals(cjs)).toBe(true);
    expect(esm.equals(input)).toBe(false);
    const [a, b] = await Promise.all([sharp(input).metadata(), sharp(esm).metadata()]);
    expect([b.width, b.height, b.format]).toEqual([a.width, a.height, 'png']);
  });

  it('`npx doc-anon info` runs the prebuilt addon on the pinned libtorch; the prebuilt harness runs too', () => {
    const npx = path.join(path.dirname(npmCli), 'npx-cli.js');
    const out = ok(run(process.execPath, [npx, '--no-install', 'doc-anon', 'info'], project), 'npx doc-anon info');
    expect(out).toMatch(/^libtorch\s+2\.13\.0/m);
    expect(out).toMatch(/^addon\s+prebuilt \(.*node_modules\/doc-anon-torch\/prebuilt\/Release\/docanon\.node\)/m);
    const harness = path.join(project, 'node_modules', 'doc-anon-torch', 'prebuilt', 'docanon_harness');
    expect(ok(run(harness, ['--list'], project), 'docanon_harness --list')).toMatch(/io\.safetensors_roundtrip/);
  });

  it('a CLI command that talks to R2 prints no AWS SDK Node version warning on Node 22 and later', async () => {
    let s3: TestS3 | undefined;
    try {
      s3 = await startS3();
      const r2 = { R2_ENDPOINT: s3.endpoint, R2_ACCESS_KEY_ID: 'S3RVER', R2_SECRET_ACCESS_KEY: 'S3RVER', DOC_ANON_CACHE: path.join(work, 'cache') };
      const bin = path.join(project, 'node_modules', 'doc-anon-torch', 'lib', 'cli', 'main.js');
      const child = new Promise<{ code: number | null; out: string; err: string }>((resolve, reject) => {
        // Asynchronous: s3rver answers from this process's event loop.
        const p = spawn(process.execPath, [bin, 'artifacts', 'ls', `r2://${s3!.bucket}/models`, '--json'], { cwd: project, env: { ...env, ...r2 } });
        let out = '';
        let err = '';
        p.stdout.on('data', (c: Buffer) => (out += c.toString()));
        p.stderr.on('data', (c: Buffer) => (err += c.toString()));
        p.on('error', reject);
        p.on('close', (code) => resolve({ code, out, err }));
      });
      const r = await child;
      expect({ code: r.code, out: JSON.parse(r.out) as unknown }).toEqual({ code: 0, out: [] });
      // The warning is the SDK's own (@aws-sdk/core: Node < 22 is dropped by releases after January 2027).
      if (nodeMajor >= 22) expect(r.err).not.toMatch(/NodeVersionSupportWarning|will require node/);
      else expect(r.err).toMatch(/NodeVersionSupportWarning/);
    } finally {
      await s3?.dispose();
    }
  });

  it('the source build of the installed package finds its hoisted build tools (configured here; compiling takes minutes)', () => {
    const pkg = path.join(project, 'node_modules', 'doc-anon-torch');
    try {
      const r = run('bash', [path.join('scripts', 'build-native.sh')], pkg, { DOC_ANON_CONFIGURE_ONLY: '1' });
      const log = `${r.stdout}\n${r.stderr}`;
      expect({ status: r.status, tail: log.split('\n').slice(-4).join('\n') }).toEqual({ status: 0, tail: expect.stringMatching(/configured build\//) });
      // cmake-js and node-addon-api are the project's (hoisted), not the package's own.
      expect(log).toContain(`cmake-js at ${fs.realpathSync(path.join(project, 'node_modules', 'cmake-js'))}`);
      const cache = fs.readFileSync(path.join(pkg, 'build', 'CMakeCache.txt'), 'utf8');
      expect(/^NODE_ADDON_API_DIR:[A-Z]*=(.*)$/m.exec(cache)?.[1]).toBe(fs.realpathSync(path.join(project, 'node_modules', 'node-addon-api')));
      expect(/^LIBTORCH:[A-Z]*=(.*)$/m.exec(cache)?.[1]).toBe(fs.realpathSync(path.join(pkg, '.libtorch')));
    } finally {
      fs.rmSync(path.join(pkg, 'build'), { recursive: true, force: true });
    }
  });

  it('its type declarations compile in a strict consumer under moduleResolution node16 (ESM and CommonJS files) and bundler, with the oldest and the current Node types', () => {
    const repoVersion = (name: string): string => (JSON.parse(fs.readFileSync(path.join(packageRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    const use = `
      const info: RuntimeInfo = ddInfo();
      const kind: 'prebuilt' | 'source' | 'env' = info.addon.kind;
      async function main(signal: AbortSignal): Promise<Buffer> {
        const anonymizer: Anonymizer = await Anonymizer.create({ engine: 'classic' });
        try {
          const result = await anonymizer.anonymize('page.png', { regions: [{ box: [1, 2, 30, 40], replacement: 'Jane Roe' }], signal });
          return result.image;
        } catch (e) {
          if (e instanceof DocAnonError) console.error(e.code, kind);
          throw e;
        } finally {
          anonymizer.dispose();
        }
      }
      export { main };`;
    const imports = "import { Anonymizer, DocAnonError, info as ddInfo, type RuntimeInfo } from 'doc-anon-torch';";
    fs.writeFileSync(path.join(project, 'consumer.mts'), `${imports}\nimport docAnon from 'doc-anon-torch';\nconst v: string = docAnon.info().version;\n${use}\nexport { v };\n`);
    fs.writeFileSync(path.join(project, 'consumer.cts'), `${imports}\n${use}\n`);
    fs.writeFileSync(path.join(project, 'consumer.ts'), `${imports}\n${use}\n`);
    const base = { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', lib: ['ES2022', 'esnext.disposable'], types: ['node'] };
    const configs = {
      'tsconfig.node16.json': { compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16' }, files: ['consumer.mts', 'consumer.cts'] },
      'tsconfig.bundler.json': { compilerOptions: { ...base, module: 'esnext', moduleResolution: 'bundler' }, files: ['consumer.ts'] },
    };
    for (const [name, config] of Object.entries(configs)) fs.writeFileSync(path.join(project, name), JSON.stringify(config, null, 2));
    const tsc = path.join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    // The declarations are built with the repository's @types/node; a consumer may still have Node 20's.
    for (const types of [repoVersion('@types/node'), '20']) {
      ok(npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', `typescript@${repoVersion('typescript')}`, `@types/node@${types}`], project), `npm install @types/node@${types}`);
      for (const name of Object.keys(configs)) {
        const r = run(process.execPath, [tsc, '-p', name], project);
        expect({ config: name, types, status: r.status, errors: `${r.stdout}${r.stderr}`.trim() }).toEqual({ config: name, types, status: 0, errors: '' });
      }
    }
  });
});
