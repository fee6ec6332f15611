// Bundles the IDE into OUTDIR: index.html, app.js, app.css (minified, byte-for-byte reproducible,
// so tests/ide can rebuild into a temporary directory and compare with the committed bundle).
// Usage: node build.mjs OUTDIR
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: node build.mjs OUTDIR');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.ts' },
  outdir: resolve(outdir),
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  // crosis imports Node's `url` for parse/format only; the shim does that with WHATWG URL.
  alias: { url: './src/shims/url.ts' },
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});
copyFileSync(join(here, 'src', 'index.html'), join(outdir, 'index.html'));
