/**
 * doc-anon-torch: anonymize document images by replacing sensitive text with realistic synthetic
 * text (DiffUTE on a libtorch core), and train the models. This file is the public surface.
 */
export { DocAnonError, ErrorCode, isDocAnonError } from './core/errors';
export { Tensor } from './core/tensor';
export type { DType, TypedArrayFor } from './core/tensor';
export { SafetensorsFile, readSafetensors, writeSafetensors } from './core/safetensors';
export type { SafetensorsEntry } from './core/safetensors';
export { info, setAllowTf32, setNumThreads } from './core/runtime';
export type { RuntimeInfo } from './core/runtime';
export type { AddonOrigin } from './native/loader';
export { parseConfig, loadConfigFile } from './core/config';
export { createLogger } from './core/logger';
export * from './storage';
// Detection: OCR, recognizers, policy, replacements, verification.
export {
  TesseractOcr, SuppliedOcr, SuppliedOcrSchema, parseSuppliedOcr, detectPii, findEntities, verifyNoOriginals,
  assertNoOriginals, Replacer, DetectionPolicySchema, CustomRuleSchema, FakesPolicySchema, parseDetectionPolicy, createRecognizers,
  BUILTIN_ENTITIES,
} from './detect';
export type {
  OcrEngine, OcrImage, OcrPage, OcrLine, OcrWord, RecognizeOptions, TesseractOcrOptions, SuppliedOcrInput,
  DetectedRegion, DetectOptions, FoundEntity, DetectionPolicy, DetectionPolicyInput, FakesPolicy, ReplacerOptions, Recognizer,
  RecognizerMatch, RecognizerOptions, CustomRule, VerifyOptions, VerifyResult, VerifyTarget, EntityType, BuiltinEntity,
} from './detect';
// Rendering, image IO, regions, the classic engine, the dataset format and synthetic documents.
export { getFont, missingCharacters, assertDrawable, fontsDir, BUNDLED_FONTS, DEFAULT_FONT, FACE_SPECS, STYLE_FACES, faceSpec, findFace, drawableFace } from './render/fonts';
export type { BundledFont, BundledFontName, FontMetrics, FaceSpec, FontFamilyName, FontCategory, TextInk } from './render/fonts';
export type { StyleReport } from './inference/style/report';
export { renderGlyph, glyphLayout, GLYPH_FONT_SIZE, GLYPH_HEIGHT, GLYPH_ORIGIN, GLYPH_EMPTY_LENGTH, GLYPH_MAX_CHARS } from './render/glyph';
export type { RgbImage, GlyphOptions } from './render/glyph';
export { fitText, renderTextCoverage, renderTextLayer } from './render/text';
export type { TextFit, FitOptions, RgbaLayer } from './render/text';
export { decodeImage, encodeImage, DEFAULT_MAX_PIXELS } from './inference/image-io';
export type { DecodedImage, DecodeOptions, EncodeOptions, ImageFormat } from './inference/image-io';
export {
  RegionSchema,
  RegionsSchema,
  BoxSchema,
  validateRegions,
  adaptiveCrop,
  maskRect,
  expandRect,
  pasteFeathered,
  rectsOverlap,
  DEFAULT_REGION_LIMITS,
} from './inference/regions';
export type { Region, Rect, PageSize, ValidatedRegion, RegionLimits, BoxArray, Quad } from './inference/regions';
export { ClassicEngine, ClassicEngineOptionsSchema } from './inference/engines/classic';
export type { ClassicEngineOptions, ClassicRegionDetails } from './inference/engines/classic';
export type { Engine, EngineResult, EngineRunOptions, EngineProgress, RegionReport } from './inference/engines/types';
export {
  DocumentAnnotationSchema,
  OcrLineSchema,
  OcrWordSchema,
  EntitySchema,
  EntityTypeSchema,
  QuadBoxSchema,
  parseDocumentAnnotation,
  quadFromRect,
} from './training/dataset-format';
export type {
  DocumentAnnotation, DocumentAnnotationInput, OcrLine as DatasetOcrLine, OcrWord as DatasetOcrWord, Entity as DatasetEntity,
  EntityType as DatasetEntityType, QuadBox,
} from './training/dataset-format';
export { generateDocument, SyntheticOptionsSchema, DOCUMENT_KINDS, makeIban, formatIban, isValidIbanChecksum } from './training/synthetic';
export type { SyntheticDocument, SyntheticOptions, SyntheticAnnotation, DocumentKind } from './training/synthetic';
export { AutoencoderKL } from './models/autoencoder-kl';
export type { AutoencoderKLConfig, Posterior, VaeLossOptions, VaeLossTerms } from './models/autoencoder-kl';
export { UNet2DConditionModel } from './models/unet-2d-condition';
export type { UNet2DConditionConfig, UNetForwardInput, UNetForwardOutput } from './models/unet-2d-condition';
export { NoiseScheduler, SCHEDULER_CLASSES, SD2_SCHEDULER_CONFIG } from './models/scheduler';
export type { SamplerName, StepResult } from './models/scheduler';
export type { ModelLoadOptions, ParameterInfo } from './models/native-model';
export { inpaintLoop, MASKED_FILL } from './inference/inpaint-loop';
export type { InpaintLoopOptions, InpaintLoopResult } from './inference/inpaint-loop';
export { inpaint } from './models/inpaint';
export type { InpaintInputs, InpaintOutputs } from './models/inpaint';
export { DiffutePipeline, DiffuteModelIndexSchema, MODEL_INDEX, PIPELINE_COMPONENTS, writeModelIndex } from './models/diffute-pipeline';
export type {
  DiffuteModelIndex, DiffuteModelIndexInput, DiffuteSettings, DiffuteSources, DiffuteComponents, DiffutePipelineLoadOptions, PipelineComponent,
} from './models/diffute-pipeline';
export type { ResolvedConfig, GlyphProjectionFields } from './models/config-types';
export { NativeModel } from './models/native-model';
export type { ModelKind, ModelClass } from './models/native-model';
export { GlyphEncoder, preprocessTrocr } from './models/glyph-encoder';
export { GlyphProjection, GlyphProjectionConfigSchema } from './models/glyph-projection';
export type { GlyphProjectionConfig } from './models/glyph-projection';
export type { GlyphEncoderOutput, RgbPixels, ViTConfig } from './models/glyph-encoder';
export { Lpips, bundledLpipsHeads } from './models/lpips';
export { readTorchStateDict, writeTorchStateDict, isTorchCheckpointFile, TORCH_CHECKPOINT_EXTENSIONS } from './models/torch-checkpoint';
export type { TorchStateDict } from './models/torch-checkpoint';
export { convertVgg16, readWeightsFile, mapDiffusersKeys, hasDeprecatedAttentionKeys } from './models/convert';
export type { ComponentReport, ConversionReport, LoadedWeights } from './models/convert';
export { assemblePipeline, convertToPipeline } from './models/pipeline-assembly';
export type { PipelineParts, AssembleOptions } from './models/pipeline-assembly';
export { pullModel, planPull, pinModel, hubAccessFromEnv, DEFAULT_HUB_ENDPOINT } from './models/hub-pull';
export type { HubAccess, PullOptions, PullPlan, PlannedFile, PullProgress, PullResult } from './models/hub-pull';
export { KNOWN_MODELS, parsePullSpec, shippedPins } from './models/hub-registry';
export type { KnownModel, HubPin, PullSpec } from './models/hub-registry';
export { verifyModelFolder, describeModelFolder, listCachedModels } from './models/model-folders';
export type { FolderVerification, FolderProblem, CachedModel } from './models/model-folders';
export { promoteCheckpoint, promotionCard, checkpointEvalMetrics } from './training/promote';
export type { PromoteOptions, PromoteResult } from './training/promote';
export type { LpipsOutput } from './models/lpips';
export { Anonymizer, AnonymizerOptionsSchema } from './inference/anonymizer';
export type { AnonymizerOptions, AnonymizeRequest, AnonymizeResult } from './inference/anonymizer';
export { DiffuteEngine, DiffuteEngineOptionsSchema, estimateRegionMiB } from './inference/engines/diffute';
export type { DiffuteEngineOptions, DiffuteModels } from './inference/engines/diffute';
// Automatic detect-and-anonymize flow, request options, reports, PDF input and the HTTP API.
export { DetectionOptionsSchema, readInput } from './inference/detection';
export type { DetectionOptions, ResolvedDetectionOptions, ReadingReport, VerificationReport } from './inference/detection';
export { verifyPage } from './inference/page-verification';
export type { PageVerification, PageFinding, VerificationTarget } from './inference/page-verification';
export { readPage, readAgain, ReadingOptionsSchema } from './detect/read/read-page';
export type { PageReading, ReadingOptions, ResolvedReadingOptions } from './detect/read/read-page';
export type { Readability } from './detect/read/readability';
export type { Orientation } from './detect/read/geometry';
export { TesseractOsd } from './detect/ocr/osd';
export type { OrientationGuess } from './detect/ocr/osd';
export type { StageTimes } from './inference/anonymizer';
export { AnonymizeRequestOptionsSchema, parseRequestOptions } from './inference/request-options';
export type { AnonymizeRequestOptions, AnonymizeRequestOptionsInput } from './inference/request-options';
export { buildReport } from './inference/report';
export type { AnonymizeReport, ReportRegion, KeptRegion } from './inference/report';
export {
  RegionsDocumentSchema, DocumentPageSchema, DocumentRegionSchema, REGIONS_DOCUMENT_KIND, REGIONS_DOCUMENT_VERSION, parseRegionsDocument,
  parseRegionsInput, toRegionsDocument, checkDocumentFits, pageRegions, regionsForImage, regionsDocumentJsonSchema,
} from './inference/regions-document';
export type { RegionsDocument, RegionsDocumentInput, DocumentPage, DocumentRegion, RegionsInput, DetectedPage } from './inference/regions-document';
export type { DetectRequest, DetectResult, RegionDecision } from './inference/anonymizer';
export { AUDIT_RECORD_KIND, AUDIT_RECORD_VERSION, AuditRecordSchema, buildAuditRecord, canonicalJson, recordHmac, parseAuditRecord, verifyAuditRecord, anonymizerAudit } from './audit';
export type { AuditInput, AuditRecord, AuditCheck, AuditVerification, EngineSettings } from './audit';
export { rasterizePdf, isPdf, writeImagePdf, writeImagePdfAsync, anonymizePdf, detectPdf } from './pdf';
export type { RasterizeOptions, RasterPage, PdfImagePage, AnonymizePdfOptions, AnonymizePdfResult, PdfPageResult, DetectPdfOptions, DetectPdfResult } from './pdf';
export { createServer, serverAddress, ServerOptionsSchema, ServerLimitsSchema, parseServerOptions } from './server';
export type { DocAnonServer, ServerOptions, ResolvedServerOptions, ServerLimits } from './server';

// Training (issue 5): trainers, configs, LR schedules, checkpoints.
export { VaeTrainer, type TrainerBuildOptions } from './training/vae-trainer';
export { UnetTrainer } from './training/unet-trainer';
export { BaseTrainer, type StepReport } from './training/base-trainer';
export { NativeTrainer, type StepResult as TrainStepResult } from './training/native-trainer';
export { runTraining, TrainingRun, type LoopOptions, type LoopResult, type TrainingHooks } from './training/loop';
export { runTrainingJob, type TrainingJobRequest, type TrainingJobHooks, type TrainingJobOutcome } from './training/job';
export { SignalStop, type StopSource } from './training/stop-signals';
export { learningRate, LrScheduleSchema, type LrScheduleConfig } from './training/lr-schedule';
export {
  VaeTrainConfigSchema,
  UnetTrainConfigSchema,
  parseVaeTrainConfig,
  parseUnetTrainConfig,
  loadVaeTrainConfig,
  loadUnetTrainConfig,
  type VaeTrainConfig,
  type UnetTrainConfig,
} from './training/config';
export { listCheckpoints, latestCheckpoint, readCheckpointMeta, writeCheckpoint, pruneCheckpoints, type CheckpointMeta } from './training/checkpoint';
export {
  importDataset,
  importFunsd,
  importXfund,
  ImportDatasetOptionsSchema,
  FunsdAnnotationSchema,
  XfundSplitSchema,
  FormEntitySchema,
  type ImportDatasetOptions,
  type ImportReport,
  type DatasetFormat,
} from './training/data/importers';

// Evaluation (issue 21): `doc-anon eval` as a function, its measures, and run metrics (metrics.jsonl + TensorBoard).
export {
  evaluate, EvaluateOptionsSchema, formatEvalReport, evalReportJson, evaluateVaeModel, evaluateDiffuteModels, psnr, ssim, charAccuracy, wordAccuracy,
  editDistance,
} from './eval';
export type { EvaluateOptions, EvalReport, VaeEvalOptions, VaeEvalReport, DiffuteEvalOptions, DiffuteEvalReport, DiffuteExampleResult, Stat } from './eval';
export { TensorBoardWriter, readTensorBoardEvents, TENSORBOARD_PROTO } from './tracking/tensorboard';
export type { TensorBoardEvent, SummaryImage } from './tracking/tensorboard';
export { RunMetrics } from './tracking/run-metrics';
export type { MetricsSink, RunMetricsOptions } from './tracking/run-metrics';
// Evaluation during training (issue 21): the eval block, held-out split, best tracking; the dry run's findings.
export { TrainEvalSchema, METRIC_DIRECTION, BestTracker, isHeldOut, evaluateDuringTraining, vaeEvalMetrics, diffuteEvalMetrics } from './training/evaluation';
export type { TrainEvalConfig, EvalMetric, BestState, EvalTarget, TrainingEvalOptions } from './training/evaluation';
export { BEST_DIR, EVAL_STATE_FILE, RUN_FILES_DIR } from './training/loop';
export { sampleGrid } from './eval/grid';
export type { Tile } from './eval/grid';
