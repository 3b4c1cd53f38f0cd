#!/usr/bin/env node
/**
 * Builds the review page into lib/web/: its TypeScript compiled by tsc (no bundler: plain ES
 * modules), its HTML and CSS copied, and pdf.js's browser build copied beside it (vendor/), so the
 * page runs offline from `doc-anon serve` or as a static folder an Electron app loads.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const final = path.join(root, 'lib', 'web');
// Built beside, then swapped in: a server serving the page meanwhile never sees half of it.
const out = `${final}.partial-${process.pid}`;
fs.rmSync(out, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'web', 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' });
for (const f of ['index.html', 'review.css']) fs.copyFileSync(path.join(root, 'web', 'review', f), path.join(out, f));
const pdfjs = path.dirname(require.resolve('pdfjs-dist/package.json'));
fs.mkdirSync(path.join(out, 'vendor'), { recursive: true });
for (const f of ['pdf.min.mjs', 'pdf.worker.min.mjs']) fs.copyFileSync(path.join(pdfjs, 'build', f), path.join(out, 'vendor', f));
fs.copyFileSync(path.join(pdfjs, 'LICENSE'), path.join(out, 'vendor', 'pdfjs-LICENSE'));
const old = `${final}.old-${process.pid}`;
if (fs.existsSync(final)) fs.renameSync(final, old);
fs.renameSync(out, final);
fs.rmSync(old, { recursive: true, force: true });
