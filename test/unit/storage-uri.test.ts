import * as path from 'node:path';
import { parseArtifactUri, parseR2Uri, parseVersionUri, safeLocalPath, validateKey, validateSegment, joinKey, formatR2Uri } from '../../src/storage';

describe('validateKey', () => {
  test.each(['a', 'a/b/c.json', 'models/vae/v1.0/diffusion_pytorch_model.safetensors', 'x..y/z', '..a', 'a b/ü.txt'])('accepts %j', (k) => {
    expect(validateKey(k)).toBe(k);
  });
  test.each([
    ['', 'empty'],
    ['/abs', 'absolute'],
    ['../x', 'parent'],
    ['a/../b', 'inner parent'],
    ['a/..', 'trailing parent'],
    ['./a', 'dot'],
    ['a/./b', 'inner dot'],
    ['a//b', 'empty segment'],
    ['a/', 'trailing slash'],
    ['a\\b', 'backslash'],
    ['..\\x', 'windows traversal'],
    ['C:/x', 'drive letter'],
    ['a\u0000b', 'NUL'],
    ['a\nb', 'newline'],
    ['a\u007fb', 'DEL'],
    ['a\u0085b', 'C1 control'],
    ['a\u2028b', 'line separator'],
    ['x'.repeat(901), 'too long'],
    ['é'.repeat(451), 'too long in bytes'],
    ['a/' + 'y'.repeat(256), 'segment too long'],
  ])('rejects %j (%s) with ERR_UNSAFE_KEY', (k) => {
    expect(() => validateKey(k)).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
  });
  test('the message shows control characters escaped', () => {
    expect(() => validateKey('a\u0001b')).toThrow(/"a\\u0001b"/);
  });
});

describe('parseR2Uri', () => {
  test('splits bucket and key, ignoring a trailing slash', () => {
    expect(parseR2Uri('r2://my-bucket/models/vae/')).toEqual({ bucket: 'my-bucket', key: 'models/vae' });
    expect(parseR2Uri('r2://my-bucket')).toEqual({ bucket: 'my-bucket', key: '' });
    expect(formatR2Uri({ bucket: 'b12', key: 'a/b' })).toBe('r2://b12/a/b');
  });
  test.each(['s3://b/k', 'https://b/k', 'r2:/b/k', 'b/k'])('rejects the scheme of %j with ERR_ARGUMENT', (u) => {
    expect(() => parseR2Uri(u)).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });
  test.each(['r2://Bucket/k', 'r2://b/k', 'r2://-bb/k', 'r2://bu_ck/k', 'r2://bucket/../k', 'r2://bucket//k', 'r2://bucket/a\\b'])('rejects %j with ERR_UNSAFE_KEY', (u) => {
    expect(() => parseR2Uri(u)).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
  });
});

describe('artifact and version URIs', () => {
  test('version URIs split into prefix/name/version', () => {
    expect(parseVersionUri('r2://bkt/ckpts/run1/step-100')).toEqual({ bucket: 'bkt', base: 'ckpts/run1', name: 'run1', version: 'step-100' });
    expect(parseVersionUri('r2://bkt/run1/v2')).toEqual({ bucket: 'bkt', base: 'run1', name: 'run1', version: 'v2' });
    expect(parseArtifactUri('r2://bkt/a/b/name')).toEqual({ bucket: 'bkt', base: 'a/b/name', name: 'name' });
  });
  test('a version needs a name before it, and reserved or odd versions are refused', () => {
    expect(() => parseVersionUri('r2://bkt/v1')).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => parseVersionUri('r2://bkt/name/latest')).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
    expect(() => parseVersionUri('r2://bkt/name/.hidden')).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
    expect(() => parseVersionUri('r2://bkt/name/a:b')).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
    expect(() => parseArtifactUri('r2://bkt')).toThrow(expect.objectContaining({ code: 'ERR_ARGUMENT' }));
  });
  test('validateSegment and joinKey', () => {
    expect(validateSegment('v1.0+cu121', 'version')).toBe('v1.0+cu121');
    expect(() => validateSegment('a/b', 'version')).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
    expect(joinKey('a', '', 'b/c')).toBe('a/b/c');
    expect(() => joinKey('a', '..', 'b')).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
  });
});

describe('safeLocalPath', () => {
  const root = path.resolve('/tmp/cache-root');
  test('maps keys under the root', () => {
    expect(safeLocalPath(root, 'a/b.txt')).toBe(path.join(root, 'a', 'b.txt'));
    expect(safeLocalPath(root + '/', 'x')).toBe(path.join(root, 'x'));
  });
  test.each(['../etc/passwd', 'a/../../x', '/etc/passwd', 'a\\..\\..\\x', ''])('refuses %j', (k) => {
    expect(() => safeLocalPath(root, k)).toThrow(expect.objectContaining({ code: 'ERR_UNSAFE_KEY' }));
  });
});
