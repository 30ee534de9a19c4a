/**
 * `npm run build` (also run by `npm install`, and by `jot` itself when the bundle is missing
 * or older than its sources): bundles the command line (tools/direct.ts) with the reference
 * solutions into one JavaScript file, `.workbook/build/jot.mjs`, so that `jot` starts without
 * transforming TypeScript. Beside it, `jot.json` records every source file that went in with
 * its size and time of change; jot.mjs compares them before each start (a few stat calls)
 * and rebuilds when one differs.
 *
 * Plain JavaScript on purpose: it runs before anything could load TypeScript. esbuild comes
 * with tsx (which the workbook depends on).
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Where the bundle and its record of sources are, under the workbook's folder `root`. */
export function bundlePaths(root) {
  const dir = join(root, '.workbook', 'build');
  return { dir, bundle: join(dir, 'jot.mjs'), sources: join(dir, 'jot.json') };
}

/** The conditions that select the reference solutions: every `solution-chNN` named in package.json "imports". */
function referenceConditions(root) {
  const imports = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).imports ?? {};
  const conditions = new Set();
  for (const target of Object.values(imports)) {
    if (typeof target === 'object' && target !== null) for (const name of Object.keys(target)) if (name.startsWith('solution-')) conditions.add(name);
  }
  return [...conditions];
}

/**
 * Puts tools/lazy-disasm.ts in the place of native/disasm.ts, which loads capstone as it is
 * imported: the bundle loads it only when something is about to be disassembled. The
 * stand-in's own import of the real module (dynamic, by a relative path) is left alone.
 */
const lazyDisassembler = (root) => ({
  name: 'lazy-disassembler',
  setup(build) {
    build.onResolve({ filter: /^#native\/disasm\.ts$/ }, () => ({ path: join(root, 'tools', 'lazy-disasm.ts') }));
  },
});

/** The size and time of change of each file, as jot.mjs compares them. */
export function stamp(path) {
  const stats = statSync(path);
  return `${stats.size}:${Math.round(stats.mtimeMs)}`;
}

/** Builds the bundle; returns how long it took in milliseconds. */
export async function build(root = resolve(HERE, '..')) {
  const started = performance.now();
  const esbuild = await import('esbuild');
  const { dir, bundle, sources } = bundlePaths(root);
  const result = await esbuild.build({
    entryPoints: [join(root, 'tools', 'direct.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: referenceConditions(root),
    plugins: [lazyDisassembler(root)],
    // koffi is a native module, capstone-wasm loads its WebAssembly next to itself: both stay packages.
    external: ['koffi', 'capstone-wasm'],
    // Packages written as CommonJS call require(): give the module one.
    banner: { js: "import { createRequire as __workbookRequire } from 'node:module'; const require = __workbookRequire(import.meta.url);" },
    metafile: true,
    write: false,
    outfile: bundle,
    logLevel: 'silent',
  });
  mkdirSync(dir, { recursive: true });
  const inputs = {};
  for (const input of [...Object.keys(result.metafile.inputs), 'package.json']) {
    inputs[input] = stamp(join(root, input));
  }
  // Written beside and renamed into place: a jot starting meanwhile sees the old bundle or the new one, never half of one.
  const temporary = `${bundle}.${process.pid}.tmp`;
  writeFileSync(temporary, result.outputFiles[0].contents);
  renameSync(temporary, bundle);
  writeFileSync(`${sources}.${process.pid}.tmp`, `${JSON.stringify({ bundle: relative(root, bundle), inputs }, null, 1)}\n`);
  renameSync(`${sources}.${process.pid}.tmp`, sources);
  return performance.now() - started;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const ms = await build();
    process.stdout.write(`built .workbook/build/jot.mjs in ${Math.round(ms)} ms (the direct entry: npx jot program.jot)\n`);
  } catch (error) {
    process.stderr.write(`cannot build the direct entry: ${error.message}\n(jot still runs, from the TypeScript sources, more slowly)\n`);
    process.exitCode = 1;
  }
}
