/**
 * Chapter 10: running a program in a compiled tier and describing how it ended, in the same
 * shape as the interpreter's outcome, so that the tiers can be compared value for value.
 */
import type { CompiledProgram } from '#ch06/bytecode.ts';
import type { JitLevel } from '#ch07/compiler.ts';
import { compileProgram, type JitProgram } from '#ch07/jit.ts';
import { compileOptimized } from '#ch09/jit.ts';
import { uncaughtOf, type TraceFrame } from './jit-runtime.ts';

export type CompiledTier = 'baseline' | 'optimized';

/** How a run ended: what it printed, and its result or its error. */
export interface JitOutcome {
  readonly output: readonly string[];
  readonly result?: bigint;
  readonly error?: {
    readonly message: string;
    /** The payload, when the error is an exception (a runtime error has one too). */
    readonly payload?: bigint;
    /** Innermost frame first. */
    readonly trace: readonly TraceFrame[];
  };
}

/** Compiles `program` for this machine in `tier` with `level`; the optimizing tier's declines are in `declined`. */
export function compileInTier(program: CompiledProgram, tier: CompiledTier, level: JitLevel): { readonly jit: JitProgram; readonly declined: readonly { readonly name: string; readonly reason: string }[] } {
  if (tier === 'baseline') return { jit: compileProgram(program, undefined, level), declined: [] };
  const optimized = compileOptimized(program, undefined, { level });
  return { jit: optimized.jit, declined: optimized.declined };
}

/** Runs `jit` once and describes the outcome. */
export function outcomeOf(jit: JitProgram): JitOutcome {
  const output: string[] = [];
  const run = jit.run({ print: (text) => output.push(text) });
  if (run.error === undefined) return { output, result: run.result! };
  const uncaught = uncaughtOf(jit);
  const message = uncaught?.kind === undefined && uncaught !== undefined ? run.error.detail : run.error.message;
  return {
    output,
    error: { message, ...(uncaught === undefined ? {} : { payload: uncaught.payload }), trace: uncaught?.trace ?? [] },
  };
}

/** Compiles and runs `program` in `tier`, then frees its code. */
export function runInTier(program: CompiledProgram, tier: CompiledTier, level: JitLevel): JitOutcome {
  const { jit } = compileInTier(program, tier, level);
  try {
    return outcomeOf(jit);
  } finally {
    jit.dispose();
  }
}
