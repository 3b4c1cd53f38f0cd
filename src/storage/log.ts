/**
 * The logger shape the storage layer needs: a subset of pino's, so `logger` from src/core/logger
 * (or any pino instance) can be passed in. Storage never logs secrets; it logs keys, sizes, times.
 */
export interface StorageLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: StorageLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
