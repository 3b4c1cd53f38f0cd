/** The HTTP API. */
export { createServer, serverAddress } from './server';
export type { DocAnonServer } from './server';
export { ServerOptionsSchema, ServerLimitsSchema, parseServerOptions } from './options';
export type { ServerOptions, ResolvedServerOptions, ServerLimits } from './options';
