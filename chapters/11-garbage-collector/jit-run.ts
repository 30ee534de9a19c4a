/**
 * Chapter 11: Jot with arrays and records for the compiled tiers, and running a source in
 * the baseline tier on a fresh heap with the interpreter's outcome and the heap's counts.
 */
import { compileSource } from '#ch06/compiler.ts';
import type { JitLanguage } from '#ch07/language.ts';
import { EXCEPTIONS_JIT } from '#ch10/jit-language.ts';
import { compileInTier, outcomeOf, type CompiledTier } from '#ch10/jit-run.ts';
import { Heap } from './heap.ts';
import { heapJit, useHeap } from './jit-level.ts';
import { HEAP_LANGUAGE } from './language.ts';
import type { HeapOutcome, HeapRunOptions } from './run.ts';

/** Jot with exceptions, arrays and records, for every tier. */
export const HEAP_JIT: JitLanguage = Object.freeze({ ...HEAP_LANGUAGE, jit: heapJit(EXCEPTIONS_JIT.jit) });

/** A compiled run's outcome: the functions the optimizing tier declined, and the calls from machine code into TypeScript. */
export interface CompiledHeapOutcome extends HeapOutcome {
  readonly declined: number;
  readonly callbacks: number;
}

/** Compiles `source` at chapter 11's level and runs it in `tier` on a new heap. A compile error is thrown. */
export function runCompiledOnHeap(source: string, tier: CompiledTier, options: HeapRunOptions = {}): CompiledHeapOutcome {
  const { jit, declined } = compileInTier(compileSource(source, HEAP_JIT), tier, HEAP_JIT.jit);
  const heap = new Heap(options);
  try {
    useHeap(jit, heap);
    const outcome = outcomeOf(jit);
    return { ...outcome, heap: { ...heap.stats }, declined: declined.length, callbacks: jit.stats.callbacks };
  } finally {
    jit.dispose();
    heap.dispose();
  }
}

/** `runCompiledOnHeap` in the template compiler (chapter 07's tier). */
export function runBaseline(source: string, options: HeapRunOptions = {}): CompiledHeapOutcome {
  return runCompiledOnHeap(source, 'baseline', options);
}

/** `runCompiledOnHeap` in the optimizing tier, which compiles every function but those with a `try` (chapter 10 leaves them to the template compiler). */
export function runOptimized(source: string, options: HeapRunOptions = {}): CompiledHeapOutcome {
  return runCompiledOnHeap(source, 'optimized', options);
}
