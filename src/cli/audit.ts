/**
 * `doc-anon audit verify <report.json> --input <file> --output <file>`: checks an audit record (the
 * report `anonymize --report` writes) against the files: their sha256, and the HMAC when the record
 * is signed (DOC_ANON_SECRET). Exit 0 when everything checked matches; 1 (ERR_INTEGRITY) when a
 * file or the record does not match; 2 for bad usage or a file that is not a record.
 */
import { parseArgs } from 'node:util';
import { verifyAuditRecord } from '../audit/verify';
import { DocAnonError, ErrorCode } from '../core/errors';
import { MAX_JSON_FILE_BYTES, readRegularFileSync } from '../core/read-file';
import type { Command } from './commands';

const HELP = `usage: doc-anon audit verify <report.json> --input <file> --output <file> [--require-hmac] [--json]

Checks an audit record (what "anonymize --report" writes) against the input and output files:
both sha256 must match and, for a signed record, its HMAC must be valid under DOC_ANON_SECRET (the
record was not edited). Exit 0: all matched; 1 (ERR_INTEGRITY): something did not.

  --input FILE      the original document
  --output FILE     the anonymized document
  --require-hmac    an unsigned record fails (default: it passes with a warning)
  --json            print the checks as JSON
`;

/** Largest document read (Node's limit for one read). */
const MAX_INPUT_BYTES = 2 ** 31 - 1;

export const auditCommand: Command = {
  summary: 'check an audit record against its input and output (audit verify)',
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === '--help' || sub === '-h' || sub === undefined) {
      (sub === undefined ? process.stderr : process.stdout).write(HELP);
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'verify') throw new DocAnonError(ErrorCode.ARGUMENT, `unknown audit subcommand "${sub}": use "doc-anon audit verify"`);
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        input: { type: 'string' },
        output: { type: 'string' },
        'require-hmac': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (positionals.length !== 1 || !values.input || !values.output) {
      process.stderr.write(HELP);
      return 2;
    }
    const text = readRegularFileSync(positionals[0], { what: 'audit record', maxBytes: MAX_JSON_FILE_BYTES }).toString('utf8');
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (e) {
      throw new DocAnonError(ErrorCode.INPUT, `${positionals[0]} is not valid JSON: ${(e as Error).message}`);
    }
    const v = verifyAuditRecord(
      record,
      {
        input: readRegularFileSync(values.input, { what: 'input', maxBytes: MAX_INPUT_BYTES }),
        output: readRegularFileSync(values.output, { what: 'output', maxBytes: MAX_INPUT_BYTES }),
      },
      { secret: process.env.DOC_ANON_SECRET || undefined, requireHmac: values['require-hmac'] === true },
    );
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: v.ok, checks: v.checks }, null, 2)}\n`);
    else for (const c of v.checks) process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(6)}  ${c.detail}\n`);
    if (!v.ok) {
      const failed = v.checks.filter((c) => !c.ok).map((c) => c.name);
      throw new DocAnonError(ErrorCode.INTEGRITY, `the audit record does not match (${failed.join(', ')})`);
    }
    return 0;
  },
};
