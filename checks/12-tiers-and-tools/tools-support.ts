/**
 * Chapter 12's checks of the tools (the REPL, the perf map) and the direct entry's self-test:
 * the modules of one VM as this worker's conditions resolve them (the learner's code, or the
 * reference where it stands in), and small programs with several functions.
 */
import type { VmModules } from '../../solutions/12-tiers-and-tools/vm-modules.ts';

/** Imports a module of this chapter with the reference's types (the scaffold may not have the file yet). */
export function chapterModule<T>(path: string): Promise<T> {
  return import(`#ch12/${path}`) as Promise<T>;
}

/** A later chapter's module, by a name in a variable: the typecheck of chapters/ must not need its files. */
function chapter<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

/** The modules of a VM at the latest level (chapter 11's, with its heap) with chapter 12's tiered VM. */
export async function vmModules(): Promise<VmModules> {
  const listing = await import('#ch06/listing.ts');
  const interpreter = await import('#ch06/interpreter.ts');
  const heapRun = await chapter<typeof import('#ch11/run.ts')>('#ch11/run.ts');
  const tiered = await chapterModule<typeof import('../../solutions/12-tiers-and-tools/vm.ts')>('vm.ts');
  return {
    parse: (await import('#ch05/parser.ts')).parse,
    CompileError: (await import('#ch05/errors.ts')).CompileError,
    compileSource: (await import('#ch06/compiler.ts')).compileSource,
    interpret: interpreter.run,
    RuntimeError: interpreter.RuntimeError,
    listProgram: listing.listProgram,
    listFunction: listing.listFunction,
    compileProgram: (await import('#ch07/jit.ts')).compileProgram,
    compileOptimized: (await import('#ch09/jit.ts')).compileOptimized,
    printFunction: (await import('#ch08/printer.ts')).printFunction,
    language: (await chapter<typeof import('#ch11/jit-run.ts')>('#ch11/jit-run.ts')).HEAP_JIT,
    heap: {
      Heap: (await chapter<typeof import('#ch11/heap.ts')>('#ch11/heap.ts')).Heap,
      heapInterpreter: (await chapter<typeof import('#ch11/language.ts')>('#ch11/language.ts')).heapInterpreter,
      useHeap: (await chapter<typeof import('#ch11/jit-level.ts')>('#ch11/jit-level.ts')).useHeap,
      parseHeapOptions: heapRun.parseHeapOptions,
      formatStats: heapRun.formatStats,
    },
    tiered: { TieredVM: tiered.TieredVM, TieredHeap: tiered.TieredHeap, formatTrace: (await import('#ch10/trace.ts')).formatTrace },
  };
}

/** Three functions that call each other, and main; prints 4 lines. */
export const THREE_FUNCTIONS = `fn square(n) {
  return n * n;
}

fn sum_of_squares(n) {
  let s = 0;
  while n > 0 {
    s = s + square(n);
    n = n - 1;
  }
  return s;
}

fn is_even(n): bool {
  return n % 2 == 0;
}

fn main() {
  print(square(12));
  print(sum_of_squares(100));
  print(is_even(sum_of_squares(3)));
  print(sum_of_squares(2000));
  return 0;
}
`;

export const THREE_FUNCTIONS_OUTPUT = ['144', '338350', 'true', '2668667000'];

/** One mapping of /proc/self/maps: its range and permissions (`r-xp`). */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly perms: string;
}

/** This process's mappings (under qemu-user: the emulated process's). */
export function mappings(text: string): Mapping[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [range, perms] = line.split(/\s+/);
      const [start, end] = range!.split('-');
      return { start: BigInt(`0x${start}`), end: BigInt(`0x${end}`), perms: perms! };
    });
}

/**
 * `value` with the keys of every object in it in sorted order: what a check reports of an object
 * (tiers by function, counters) must not depend on the order a solution filled it in.
 */
export function byKey<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => byKey(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, byKey(v)])) as T;
}
