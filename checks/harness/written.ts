/**
 * Expectations written out for programs that checks build in their own code (a program in a
 * template literal, one generated from a table), kept apart from the code: the file
 * `expectations.json` beside a chapter's checks, one entry per program name,
 *
 *   { "depth_limit": { "output": ["60000", "10000"], "error": "stack overflow in down at line 8" } }
 *
 * with whatever else a chapter's checks hold a program to (main's result, a trace). A check
 * reads its program's entry with `writtenExpectation(import.meta.url, name)`.
 *
 * In a copy staged for grading the files are emptied (hideWrittenExpectations, with the
 * programs of checks/programs, whose EXPECTATIONS_HIDDEN marker says so): code under test that
 * reads the checks beside it finds no output to copy. There `writtenExpectation` gives nothing,
 * `expectationsHidden()` is true, and checks neither read an expectation nor run the reference
 * to make one: they report what the code under test did, and the runner judges it against the
 * reference's report of the same check on the grader's side (verdicts.ts judgeFor).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { EXPECTATIONS_HIDDEN, PROGRAMS_DIR } from './programs.ts';

/** The file of written expectations in a chapter's folder of checks. */
export const WRITTEN_EXPECTATIONS = 'expectations.json';

/**
 * Whether this copy of the checks is one staged for grading, its expectations blanked: the
 * checks only report, the runner judges. Read once: staging happens before any worker starts.
 */
export function expectationsHidden(): boolean {
  hidden ??= existsSync(join(PROGRAMS_DIR, EXPECTATIONS_HIDDEN));
  return hidden;
}
let hidden: boolean | undefined;

/** A written expectation is missing or malformed (a bug in the checks, never the learner's). */
export class WrittenExpectationError extends Error {
  override readonly name = 'WrittenExpectationError';
}

const files = new Map<string, Record<string, unknown>>();

/**
 * The expectation written for program `name` in the `expectations.json` beside the check file
 * `checkFileUrl` (its import.meta.url), or undefined in a copy staged for grading.
 */
export function writtenExpectation<T>(checkFileUrl: string, name: string): T | undefined {
  if (expectationsHidden()) return undefined;
  const path = join(dirname(fileURLToPath(checkFileUrl)), WRITTEN_EXPECTATIONS);
  let entries = files.get(path);
  if (entries === undefined) {
    if (!existsSync(path)) throw new WrittenExpectationError(`${path} does not exist: the checks beside it write their programs' expectations there`);
    entries = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    files.set(path, entries);
  }
  if (!(name in entries)) throw new WrittenExpectationError(`${path} has no expectation for '${name}' (a check bug): write what the program must print there`);
  return entries[name] as T;
}

/**
 * The reference module at `path` (relative to the check file `checkFileUrl`), loaded to make
 * expectations beside the code under test (a reference interpreter run on a random program);
 * undefined in a copy staged for grading, where no check makes expectations: there the module
 * is not loaded, nor staged at all (session.ts stages the reference files checks import
 * statically, and this import is not one), so code under test cannot lean on it. Give the
 * module's type with an `import type`, which staging leaves out too.
 */
export async function referenceOracle<T>(checkFileUrl: string, path: string): Promise<T | undefined> {
  if (expectationsHidden()) return undefined;
  return (await import(new URL(path, checkFileUrl).href)) as T;
}

/**
 * Asserts that `actual` (strings, or arrays and records of them) is what the expectations.json
 * beside the check file `checkFileUrl` writes out for `name`, with `message` when it is not; in
 * a copy staged for grading it asserts nothing (the check reports what it observed, and the
 * runner judges it).
 */
export function assertWritten(checkFileUrl: string, name: string, actual: unknown, message: string): void {
  const expected = writtenExpectation<unknown>(checkFileUrl, name);
  if (expected === undefined) return;
  assert.equal(actual, expected, message);
}

/**
 * Empties every chapter's `expectations.json` under `checksDir` (a staged copy's checks/), so
 * that the code under test finds no expectation there; what is left says why. The grader's own
 * copy keeps them, and the reference's run there reports the outcomes the runner judges by.
 */
export function hideWrittenExpectations(checksDir: string): void {
  if (!existsSync(checksDir)) return;
  for (const entry of readdirSync(checksDir, { withFileTypes: true })) {
    const path = join(checksDir, entry.name, WRITTEN_EXPECTATIONS);
    if (entry.isDirectory() && existsSync(path)) {
      writeFileSync(path, JSON.stringify({ [EXPECTATIONS_HIDDEN]: 'The expectations written here were blanked: the grader judges what the checks report with its own copy.' }, null, 2) + '\n');
    }
  }
}
