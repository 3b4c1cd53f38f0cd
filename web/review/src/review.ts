/**
 * The review page: open an image or PDF, see what detection would replace (boxes coloured by
 * entity type), change it (drag to add a box, drag a box to move it, delete one, edit a
 * replacement, keep a value), run the anonymization, compare before and after, download both the
 * result and its report (the audit record). Keyboard: every control is a button or a field; on the
 * page, arrow keys move the selected box (Shift: 10 px; Alt: resize) and Delete removes it.
 *
 * Deleting a box that detection found keeps its value: the document sent marks it `keep`, since
 * the verification would otherwise find the value again and refuse the page. A box you drew is
 * simply gone. Nothing is stored: the document lives in this page until it is closed.
 */
import { ApiError, pickApi, type AnonymizeAnswer, type DocRegion, type RegionsDocument } from './api.js';
import { renderPdf } from './pdf.js';

/** A region as the page edits it. */
interface UiRegion extends DocRegion {
  id: number;
  /** Drawn by the person (not found by detection). */
  manual: boolean;
  /** Deleted: a manual one is dropped, a detected one is kept as it is. */
  deleted: boolean;
}

type Box = [number, number, number, number];

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = {
  file: $<HTMLInputElement>('file'),
  token: $<HTMLInputElement>('token'),
  status: $<HTMLParagraphElement>('status'),
  error: $<HTMLParagraphElement>('error'),
  work: $<HTMLElement>('work'),
  prev: $<HTMLButtonElement>('prev'),
  next: $<HTMLButtonElement>('next'),
  pageLabel: $<HTMLSpanElement>('page-label'),
  add: $<HTMLButtonElement>('add'),
  run: $<HTMLButtonElement>('run'),
  download: $<HTMLAnchorElement>('download'),
  downloadReport: $<HTMLAnchorElement>('download-report'),
  page: $<HTMLCanvasElement>('page'),
  overlay: $<HTMLCanvasElement>('overlay'),
  count: $<HTMLSpanElement>('count'),
  legend: $<HTMLUListElement>('legend'),
  list: $<HTMLOListElement>('regions'),
  editor: $<HTMLFormElement>('editor'),
  editorTitle: $<HTMLHeadingElement>('editor-title'),
  editorOriginal: $<HTMLParagraphElement>('editor-original'),
  replacement: $<HTMLInputElement>('replacement'),
  keep: $<HTMLInputElement>('keep'),
  del: $<HTMLButtonElement>('delete'),
  compare: $<HTMLElement>('compare'),
  verified: $<HTMLSpanElement>('verified'),
  before: $<HTMLCanvasElement>('before'),
  after: $<HTMLCanvasElement>('after'),
};

const api = pickApi(() => el.token.value);

/** Colours by entity type (fixed, so a type looks the same on every page and every run). */
const COLOURS: Record<string, string> = {
  person: '#d7263d', address: '#f46036', email: '#2e86ab', phone: '#1b998b', iban: '#8e44ad', bic: '#9b59b6', card: '#c0392b',
  account_number: '#6c3483', routing_number: '#5b2c6f', sort_code: '#76448a', ssn: '#b03a2e', national_id: '#943126', vat_id: '#7b241c',
  date: '#e1a100', money: '#117a65', organization: '#2471a3', id_number: '#5d6d7e', manual: '#222222',
};
const colourOf = (r: Pick<DocRegion, 'entity'> & { manual?: boolean }): string => (r.manual || !r.entity ? COLOURS.manual : (COLOURS[r.entity] ?? '#7f8c8d'));

interface State {
  file: File;
  pdf: boolean;
  doc: RegionsDocument;
  pages: HTMLCanvasElement[];
  regions: UiRegion[][];
  index: number;
  selected?: number;
  result?: { answer: AnonymizeAnswer; pages: HTMLCanvasElement[]; urls: string[] };
}
let state: State | undefined;
let nextId = 1;

function say(text: string): void {
  el.status.textContent = text;
}

function fail(e: unknown): void {
  const code = e instanceof ApiError ? e.code : 'ERR_PAGE';
  let text = `${code}: ${(e as Error).message}`;
  if (e instanceof ApiError && e.status === 401) text += ' Type the server\'s token above and try again.';
  el.error.textContent = text;
  el.error.hidden = false;
}

function clearError(): void {
  el.error.hidden = true;
  el.error.textContent = '';
}

/** The page's pixels drawn on a canvas of exactly that size. */
async function imageCanvas(blob: Blob): Promise<HTMLCanvasElement> {
  // EXIF orientation applied, as the server decodes it.
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  const c = document.createElement('canvas');
  c.width = bitmap.width;
  c.height = bitmap.height;
  c.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  return c;
}

async function isPdf(file: Blob): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 5).arrayBuffer());
  return String.fromCharCode(...head) === '%PDF-';
}

async function open(file: File): Promise<void> {
  clearError();
  dropResult();
  state = undefined;
  el.work.hidden = true;
  say(`Reading ${file.name} and finding its sensitive text…`);
  const pdf = await isPdf(file);
  const doc = await api.detect(file, { includeOriginal: true });
  const pages = pdf ? await renderPdf(await file.arrayBuffer(), (i) => doc.pages[i]) : [await imageCanvas(file)];
  doc.pages.forEach((p, i) => {
    const c = pages[i];
    if (!c || c.width !== p.width || c.height !== p.height) throw new ApiError('ERR_PAGE', `page ${i + 1} shows as ${c?.width}x${c?.height}, the server read it as ${p.width}x${p.height}`);
  });
  const regions = doc.pages.map((p) => p.regions.map((r): UiRegion => ({ ...r, id: nextId++, manual: false, deleted: false })));
  state = { file, pdf, doc, pages, regions, index: 0 };
  el.work.hidden = false;
  const n = regions.reduce((a, r) => a + r.length, 0);
  say(`${n} region(s) found on ${pages.length} page(s). Review them, then press Anonymize.`);
  showPage();
}

function current(): UiRegion[] {
  return state ? state.regions[state.index] : [];
}

function selectedRegion(): UiRegion | undefined {
  return current().find((r) => r.id === state?.selected);
}

function showPage(): void {
  if (!state) return;
  const canvas = state.pages[state.index];
  for (const c of [el.page, el.overlay]) {
    c.width = canvas.width;
    c.height = canvas.height;
  }
  el.page.getContext('2d')!.drawImage(canvas, 0, 0);
  el.pageLabel.textContent = `Page ${state.index + 1} of ${state.pages.length}`;
  el.prev.disabled = state.index === 0;
  el.next.disabled = state.index >= state.pages.length - 1;
  draw();
  showCompare();
}

/** The overlay: every region in its entity's colour; kept ones dashed; the selected one thicker. */
function draw(): void {
  if (!state) return;
  const ctx = el.overlay.getContext('2d')!;
  ctx.clearRect(0, 0, el.overlay.width, el.overlay.height);
  // Line widths in screen pixels, whatever the page's scale on screen.
  const k = el.overlay.width / Math.max(1, el.overlay.clientWidth || el.overlay.width);
  for (const r of current()) {
    if (r.deleted) continue;
    const [x0, y0, x1, y1] = r.box;
    const colour = colourOf(r);
    const chosen = r.id === state.selected;
    ctx.setLineDash(r.keep ? [6 * k, 4 * k] : []);
    if (!r.keep) {
      ctx.fillStyle = `${colour}33`;
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
    ctx.lineWidth = (chosen ? 4 : 2) * k;
    ctx.strokeStyle = chosen ? '#f5a623' : r.keep ? '#555' : colour;
    ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    ctx.setLineDash([]);
    ctx.font = `${11 * k}px system-ui, sans-serif`;
    ctx.fillStyle = r.keep ? '#555' : colour;
    ctx.fillText(`${r.manual ? 'added' : (r.entity ?? 'region')}${r.keep ? ' (kept)' : ''}`, x0, Math.max(10 * k, y0 - 3 * k));
  }
  renderList();
}

function renderList(): void {
  if (!state) return;
  const regions = current();
  el.count.textContent = `(${regions.filter((r) => !r.deleted).length} on this page)`;
  const types = [...new Set(regions.filter((r) => !r.deleted).map((r) => (r.manual ? 'manual' : (r.entity ?? 'manual'))))].sort();
  el.legend.replaceChildren(
    ...types.map((t) => {
      const li = document.createElement('li');
      li.style.setProperty('--c', COLOURS[t] ?? '#7f8c8d');
      li.textContent = t === 'manual' ? 'added' : t;
      return li;
    }),
  );
  el.list.replaceChildren(
    ...regions.map((r) => {
      const li = document.createElement('li');
      const b = document.createElement('button');
      b.type = 'button';
      b.style.setProperty('--c', colourOf(r));
      b.setAttribute('aria-pressed', String(r.id === state!.selected));
      b.dataset.id = String(r.id);
      const what = r.manual ? 'added box' : (r.entity ?? 'region');
      const change = r.deleted ? 'deleted: left as it is' : r.keep ? 'kept as it is' : `→ ${r.replacement === '' ? '(erased)' : r.replacement}`;
      b.textContent = `${what} ${r.original !== undefined ? `"${r.original}" ` : ''}${change}`;
      if (r.deleted || r.keep) b.classList.add('kept');
      b.addEventListener('click', () => select(r.id, false));
      b.addEventListener('keydown', (e) => {
        if (e.key === 'Delete' || e.key === 'Backspace') {
          e.preventDefault();
          select(r.id, false);
          removeSelected();
        }
      });
      li.append(b);
      return li;
    }),
  );
  renderEditor();
}

function renderEditor(): void {
  const r = selectedRegion();
  el.editor.hidden = !r;
  if (!r) return;
  el.editorTitle.textContent = r.manual ? 'Added box' : `${r.entity ?? 'Region'}${r.confidence !== undefined ? ` (confidence ${r.confidence.toFixed(2)})` : ''}`;
  el.editorOriginal.hidden = r.original === undefined;
  el.editorOriginal.textContent = r.original !== undefined ? `Now: "${r.original}"` : '';
  if (document.activeElement !== el.replacement) el.replacement.value = r.replacement;
  el.replacement.disabled = r.deleted;
  el.keep.checked = r.keep || r.deleted;
  el.keep.disabled = r.deleted;
  el.del.textContent = r.deleted ? 'Restore region' : 'Delete region';
}

function select(id: number | undefined, focusPage: boolean): void {
  if (!state) return;
  state.selected = id;
  draw();
  if (focusPage) el.overlay.focus();
}

/** Any change to the regions makes a shown result stale. */
function edited(): void {
  dropResult();
  draw();
}

function removeSelected(): void {
  if (!state) return;
  const r = selectedRegion();
  if (!r) return;
  if (r.manual) {
    state.regions[state.index] = current().filter((x) => x.id !== r.id);
    state.selected = undefined;
    say('The added box was removed.');
  } else {
    r.deleted = !r.deleted;
    say(r.deleted ? `The ${r.entity ?? 'region'} was deleted: it stays as it is on the page.` : `The ${r.entity ?? 'region'} was restored.`);
  }
  edited();
}

function addBox(box: Box): void {
  if (!state) return;
  const r: UiRegion = { id: nextId++, box, replacement: '', recognizer: 'manual', keep: false, manual: true, deleted: false };
  current().push(r);
  state.selected = r.id;
  say('A box was added: type its replacement on the right (empty erases it).');
  edited();
}

/** Pointer position in page pixels. */
function pagePoint(e: PointerEvent): [number, number] {
  const rect = el.overlay.getBoundingClientRect();
  return [((e.clientX - rect.left) * el.overlay.width) / rect.width, ((e.clientY - rect.top) * el.overlay.height) / rect.height];
}

const clampBox = (b: Box, w: number, h: number): Box => {
  const x0 = Math.max(0, Math.min(b[0], b[2]));
  const y0 = Math.max(0, Math.min(b[1], b[3]));
  return [x0, y0, Math.min(w, Math.max(b[0], b[2])), Math.min(h, Math.max(b[1], b[3]))];
};

let drag: { kind: 'move'; id: number; from: [number, number]; box: Box } | { kind: 'draw'; from: [number, number]; to: [number, number] } | undefined;

el.overlay.addEventListener('pointerdown', (e) => {
  if (!state || e.button !== 0) return;
  const p = pagePoint(e);
  const hit = [...current()].reverse().find((r) => !r.deleted && p[0] >= r.box[0] && p[0] <= r.box[2] && p[1] >= r.box[1] && p[1] <= r.box[3]);
  el.overlay.setPointerCapture(e.pointerId);
  if (hit) {
    select(hit.id, true);
    drag = { kind: 'move', id: hit.id, from: p, box: [...hit.box] };
  } else drag = { kind: 'draw', from: p, to: p };
});

el.overlay.addEventListener('pointermove', (e) => {
  if (!state || !drag) return;
  const p = pagePoint(e);
  if (drag.kind === 'move') {
    const r = current().find((x) => x.id === (drag as { id: number }).id);
    if (!r) return;
    const dx = Math.round(p[0] - drag.from[0]);
    const dy = Math.round(p[1] - drag.from[1]);
    const w = drag.box[2] - drag.box[0];
    const h = drag.box[3] - drag.box[1];
    const x0 = Math.min(Math.max(0, drag.box[0] + dx), el.overlay.width - w);
    const y0 = Math.min(Math.max(0, drag.box[1] + dy), el.overlay.height - h);
    r.box = [x0, y0, x0 + w, y0 + h];
    draw();
  } else {
    drag.to = p;
    draw();
    const ctx = el.overlay.getContext('2d')!;
    const b = clampBox([drag.from[0], drag.from[1], p[0], p[1]], el.overlay.width, el.overlay.height);
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = COLOURS.manual;
    ctx.lineWidth = 2;
    ctx.strokeRect(b[0], b[1], b[2] - b[0], b[3] - b[1]);
    ctx.setLineDash([]);
  }
});

el.overlay.addEventListener('pointerup', () => {
  if (!state || !drag) return;
  const d = drag;
  drag = undefined;
  if (d.kind === 'move') {
    edited();
    return;
  }
  const b = clampBox([d.from[0], d.from[1], d.to[0], d.to[1]], el.overlay.width, el.overlay.height).map(Math.round) as Box;
  if (b[2] - b[0] >= 6 && b[3] - b[1] >= 6) addBox(b);
  else select(undefined, false);
});

el.overlay.addEventListener('keydown', (e) => {
  if (!state) return;
  const r = selectedRegion();
  if ((e.key === 'Delete' || e.key === 'Backspace') && r) {
    e.preventDefault();
    removeSelected();
    return;
  }
  const step = e.shiftKey ? 10 : 1;
  const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
  const m = moves[e.key];
  if (!m || !r || r.deleted) return;
  e.preventDefault();
  const [x0, y0, x1, y1] = r.box;
  const W = el.overlay.width;
  const H = el.overlay.height;
  if (e.altKey) {
    // Resize from the bottom-right corner, never below 6 px.
    r.box = [x0, y0, Math.min(W, Math.max(x0 + 6, x1 + m[0])), Math.min(H, Math.max(y0 + 6, y1 + m[1]))];
  } else {
    const dx = Math.max(-x0, Math.min(W - x1, m[0]));
    const dy = Math.max(-y0, Math.min(H - y1, m[1]));
    r.box = [x0 + dx, y0 + dy, x1 + dx, y1 + dy];
  }
  edited();
});

el.replacement.addEventListener('input', () => {
  const r = selectedRegion();
  if (!r) return;
  r.replacement = el.replacement.value;
  edited();
});
el.keep.addEventListener('change', () => {
  const r = selectedRegion();
  if (!r) return;
  r.keep = el.keep.checked;
  edited();
});
el.del.addEventListener('click', () => removeSelected());
el.editor.addEventListener('submit', (e) => e.preventDefault());

el.add.addEventListener('click', () => {
  if (!state) return;
  const w = el.overlay.width;
  const h = el.overlay.height;
  const bw = Math.round(Math.min(w / 4, 240));
  const bh = Math.round(Math.min(h / 20, 40));
  addBox([Math.round((w - bw) / 2), Math.round((h - bh) / 2), Math.round((w + bw) / 2), Math.round((h + bh) / 2)]);
  el.overlay.focus();
});

el.prev.addEventListener('click', () => {
  if (!state || state.index === 0) return;
  state.index--;
  state.selected = undefined;
  showPage();
});
el.next.addEventListener('click', () => {
  if (!state || state.index >= state.pages.length - 1) return;
  state.index++;
  state.selected = undefined;
  showPage();
});

/** The regions document as edited: deleted detected values kept, deleted added boxes gone. */
function editedDocument(s: State): RegionsDocument {
  return {
    ...s.doc,
    pages: s.doc.pages.map((p, i) => ({
      ...p,
      regions: s.regions[i]
        .filter((r) => !(r.manual && r.deleted))
        .map((r): DocRegion => {
          const { id: _id, manual: _manual, deleted, ...rest } = r;
          return { ...rest, box: clampBox(r.box.map(Math.round) as Box, p.width, p.height), keep: r.keep || deleted };
        }),
    })),
  };
}

function dropResult(): void {
  if (state?.result) for (const u of state.result.urls) URL.revokeObjectURL(u);
  if (state) state.result = undefined;
  el.compare.hidden = true;
  el.download.hidden = true;
  el.downloadReport.hidden = true;
}

function showCompare(): void {
  const r = state?.result;
  if (!state || !r) return;
  for (const [canvas, src] of [
    [el.before, state.pages[state.index]],
    [el.after, r.pages[state.index]],
  ] as const) {
    canvas.width = src.width;
    canvas.height = src.height;
    canvas.getContext('2d')!.drawImage(src, 0, 0);
  }
  el.compare.hidden = false;
}

el.run.addEventListener('click', async () => {
  if (!state) return;
  const s = state;
  clearError();
  dropResult();
  el.run.disabled = true;
  say('Anonymizing: replacing, then reading the whole result back to verify it…');
  try {
    const answer = await api.anonymize(s.file, editedDocument(s));
    const pages = s.pdf ? await renderPdf(await answer.document.arrayBuffer(), (i) => s.doc.pages[i]) : [await imageCanvas(answer.document)];
    const base = s.file.name.replace(/\.[^.]+$/, '') || 'document';
    const ext = answer.format === 'jpeg' ? 'jpg' : answer.format === 'tiff' ? 'tif' : answer.format;
    const urls = [URL.createObjectURL(answer.document), URL.createObjectURL(new Blob([JSON.stringify(answer.audit ?? answer.report, null, 2)], { type: 'application/json' }))];
    s.result = { answer, pages, urls };
    el.download.href = urls[0];
    el.download.download = `${base}.anon.${ext}`;
    el.downloadReport.href = urls[1];
    el.downloadReport.download = `${base}.report.json`;
    el.download.hidden = false;
    el.downloadReport.hidden = false;
    const verified = (answer.audit as { verified?: boolean } | undefined)?.verified === true;
    el.verified.textContent = verified ? '(verified: the result was read back and nothing sensitive is readable)' : '(not verified)';
    showCompare();
    say(`Done${verified ? ', verified' : ''}. Compare below; download the result and its report.`);
  } catch (e) {
    fail(e);
    say('Nothing was anonymized.');
  } finally {
    el.run.disabled = false;
  }
});

el.file.addEventListener('change', () => {
  const f = el.file.files?.[0];
  if (f) open(f).catch((e) => (fail(e), say('Open another document.')));
});
