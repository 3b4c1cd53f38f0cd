/**
 * Configs are validated at the edge: YAML or JSON is parsed, then checked by a strict zod schema
 * (unknown keys rejected). Errors name the path of every offending key.
 */
import * as YAML from 'yaml';
import { z } from 'zod';
import { DocAnonError, ErrorCode } from './errors';
import { readRegularFileSync } from './read-file';

/** Formats zod issues as `path.to.key: message` lines. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const base = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const keys = (issue as { keys: string[] }).keys;
        return keys.map((k) => `${base ? `${base}.` : ''}${k}: unknown key (remove it or check its spelling/placement)`).join('\n');
      }
      return `${base || '(root)'}: ${issue.message}`;
    })
    .join('\n');
}

/** Validates `value` against `schema`; ERR_CONFIG listing every problem with its key path. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, source = 'config'): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new DocAnonError(ErrorCode.CONFIG, `invalid ${source}:\n${formatIssues(r.error)}`);
  }
  return r.data;
}

/** Reads a YAML (or JSON) file and validates it. */
export function loadConfigFile<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  const text = readRegularFileSync(file, { what: 'config', maxBytes: 16 * 2 ** 20 }).toString('utf8');
  let doc: unknown;
  try {
    // uniqueKeys: a key given twice is a mistake, not a silent override.
    doc = YAML.parse(text, { uniqueKeys: true, prettyErrors: true });
  } catch (e) {
    throw new DocAnonError(ErrorCode.CONFIG, `cannot parse ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseConfig(schema, doc ?? {}, file);
}
