/**
 * Helpers for the chapter 07 checks: compile Jot source with the learner's chapters 05–06,
 * run it with the learner's template JIT on this worker's architecture, and report what it
 * printed and how it ended, in the shape `compareOutcome` (checks/harness/programs.ts) reads.
 */
import * as assert from 'uvu/assert';
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, type Outcome, type Program } from '#harness/programs.ts';
import { referenceOracle, writtenExpectation } from '#harness/written.ts';
import type * as ReferenceInterpreter from '../../solutions/06-interpreter/interpreter.ts';

export const errors = await learnerCode(import('#ch05/errors.ts'));
export const compiler = await learnerCode(import('#ch06/compiler.ts'));
export const jit = await learnerCode(import('#ch07/jit.ts'));

/** The reference interpreter of chapter 06, the oracle; not there in a copy staged for grading. */
const reference = await referenceOracle<typeof ReferenceInterpreter>(import.meta.url, '../../solutions/06-interpreter/interpreter.ts');

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
 * bytecode your compiler made (undefined when it fails at run time, and in a copy staged for
 * grading, where the runner judges the result reported: see compareResult).
 */
export function referenceResult(source: string): bigint | undefined {
  if (reference === undefined) return undefined;
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

/** What `expectations.json` beside these checks writes out for a program: its lines, how it ends. */
export interface Written {
  readonly output: readonly string[];
  /** The runtime error it ends with. */
  readonly error?: string;
  /** What main returns. */
  readonly result?: string;
}

/** The expectation written for program `name` in expectations.json (undefined in a copy staged for grading). */
export function written(name: string): Written | undefined {
  return writtenExpectation<Written>(import.meta.url, name);
}

/**
 * A program written inline, held to what expectations.json writes out for `key` (default: its
 * name). In a copy staged for grading the expectation is not there: the program's outcome is
 * only reported, and the runner judges it (compareOutcome).
 */
export function inline(name: string, source: string, key: string = name): Program {
  const expected = written(key);
  return expected === undefined ? withoutExpectation(name, source) : programOf(name, source, expected.output, expected.error);
}

/**
 * A program written inline, held to what the reference interpreter of chapter 06 does with the
 * bytecode your compiler made of it, with main's result (undefined when it fails at run time).
 * In a copy staged for grading the reference is not run here (code under test could read what
 * it printed): the outcome is only reported, and the runner judges it against the grader's own
 * run of the reference.
 */
export function againstReference(name: string, source: string, program: ReturnType<typeof compiler.compileSource>): { program: Program; result: bigint | undefined } {
  if (reference === undefined) return { program: withoutExpectation(name, source), result: undefined };
  const output: string[] = [];
  try {
    const result = reference.run(program, { print: (text) => output.push(text) });
    return { program: programOf(name, source, output), result };
  } catch (e) {
    if (!(e instanceof reference.RuntimeError)) throw e;
    return { program: programOf(name, source, output, e.message), result: undefined };
  }
}

function programOf(name: string, source: string, expectedOutput: readonly string[], runtimeError?: string): Program {
  return {
    name,
    path: `${name}.jot`,
    source,
    expectedOutput,
    ...(runtimeError ? { expectedError: { kind: 'runtime' as const, message: runtimeError } } : {}),
    features: [],
  };
}

function withoutExpectation(name: string, source: string): Program {
  return { ...programOf(name, source, []), expectationsHidden: true };
}

/**
 * Asserts that `printed` (and main's `result`, when given) is what expectations.json writes out
 * for `name`; in a copy staged for grading it asserts nothing (the runner judges what the check
 * reported).
 */
export function assertWritten(name: string, printed: readonly string[], message: string, result?: bigint): void {
  const expected = written(name);
  if (expected === undefined) return;
  assert.equal(printed, expected.output, message);
  if (expected.result !== undefined) assert.is(result, BigInt(expected.result), `${name}: what main returned`);
}
