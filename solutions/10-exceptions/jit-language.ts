/**
 * Chapter 10: Jot with exceptions for the compiled tiers: the interpreter's level
 * (language.ts) with chapter 10's JIT level (jit-level.ts), and functions that run a
 * source in the template compiler or the optimizing tier with the interpreter's outcome.
 */
import { compileSource } from '#ch06/compiler.ts';
import type { JitLanguage } from '#ch07/language.ts';
import type { ExceptionOutcome } from './errors.ts';
import { exceptionsJit } from './jit-level.ts';
import { runInTier, type CompiledTier } from './jit-run.ts';
import { EXCEPTIONS_LANGUAGE, THROW_OPCODE } from './language.ts';

// @book:start exceptions-jit
/** Jot with exceptions, for every tier: the interpreter's level and the compiled tiers' hooks. */
export const EXCEPTIONS_JIT: JitLanguage = Object.freeze({
  ...EXCEPTIONS_LANGUAGE,
  jit: exceptionsJit({ opcodes: EXCEPTIONS_LANGUAGE.opcodes, throwOpcode: THROW_OPCODE.code }),
});
// @book:end exceptions-jit

/** Compiles `source` at chapter 10's level and runs it in `tier` on this machine. A compile error is thrown. */
export function runCompiled(source: string, tier: CompiledTier): ExceptionOutcome {
  return runInTier(compileSource(source, EXCEPTIONS_JIT), tier, EXCEPTIONS_JIT.jit);
}

/** `runCompiled` in the template compiler (chapter 07's tier). */
export function runBaseline(source: string): ExceptionOutcome {
  return runCompiled(source, 'baseline');
}

/** `runCompiled` in the optimizing tier (chapter 09's), which leaves functions with a `try` to the template compiler. */
export function runOptimized(source: string): ExceptionOutcome {
  return runCompiled(source, 'optimized');
}
