/** What an Anonymizer contributes to an audit record: its engine, models, OCR data and secret use. */
import type { Anonymizer } from '../inference/anonymizer';
import type { AuditInput } from './record';

/** The engine, model, OCR and fake-keying parts of an audit record for `anonymizer`. */
export function anonymizerAudit(anonymizer: Anonymizer): Pick<AuditInput, 'engine' | 'models' | 'ocr' | 'keyedFakes'> {
  const o = anonymizer.options;
  return {
    engine: anonymizer.engineSettings,
    models: o.models ? { ...o.models } : undefined,
    ocr: { languages: o.detection.ocr.languages, langPath: o.detection.ocr.langPath },
    keyedFakes: o.detection.secret !== undefined,
  };
}
