// Builds the playground page into dist/playground (`npm run playground`):
// compiles the browser app with lib/playground/tsconfig.json, which also
// compiles every library module the app imports into the same relative
// layout (dist/playground/lib/..., dist/playground/codegen/...), then copies
// the page, its style sheet and the ESM builds of the npm dependencies the
// import map in index.html names. No bundler: the browser loads the modules
// as they are.
//
// Usage: node lib/playground/build.mjs [--out DIR]

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 && args[outIndex + 1] !== undefined ? resolve(args[outIndex + 1]) : join(root, 'dist/playground');

/** The npm packages the import map names, and the ESM file of each, next to the package's CommonJS main. */
const VENDOR = { acorn: 'acorn.mjs', astring: 'astring.mjs' };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const require = createRequire(join(root, 'package.json'));
const tsc = require.resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('playground: tsc failed');
  process.exit(r.status ?? 1);
}
for (const file of ['index.html', 'style.css']) copyFileSync(join(here, file), join(out, file));
mkdirSync(join(out, 'vendor'), { recursive: true });
for (const [name, file] of Object.entries(VENDOR)) copyFileSync(join(dirname(require.resolve(name)), file), join(out, 'vendor', `${name}.mjs`));
if (!existsSync(join(out, 'lib/playground/app/main.js'))) {
  console.error('playground: the app was not compiled (lib/playground/app/main.js missing)');
  process.exit(1);
}
console.log(`playground built in ${out}`);
