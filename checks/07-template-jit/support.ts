/**
 * Helpers for the chapter 07 checks: compile Jot source with the learner's chapters 05–06,
 * run it with the learner's template JIT on this worker's architecture, and report what it
 * printed and how it ended, in the shape `compareOutcome` (checks/harness/programs.ts) reads.
 */
import * as assert from 'uvu/assert';
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, type Outcome, type Program } from '#harness/programs.ts';
import * as reference from '../../solutions/06-interpreter/interpreter.ts';

export const errors = await learnerCode(import('#ch05/errors.ts'));
export const compiler = await learnerCode(import('#ch06/compiler.ts'));
export const jit = await learnerCode(import('#ch07/jit.ts'));

/** What a run printed and how it ended, with what `main` returned when it returned. */
export type JitOutcome = Outcome & { readonly result?: bigint };

/** Compiles and runs `source` with the JIT, capturing its output, how it ended and main's result. */
export function runJit(source: string): JitOutcome {
  const output: string[] = [];
  let program;
  try {
    program = compiler.compileSource(source);
  } catch (e) {
    if (e instanceof errors.CompileError) return { output, error: { kind: 'compile', message: e.message } };
    throw e;
  }
  const compiled = jit.compileProgram(program);
  try {
    const outcome = compiled.run({ print: (text) => output.push(text) });
    return outcome.error ? { output, error: { kind: 'runtime', message: outcome.error.message } } : { output, result: outcome.result! };
  } finally {
    compiled.dispose();
  }
}

/**
 * What `main` of `source` returns when the reference interpreter of chapter 06 runs the
 * bytecode your compiler made (undefined when it fails at run time).
 */
export function referenceResult(source: string): bigint | undefined {
  try {
    return reference.run(compiler.compileSource(source), { print: () => {} });
  } catch (e) {
    if (e instanceof reference.RuntimeError) return undefined;
    throw e;
  }
}

/**
 * A report when the JIT's `main` returned something other than the interpreter's, else null.
 * The result is reported too: graded work is held to the result of the grader's own
 * reference run, outside the process whose reference interpreter gave `expected`.
 */
export function compareResult(name: string, expected: bigint | undefined, actual: JitOutcome): string | null {
  reportOutcome(`${name} (main's result)`, { output: [actual.error === undefined ? String(actual.result) : 'none: a runtime error'] });
  if (expected === undefined || actual.error !== undefined) return null;
  if (actual.result === expected) return null;
  return `${name}: main returned ${actual.result} from the JIT, but ${expected} from the interpreter (the value of main's return statement, in the result register when the entry stub returns)`;
}

/** Runs every program with the JIT; fails with one report per program that went wrong. */
export function checkPrograms(programs: readonly Program[]): void {
  assert.ok(programs.length > 0, 'no programs in this group (a check bug)');
  const reports: string[] = [];
  for (const program of programs) {
    process.stderr.write(`running ${program.name}.jot\n`); // a hang or crash report shows the last one
    const outcome = runJit(program.source);
    const report = compareOutcome(program, outcome) ?? compareResult(program.name, referenceResult(program.source), outcome);
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
}

/** A program written inline, with its expectations: `expect` lines and an optional runtime error. */
export function inline(name: string, source: string, expectedOutput: readonly string[], runtimeError?: string): Program {
  return {
    name,
    path: `${name}.jot`,
    source,
    expectedOutput,
    ...(runtimeError ? { expectedError: { kind: 'runtime' as const, message: runtimeError } } : {}),
    features: [],
  };
}
