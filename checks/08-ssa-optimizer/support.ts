/**
 * Helpers for the chapter 08 checks: the learner's IR modules, programs turned into SSA by
 * the learner's builder, and an oracle that runs IR (checks/harness/ir-interpreter.ts,
 * which knows Jot's semantics itself) and compares outcomes.
 */
import * as assert from 'uvu/assert';
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { canonicalText } from '#harness/ir-canonical.ts';
import { IrRuntimeError, runIr, type IrProgramShape } from '#harness/ir-interpreter.ts';
import { diffLines, type Outcome } from '#harness/programs.ts';

export const errors = await learnerCode(import('#ch05/errors.ts'));
export const compiler = await learnerCode(import('#ch06/compiler.ts'));
export const interpreter = await learnerCode(import('#ch06/interpreter.ts'));
export const ir = await learnerCode(import('#ch08/ir.ts'));
export const text = await learnerCode(import('#ch08/text.ts'));
export const printer = await learnerCode(import('#ch08/printer.ts'));
export const verifier = await learnerCode(import('#ch08/verifier.ts'));
export const dominators = await learnerCode(import('#ch08/dominators.ts'));
export const build = await learnerCode(import('#ch08/build.ts'));
export const optimizer = await learnerCode(import('#ch08/optimize.ts'));

export type Func = ReturnType<typeof text.parseFunction>;
export type IrProgram = ReturnType<typeof build.buildProgram>;

/**
 * How a program ran under the IR oracle. With `reportAs`, what it printed and whether it ended
 * in a runtime error are reported under that name: graded work is held to what the grader's
 * own reference run printed, outside the process that ran the code (the IR itself, which
 * correct solutions may number and shape differently, is not reported, nor the error's
 * wording, which names values of the IR).
 */
export function runOracle(program: IrProgramShape, counter?: { steps: number }, reportAs?: string): Outcome {
  const output: string[] = [];
  const outcome = ((): Outcome => {
    try {
      runIr(program, { print: (t) => output.push(t), fuel: 50_000_000, ...(counter ? { counter } : {}) });
      return { output };
    } catch (e) {
      if (e instanceof IrRuntimeError) return { output, error: { kind: 'runtime', message: e.message } };
      throw e;
    }
  })();
  if (reportAs !== undefined) reportOutcome(reportAs, { output: [...outcome.output, outcome.error === undefined ? '(ran to the end)' : '(ended with a runtime error)'] });
  return outcome;
}

/** How the chapter 06 interpreter runs the same bytecode (the reference behaviour for SSA). */
export function runBytecode(source: string): Outcome {
  const output: string[] = [];
  try {
    interpreter.run(compiler.compileSource(source), { print: (t) => output.push(t) });
    return { output };
  } catch (e) {
    if (e instanceof interpreter.RuntimeError) return { output, error: { kind: 'runtime', message: e.message } };
    throw e;
  }
}

/** Same printed lines and the same error? Otherwise a report with a diff. */
export function sameOutcome(expected: Outcome, actual: Outcome): string | null {
  const sameOutput = expected.output.length === actual.output.length && expected.output.every((l, i) => l === actual.output[i]);
  const sameError = expected.error?.message === actual.error?.message;
  if (sameOutput && sameError) return null;
  const parts: string[] = [];
  if (!sameOutput) parts.push(`printed lines (- expected, + actual):\n${diffLines(expected.output, actual.output)}`);
  if (!sameError) parts.push(`- ended with ${expected.error?.message ?? 'no error'}\n+ ended with ${actual.error?.message ?? 'no error'}`);
  return parts.join('\n');
}

/** The learner's verifier on every function of `program`; a failure names `after`. */
export function verifyAll(program: IrProgram, after: string): void {
  for (const fn of program.functions.values()) {
    const problems = verifier.verifyProblems(fn, program);
    assert.ok(problems.length === 0, `the IR of '${fn.name}' is not well-formed ${after}:\n  ${problems.join('\n  ')}\n\n${printer.printFunction(fn)}`);
  }
}

/** Asserts that `actual` is `expected` (IR text) up to the numbering of values and blocks. */
export function assertSameIr(actual: Func, expectedText: string, what: string): void {
  const expected = canonicalText(text.parseFunction(expectedText));
  const got = canonicalText(actual);
  // Renumbered, the IR a pass must produce is one text for every correct solution: it is reported.
  reportOutcome(what, { output: got.split('\n') });
  if (expected !== got) {
    assert.fixture(got, expected, `${what}: the IR differs from what was expected (compared after renumbering; - expected, + actual)\n\nyour IR:\n${printer.printFunction(actual)}`);
  }
}

/** A program of one function `f` plus a main, built from IR text: for running passes on hand-written IR. */
export function oneFunction(fn: Func): IrProgramShape {
  return { functions: new Map([[fn.name, fn]]), main: fn.name };
}

/**
 * Reports `value` under `name` and returns it: what a check asserts of the learner's IR (a
 * count every correct solution agrees on, whether an instruction is gone), for graded work to
 * be held to the reference's run outside the process that ran the code. Never report what
 * correct solutions may do differently (IR text, counts a check only bounds).
 */
export function observed<T>(name: string, value: T): T {
  reportOutcome(name, { output: [typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)] });
  return value;
}

/** Counts instructions of an operation in a function. */
export function countOps(fn: Func, op: string): number {
  return fn.blocks.reduce((n, b) => n + b.insts.filter((i) => i.op === op).length, 0);
}
