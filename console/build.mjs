// Builds the console (issue #22): esbuild bundles and minifies src/main.jsx
// (Preact's automatic JSX runtime) into dist/assets/app-<hash>.js and .css,
// writes a gzip of each (level 9; Node's gzip header carries no time, so the
// bytes are the same on every build) and dist/index.html naming them.
// No inline script or style anywhere: the server's CSP forbids them.
//
//   node build.mjs        (npm run build)
//
// The output is committed and embedded in the shipwarden binary; a build from
// the same sources gives the same bytes (scripts/test fails on a diff).

import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const assets = join(dist, 'assets');

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.jsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  outdir: 'out',
  entryNames: 'app',
  logLevel: 'warning',
});

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const names = {};
for (const file of result.outputFiles) {
  const ext = file.path.endsWith('.css') ? 'css' : 'js';
  const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 12);
  const name = `app-${hash}.${ext}`;
  writeFileSync(join(assets, name), file.contents);
  writeFileSync(join(assets, `${name}.gz`), gzipSync(file.contents, { level: 9 }));
  names[ext] = name;
}
if (!names.js || !names.css) throw new Error(`esbuild wrote ${Object.keys(names)}: expected js and css`);

const index = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>shipwarden console</title>
<link rel="stylesheet" href="/console/assets/${names.css}">
<script type="module" src="/console/assets/${names.js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The shipwarden console needs JavaScript; the API (/v1) and the CLI work without it.</noscript>
</body>
</html>
`;
writeFileSync(join(dist, 'index.html'), index);
for (const [ext, name] of Object.entries(names)) {
  const size = result.outputFiles.find((f) => f.path.endsWith(`.${ext}`)).contents.length;
  console.log(`dist/assets/${name}  ${size} B`);
}
