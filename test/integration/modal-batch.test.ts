/**
 * The Modal batch worker (modal/container_entry.py: plan_batch and anonymize_chunk's bodies) against
 * the local S3 server the storage tests use, with the real CLI (`doc-anon anonymize`, classic engine,
 * the example's regions document): every document under the input prefix gets its result and its
 * report (audit record) at the same relative path under the output prefix, the report last; a run
 * stopped after one chunk resumes with only the unfinished documents; a document the CLI refuses
 * (exit 2) gets a .failed.json record and is tried again on the next run; an output prefix inside
 * the input prefix is refused. Needs python3 with boto3 (the image installs it): skipped otherwise.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3, type TestS3 } from './storage-server';

const ROOT = path.join(__dirname, '..', '..');
const boto3 = (() => {
  try {
    execFileSync('python3', ['-c', 'import boto3'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();
const maybe = boto3 ? describe : describe.skip;

maybe('Modal batch over an R2 prefix (local S3 server, real CLI)', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startS3('docs');
  });
  afterAll(async () => s3?.dispose());

  it('anonymizes every document once, resumes after a stopped run, records refusals', async () => {
    const client = new S3Client({ endpoint: s3.endpoint, region: 'auto', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const page = fs.readFileSync(path.join(ROOT, 'examples', 'statement.png'));
    const put = (Key: string, Body: Buffer): Promise<unknown> => client.send(new PutObjectCommand({ Bucket: 'docs', Key, Body }));
    await put('in/a.png', page);
    await put('in/b.png', page);
    await put('in/sub/c.png', page);
    await put('in/bad.png', Buffer.from('not a png'));
    await put('in/notes.txt', Buffer.from('not a document'));
    client.destroy();

    // Not execFileSync: the S3 server runs in this process's event loop.
    const { stdout } = await promisify(execFile)('python3', [path.join(ROOT, 'test', 'modal', 'run_batch.py'), ROOT, 'docs', path.join(ROOT, 'examples', 'statement.regions.json')], {
      env: { ...process.env, R2_ENDPOINT: s3.endpoint, R2_ACCESS_KEY_ID: 'S3RVER', R2_SECRET_ACCESS_KEY: 'S3RVER', DOC_ANON_LOG_LEVEL: 'warn', PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const r = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(r.pending_first).toEqual(['in/a.png', 'in/b.png', 'in/bad.png', 'in/sub/c.png']);
    expect(r.chunk1.map((x: { key: string; status: string }) => [x.key, x.status])).toEqual([
      ['in/a.png', 'done'],
      ['in/b.png', 'done'],
    ]);
    // The rerun skips what has a report.
    expect(r.pending_rerun).toEqual(['in/bad.png', 'in/sub/c.png']);
    expect(r.rerun.map((x: { key: string; status: string }) => [x.key, x.status])).toEqual([
      ['in/bad.png', 'failed'],
      ['in/sub/c.png', 'done'],
    ]);
    // A refused document stays pending (tried again next time), with its record.
    expect(r.pending_after).toEqual(['in/bad.png']);
    expect(r.outputs).toEqual([
      'out/run1/a.png',
      'out/run1/a.png.report.json',
      'out/run1/b.png',
      'out/run1/b.png.report.json',
      'out/run1/bad.png.failed.json',
      'out/run1/sub/c.png',
      'out/run1/sub/c.png.report.json',
    ]);
    expect(r.failed_record).toMatchObject({ input: 'r2://docs/in/bad.png', code: 2 });
    expect(r.report_kind).toBe('doc-anon/audit');
    expect(r.overlap).toMatch(/must not overlap/);
  }, 300_000);
});
