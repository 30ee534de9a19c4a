/**
 * Chapter 10: running a program in a compiled tier and describing how it ended, in the same
 * shape as the interpreter's outcome, so that the tiers can be compared value for value.
 */
import type { CompiledProgram } from '#ch06/bytecode.ts';
import type { JitLevel } from '#ch07/compiler.ts';
import { compileProgram, type JitProgram } from '#ch07/jit.ts';
import { compileOptimized } from '#ch09/jit.ts';
import type { RuntimeError } from '#ch06/interpreter.ts';
import type { ExceptionOutcome, UncaughtException } from './errors.ts';

export type CompiledTier = 'baseline' | 'optimized';


/** Compiles `program` for this machine in `tier` with `level`; the optimizing tier's declines are in `declined`. */
export function compileInTier(program: CompiledProgram, tier: CompiledTier, level: JitLevel): { readonly jit: JitProgram; readonly declined: readonly { readonly name: string; readonly reason: string }[] } {
  if (tier === 'baseline') return { jit: compileProgram(program, undefined, level), declined: [] };
  const optimized = compileOptimized(program, undefined, { level });
  return { jit: optimized.jit, declined: optimized.declined };
}

/** Runs `jit` once and describes the outcome. */
export function outcomeOf(jit: JitProgram): ExceptionOutcome {
  const output: string[] = [];
  const run = jit.run({ print: (text) => output.push(text) });
  if (run.error === undefined) return { output, result: run.result! };
  const error = run.error as Partial<UncaughtException> & RuntimeError;
  return {
    output,
    error: { message: error.message, ...(error.payload === undefined ? {} : { payload: error.payload }), trace: error.trace ?? [] },
  };
}

/** Compiles and runs `program` in `tier`, then frees its code. */
export function runInTier(program: CompiledProgram, tier: CompiledTier, level: JitLevel): ExceptionOutcome {
  const { jit } = compileInTier(program, tier, level);
  try {
    return outcomeOf(jit);
  } finally {
    jit.dispose();
  }
}
