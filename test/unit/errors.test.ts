/**
 * The error table (src/core/errors.ts) is the one list of codes: the native core throws none that
 * is not in it, the CLI and the server answer with its statuses, and no code is spelled as a string
 * literal elsewhere in src/ (ErrorCode.X instead).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DocAnonError, ERRORS, ErrorCode, errorInfo, exitStatus, httpStatus } from '../../src/core/errors';
import { toHttpError } from '../../src/server/http-errors';

const ROOT = path.join(__dirname, '..', '..');

function files(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p, ext) : ext.test(e.name) ? [p] : [];
  });
}

describe('the error table', () => {
  it('has one row per code, each named after its code', () => {
    const codes = Object.values(ERRORS).map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, row] of Object.entries(ERRORS)) expect(row.code).toBe(`ERR_${name}`);
    expect(ErrorCode.TORCH).toBe('ERR_TORCH');
  });

  it('holds every code of the native mirror (native/src/core/error.h) and every ERR_ literal the native code throws', () => {
    const header = fs.readFileSync(path.join(ROOT, 'native', 'src', 'core', 'error.h'), 'utf8');
    const mirrored = [...header.matchAll(/inline constexpr const char\* k\w+ = "(ERR_[A-Z_]+)"/g)].map((m) => m[1]);
    expect(mirrored.length).toBeGreaterThan(10);
    const literals = files(path.join(ROOT, 'native'), /\.(cc|h)$/).flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/"(ERR_[A-Z_]+)"/g)].map((m) => m[1]));
    expect([...new Set([...mirrored, ...literals])].filter((c) => !errorInfo(c))).toEqual([]);
  });

  it('gives the CLI exit status and the HTTP status of every code, and a default for unknown ones', () => {
    for (const row of Object.values(ERRORS)) {
      expect([1, 2]).toContain(exitStatus(row.code));
      expect(httpStatus(row.code)).toBe(row.http);
      expect(toHttpError(new DocAnonError(row.code, 'm'), 'r1').status).toBe(row.http);
    }
    expect(exitStatus('ERR_SOMETHING_NEW')).toBe(1);
    expect(httpStatus('ERR_SOMETHING_NEW')).toBe(500);
    expect(toHttpError(new DocAnonError('ERR_SOMETHING_NEW', 'secret path'), 'r2')).toMatchObject({ status: 500, internal: true });
  });

  it('answers an input error over HTTP with a 4xx wherever the CLI counts it as one, for the codes that reach both', () => {
    // Artifacts and weights are named by the caller in both: a conflict is 409, unusable weights 422.
    expect([exitStatus(ErrorCode.CONFLICT), httpStatus(ErrorCode.CONFLICT)]).toEqual([2, 409]);
    expect([exitStatus(ErrorCode.WEIGHTS), httpStatus(ErrorCode.WEIGHTS)]).toEqual([2, 422]);
    for (const c of [ErrorCode.ARGUMENT, ErrorCode.CONFIG, ErrorCode.INPUT, ErrorCode.IMAGE, ErrorCode.PDF, ErrorCode.NOT_FOUND, ErrorCode.UNREADABLE]) {
      expect([c, exitStatus(c), httpStatus(c) >= 400 && httpStatus(c) < 500]).toEqual([c, 2, true]);
    }
  });

  it('is the only place src/ spells a code as a string', () => {
    // The PDF worker runs as plain JavaScript source (a string): it cannot import the table.
    const exempt = new Set([path.join(ROOT, 'src', 'core', 'errors.ts'), path.join(ROOT, 'src', 'pdf', 'rasterize.ts')]);
    const codes = new Set(Object.values(ERRORS).map((r) => r.code as string));
    const found: string[] = [];
    for (const f of files(path.join(ROOT, 'src'), /\.ts$/)) {
      if (exempt.has(f)) continue;
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/['"`](ERR_[A-Z_]+)['"`]/g)) if (codes.has(m[1])) found.push(`${path.relative(ROOT, f)}: ${m[1]}`);
    }
    expect(found).toEqual([]);
  });
});
