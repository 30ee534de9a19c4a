/**
 * Helpers for the chapter 09 checks: the learner's optimizing tier, run on this worker's
 * architecture, its outcome compared with the reference interpreter of chapter 06, and
 * every allocation it makes handed to the independent allocation checker.
 */
import * as assert from 'uvu/assert';
import { learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, type Outcome, type Program } from '#harness/programs.ts';
import { referenceOracle } from '#harness/written.ts';
import type * as ReferenceInterpreter from '../../solutions/06-interpreter/interpreter.ts';
import { checkAllocation } from './allocation-checker.ts';

export const errors = await learnerCode(import('#ch05/errors.ts'));
export const compiler = await learnerCode(import('#ch06/compiler.ts'));
export const text = await learnerCode(import('#ch08/text.ts'));
export const liveness = await learnerCode(import('#ch09/liveness.ts'));
export const scan = await learnerCode(import('#ch09/linear-scan.ts'));
export const moves = await learnerCode(import('#ch09/parallel-move.ts'));
export const allocate = await learnerCode(import('#ch09/allocate.ts'));
export const machine = await learnerCode(import('#ch09/machine.ts'));
export const opt = await learnerCode(import('#ch09/jit.ts'));
export const masmModule = await learnerCode(import('#ch04/masm.ts'));

/** The reference interpreter of chapter 06, the oracle; not there in a copy staged for grading. */
const reference = await referenceOracle<typeof ReferenceInterpreter>(import.meta.url, '../../solutions/06-interpreter/interpreter.ts');

export interface RunOptions {
  readonly registers?: number;
  readonly tierOf?: (name: string) => 'baseline' | 'opt';
}

/** What a run printed, how it ended, and what the allocation checker found. */
export type OptOutcome = Outcome & { readonly result?: bigint; readonly allocationProblems: readonly string[]; readonly declined: readonly string[] };

/** Compiles `source` with the optimizing tier (allocations checked) and runs it. */
export function runOptimized(source: string, options: RunOptions = {}): OptOutcome {
  const output: string[] = [];
  const program = compiler.compileSource(source);
  const problems: string[] = [];
  const args = masmModule.createMacroAssembler(process.arch === 'arm64' ? 'arm64' : 'x64').regs.args;
  const compiled = opt.compileOptimized(program, undefined, {
    ...options,
    onAllocated: (ir, details) => problems.push(...checkAllocation(ir, details.allocated, args)),
  });
  try {
    const outcome = compiled.jit.run({ print: (t) => output.push(t) });
    const declined = compiled.declined.map((d) => `${d.name}: ${d.reason}`);
    return outcome.error
      ? { output, error: { kind: 'runtime', message: outcome.error.message }, allocationProblems: problems, declined }
      : { output, result: outcome.result!, allocationProblems: problems, declined };
  } finally {
    compiled.jit.dispose();
  }
}

/**
 * What the reference interpreter of chapter 06 does with the same bytecode; nothing in a copy
 * staged for grading, where the reference is not run beside the code under test (which could
 * read what it printed): there the checks report, and the runner judges against the grader's
 * own run of the reference.
 */
export function referenceOutcome(source: string): (Outcome & { readonly result?: bigint }) | undefined {
  if (reference === undefined) return undefined;
  const output: string[] = [];
  try {
    const result = reference.run(compiler.compileSource(source), { print: (t) => output.push(t) });
    return { output, result };
  } catch (e) {
    if (e instanceof reference.RuntimeError) return { output, error: { kind: 'runtime', message: e.message } };
    throw e;
  }
}

/** Runs every program with the optimizing tier; fails with one report per program that went wrong. */
export function checkPrograms(programs: readonly Program[], options: RunOptions = {}, checkAllocations = false): void {
  assert.ok(programs.length > 0, 'no programs in this group (a check bug)');
  const reports: string[] = [];
  const label = options.registers === undefined ? 'every register' : `${options.registers} registers`;
  for (const program of programs) {
    process.stderr.write(`running ${program.name}.jot (${label})\n`);
    const outcome = runOptimized(program.source, options);
    const report = compareOutcome(program, outcome);
    reportOutcome(`${program.name} (main's result, ${label})`, { output: [outcome.error === undefined ? String(outcome.result) : 'none: a runtime error'] });
    if (report !== null) reports.push(`${report}\n(with ${label})`);
    else if (outcome.declined.length > 0) reports.push(`${program.name}: the optimizing tier declined ${outcome.declined.join('; ')}`);
    else if (checkAllocations && outcome.allocationProblems.length > 0) {
      reports.push(`${program.name} (${label}): the allocation checker found:\n  ${outcome.allocationProblems.slice(0, 8).join('\n  ')}`);
    } else if (outcome.error === undefined) {
      const expected = referenceOutcome(program.source);
      if (expected?.result !== undefined && expected.result !== outcome.result) reports.push(`${program.name}: main returned ${outcome.result}, the interpreter ${expected.result}`);
    }
  }
  assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
}
