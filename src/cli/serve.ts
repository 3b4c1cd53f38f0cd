/**
 * `doc-anon serve [--host 127.0.0.1] [--port 8080] [--config server.yaml]`: the HTTP API and the
 * review page at /. The bearer token comes from DOC_ANON_TOKEN, the replacement secret from
 * DOC_ANON_SECRET. Stops cleanly on SIGINT / SIGTERM (requests in flight finish).
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config';
import { DocAnonError, ErrorCode } from '../core/errors';
import { createServer } from '../server/server';
import { ServerOptionsSchema, type ServerOptions } from '../server/options';
import type { Command } from './commands';

const HELP = `usage: doc-anon serve [--host 127.0.0.1] [--port 8080] [options]

  --host HOST          address to listen on (default 127.0.0.1; 0.0.0.0 exposes it)
  --port N             port (default 8080; 0 picks a free one)
  --config FILE        server options (YAML/JSON): limits, anonymizer options
  --engine NAME        classic (default) | diffute (give the models in --config)
  --concurrency N      requests processed at once (default 2)
  --max-queue N        requests waiting beyond those before 429 (default 16)
  --timeout MS         per-request time limit (default 60000)

environment: DOC_ANON_TOKEN (bearer token, 16+ chars; unset: no auth), DOC_ANON_SECRET (fakes
consistent across documents), DOC_ANON_LOG_LEVEL.
Endpoints: GET / (the review page: open a document, review and edit its regions, anonymize,
compare, download the result and its report), POST /v1/detect, POST /v1/anonymize, GET /healthz,
GET /metrics (see docs/http-api.md). Nothing is stored on the server.
`;

export const serveCommand: Command = {
  summary: 'serve the HTTP API (POST /v1/detect, /v1/anonymize, /healthz, /metrics) and the review page at /',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: false,
      strict: true,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        config: { type: 'string' },
        engine: { type: 'string' },
        concurrency: { type: 'string' },
        'max-queue': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length) {
      process.stdout.write(HELP);
      return values.help ? 0 : 2;
    }
    const num = (v: string | undefined, name: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new DocAnonError(ErrorCode.ARGUMENT, `--${name} must be a non-negative integer, got "${v}"`);
      return n;
    };
    const base: ServerOptions = values.config ? loadConfigFile(ServerOptionsSchema, values.config) : {};
    const options: ServerOptions = {
      ...base,
      host: values.host ?? base.host,
      port: num(values.port, 'port') ?? base.port,
      limits: {
        ...base.limits,
        concurrency: num(values.concurrency, 'concurrency') ?? base.limits?.concurrency,
        maxQueue: num(values['max-queue'], 'max-queue') ?? base.limits?.maxQueue,
        timeoutMs: num(values.timeout, 'timeout') ?? base.limits?.timeoutMs,
      },
    };
    const engine = values.engine as 'classic' | 'diffute' | undefined;
    const secret = process.env.DOC_ANON_SECRET || undefined;
    if (engine || secret) {
      options.anonymizer = {
        ...base.anonymizer,
        engine: engine ?? base.anonymizer?.engine,
        detection: { ...base.anonymizer?.detection, secret: secret ?? base.anonymizer?.detection?.secret },
      };
    }
    const server = await createServer(options);
    const address = await server.listen();
    process.stderr.write(`doc-anon serving on ${address} (engine ${server.anonymizer.engineName}${server.options.token ? ', bearer token required' : ''})\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    process.stderr.write('doc-anon: shutting down\n');
    await server.close();
    return 0;
  },
};
