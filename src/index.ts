/**
 * doc-anon-torch: anonymize document images by replacing sensitive text with realistic synthetic
 * text (DiffUTE on a libtorch core), and train the models. This file is the public surface.
 */
export { DocAnonError, ErrorCode, isDocAnonError } from './core/errors';
export { Tensor } from './core/tensor';
export type { DType, TypedArrayFor } from './core/tensor';
export { SafetensorsFile, readSafetensors, writeSafetensors } from './core/safetensors';
export type { SafetensorsEntry } from './core/safetensors';
export { info, setNumThreads } from './core/runtime';
export type { RuntimeInfo } from './core/runtime';
export { parseConfig, loadConfigFile } from './core/config';
export { createLogger } from './core/logger';
export * from './storage';
