#!/usr/bin/env node
/**
 * `jot`, the direct entry (package.json "bin"; `npx jot program.jot`, or `node tools/jot.mjs`):
 * runs the command line of tools/jit.ts from its bundle, `.workbook/build/jot.mjs`, in this
 * one process, so that a program starts in a tenth of a second instead of the second that
 * transforming the TypeScript sources takes.
 *
 * The bundle is made by build.mjs (at `npm install`, or `npm run build`). Before each start
 * this checks that every source file that went into it is unchanged (its size and time of
 * change); when one changed, or the bundle is missing, it says so on stderr and builds it
 * again first (a tenth of a second or so). When it cannot build (esbuild missing), it says
 * so and runs the TypeScript sources instead, as `npm run jit` did before the bundle existed.
 *
 * Plain JavaScript, for the same reason as build.mjs.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import module from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundlePaths, stamp } from './build.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { bundle, sources } = bundlePaths(root);

/** Why the bundle cannot be used as it is, or undefined when it can. */
function staleness() {
  let record;
  try {
    record = JSON.parse(readFileSync(sources, 'utf8'));
  } catch {
    return 'the direct entry is not built yet';
  }
  for (const [file, recorded] of Object.entries(record.inputs ?? {})) {
    let now;
    try {
      now = stamp(join(root, file));
    } catch {
      return `${file}, part of the direct entry, is gone`;
    }
    if (now !== recorded) return `${file} changed since the direct entry was built`;
  }
  return undefined;
}

/** Runs the command line from its TypeScript sources, in a second process, and passes its status on. */
function runFromSources(args) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'tools', 'jit.ts'), ...args], { stdio: 'inherit' });
  child.on('close', (code, signal) => {
    if (signal !== null) process.stderr.write(`the program was killed by ${signal}\n`);
    process.exitCode = code ?? 1;
  });
}

/**
 * V8's compiled code of the bundle, kept between runs where this Node.js can (22.1 and newer;
 * the same folder as the check workers' cache): parsing 400 KB of JavaScript is most of a start.
 */
function enableCompileCache() {
  try {
    module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), `workbook-compile-cache-${userInfo().uid}`));
  } catch {
    // No cache: only slower.
  }
}

/** esbuild's first error as `file:line:column: text`, or the error's first line. */
function buildProblem(error) {
  const first = error.errors?.[0];
  if (first === undefined) return error.message.split('\n')[0];
  const at = first.location ? `${first.location.file}:${first.location.line}:${first.location.column + 1}: ` : '';
  return `${at}${first.text}`;
}

const args = process.argv.slice(2);
const stale = staleness();
let usable = stale === undefined;
if (!usable) {
  process.stderr.write(`jot: ${stale}: building it (npm run build) …\n`);
  try {
    const { build } = await import('./build.mjs');
    await build(root);
    usable = true;
  } catch (error) {
    process.stderr.write(`jot: cannot build the direct entry (${buildProblem(error)}); running from the TypeScript sources, which starts slower\n`);
  }
}
if (usable) {
  enableCompileCache();
  await import(pathToFileURL(bundle).href);
}
else runFromSources(args);
