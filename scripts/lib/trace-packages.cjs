// Preload (node -r) that appends to $TRACE_PACKAGES_OUT the npm packages this process loaded, one
// per line: scripts/gpu-node-bundle.sh packs exactly what the commands it runs need.
'use strict';
const fs = require('node:fs');
const Module = require('node:module');

const out = process.env.TRACE_PACKAGES_OUT;
const packages = new Set();
const load = Module._load;
Module._load = function traced(request, parent, isMain) {
  const exported = load.apply(this, arguments);
  try {
    const m = Module._resolveFilename(request, parent, isMain).match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (m) packages.add(m[1]);
  } catch {
    // Built-ins and virtual modules have no file: nothing to pack.
  }
  return exported;
};
process.on('exit', () => {
  if (out) fs.appendFileSync(out, [...packages].map((p) => `${p}\n`).join(''));
});
