/**
 * Chapter 12: running a program tiered, with the outcome every tier reports in the same shape
 * (chapter 10's, with chapter 11's heap counts), and the promotions that happened.
 */
import { compileSource } from '#ch06/compiler.ts';
import { HEAP_JIT } from '#ch11/jit-run.ts';
import type { HeapOutcome, HeapRunOptions } from '#ch11/run.ts';
import type { TierOptions } from './options.ts';
import { TieredHeap, TieredVM, type Promotion, type TierName } from './vm.ts';

export interface TieredRunOptions extends HeapRunOptions, TierOptions {}

export interface TieredOutcome extends HeapOutcome {
  readonly promotions: readonly Promotion[];
  /** The functions the optimizing tier declined (they stay in the baseline tier). */
  readonly declined: readonly string[];
  /** Each function's tier when the program ended, by name. */
  readonly tiers: Readonly<Record<string, TierName>>;
  /**
   * Each function's calls and loop back edges as the interpreter and the stubs counted them
   * (a call from compiled code to compiled code is not counted), and the calls and back edges
   * that ran in its baseline code, by name.
   */
  readonly counters: Readonly<Record<string, { readonly calls: number; readonly loops: number; readonly baselineCalls: number }>>;
  /**
   * Entries from TypeScript into machine code, interpreter runs started, OSR entries taken
   * from the interpreter (into either compiled tier), and OSR entries into the optimizing
   * tier from an interpreter frame and from a baseline frame.
   */
  readonly stats: {
    readonly machineEntries: number;
    readonly interpreterEntries: number;
    readonly osrEntries: number;
    readonly osrOptimizedFromInterpreter: number;
    readonly osrOptimizedFromBaseline: number;
  };
}

/** Compiles `source` at chapter 11's level and runs it tiered on a new heap. A compile error is thrown. */
export function runTiered(source: string, options: TieredRunOptions = {}): TieredOutcome {
  const program = compileSource(source, HEAP_JIT);
  const heap = new TieredHeap(options);
  const output: string[] = [];
  const vm = new TieredVM(program, heap, options, (text) => output.push(text));
  try {
    const ending = vm.run();
    const tiers = Object.fromEntries(program.functions.map((fn, i) => [fn.name, vm.tiers[i]!]));
    const baselineCalls = vm.baselineCalls();
    const counters = Object.fromEntries(program.functions.map((fn, i) => [fn.name, { calls: vm.calls[i]!, loops: vm.loops[i]!, baselineCalls: baselineCalls[i]! }]));
    return { output, ...ending, heap: { ...heap.stats }, promotions: [...vm.promotions], declined: vm.declined.map((d) => d.function), tiers, counters, stats: { ...vm.stats } };
  } finally {
    vm.dispose();
    heap.dispose();
  }
}
