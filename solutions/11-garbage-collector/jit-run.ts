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

/** Compiles `source` at chapter 11's level and runs it in `tier` on a new heap. A compile error is thrown. */
export function runCompiledOnHeap(source: string, tier: CompiledTier, options: HeapRunOptions = {}): HeapOutcome & { readonly declined: number } {
  const { jit, declined } = compileInTier(compileSource(source, HEAP_JIT), tier, HEAP_JIT.jit);
  const heap = new Heap(options);
  try {
    useHeap(jit, heap);
    return { ...outcomeOf(jit), heap: { ...heap.stats }, declined: declined.length };
  } finally {
    jit.dispose();
    heap.dispose();
  }
}

/** `runCompiledOnHeap` in the template compiler (chapter 07's tier). */
export function runBaseline(source: string, options: HeapRunOptions = {}): HeapOutcome {
  return runCompiledOnHeap(source, 'baseline', options);
}
