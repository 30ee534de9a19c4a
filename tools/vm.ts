/**
 * The VM behind `jot` and `npm run jit`: the modules of the chapters it runs with, and
 * running one program in one tier with them.
 *
 * The modules come one of two ways. `loadModules` imports them by their `#chNN/` names, so
 * that the package.json conditions of the process pick the reference or the learner's own
 * code (`--mine`); the fast direct entry (`direct.ts`, built into one file by build.mjs)
 * gets them from reference-vm.ts, which names the reference files themselves, so that the
 * bundler can take them in and no loader is needed at start-up.
 */
import type { Arch } from '#native/arch.ts';
import { copyOut } from '#native/libc.ts';
import { bufferSymbols, compiledSymbol, PerfMap, reportingLoads } from '../solutions/12-tiers-and-tools/perf-map.ts';

import type { HeapModules, JitLanguage, JitProgram, CompiledProgram, InterpreterLevel, TieredModules, VmModules } from '../solutions/12-tiers-and-tools/vm-modules.ts';
export type { HeapModules, JitLanguage, JitProgram, CompiledProgram, InterpreterLevel, TieredModules, VmModules };

/** A module of a later chapter, or undefined when that chapter is not there (or not started, with --mine). */
export async function importIfThere<T>(specifier: string): Promise<T | undefined> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || (error as Error).name === 'NotImplemented') return undefined;
    throw error;
  }
}

/** Chapters 10 to 12, named in variables: the typecheck of chapters/ must not need their files. */
const CHAPTER_10 = '#ch10/';
const CHAPTER_11 = '#ch11/';
const CHAPTER_12 = '#ch12/';

/**
 * Whether the learner's chapter is finished enough to run with: `probe` tries it on a small
 * program; a chapter that throws NotImplemented is not, and `note` says so (any other error
 * is a bug to show).
 */
function finished(probe: () => void, note: () => void): boolean {
  try {
    probe();
    return true;
  } catch (error) {
    if ((error as Error).name !== 'NotImplemented') throw error;
    note();
    return false;
  }
}

/**
 * The modules by their `#chNN/` names, as the process's conditions resolve them. With
 * `mine`, the latest level is the latest one the learner's code can compile: chapter 12's
 * tiered VM when it can be made for a small program, else chapter 11's heap when a small
 * array program compiles and interprets, else chapter 10's when a small try and throw
 * compiles, else core Jot (a learner at chapter 07 runs their own JIT on core Jot). Each
 * level left out says why on `note`.
 */
export async function loadModules(mine: boolean, arch: Arch, note: (text: string) => void): Promise<VmModules> {
  const base = {
    parse: (await import('#ch05/parser.ts')).parse,
    CompileError: (await import('#ch05/errors.ts')).CompileError,
    compileSource: (await import('#ch06/compiler.ts')).compileSource,
    interpret: (await import('#ch06/interpreter.ts')).run,
    RuntimeError: (await import('#ch06/interpreter.ts')).RuntimeError,
    listProgram: (await import('#ch06/listing.ts')).listProgram,
    listFunction: (await import('#ch06/listing.ts')).listFunction,
    compileProgram: (await import('#ch07/jit.ts')).compileProgram,
    compileOptimized: (await import('#ch09/jit.ts')).compileOptimized,
    printFunction: (await import('#ch08/printer.ts')).printFunction,
  } as unknown as Omit<VmModules, 'language' | 'heap'>;
  const core = (await import('#ch07/language.ts')).CORE_JIT_LANGUAGE as unknown as JitLanguage;
  const exceptions = (await importIfThere<{ EXCEPTIONS_JIT: JitLanguage }>(`${CHAPTER_10}jit-language.ts`))?.EXCEPTIONS_JIT;
  if (exceptions === undefined) return { ...base, language: core };
  const probe10 = () => base.compileProgram(base.compileSource('fn main() {\n  try { throw 1; } catch e { return e; }\n  return 0;\n}\n', exceptions), arch, exceptions.jit).dispose();
  if (mine && !finished(probe10, () => note('(chapter 10 is not finished: running core Jot without exceptions)'))) return { ...base, language: core };
  const heapJit = (await importIfThere<{ HEAP_JIT: JitLanguage }>(`${CHAPTER_11}jit-run.ts`))?.HEAP_JIT;
  if (heapJit === undefined) return { ...base, language: exceptions };
  const heap: HeapModules = {
    Heap: ((await import(`${CHAPTER_11}heap.ts`)) as typeof import('#ch11/heap.ts')).Heap,
    heapInterpreter: ((await import(`${CHAPTER_11}language.ts`)) as typeof import('#ch11/language.ts')).heapInterpreter,
    useHeap: ((await import(`${CHAPTER_11}jit-level.ts`)) as typeof import('#ch11/jit-level.ts')).useHeap,
    parseHeapOptions: ((await import(`${CHAPTER_11}run.ts`)) as typeof import('#ch11/run.ts')).parseHeapOptions,
    formatStats: ((await import(`${CHAPTER_11}run.ts`)) as typeof import('#ch11/run.ts')).formatStats,
  };
  const arrays = () => base.compileSource('fn main() {\n  let a = new [int](3);\n  a[1] = 7;\n  return a[1];\n}\n', heapJit);
  const probe11 = () => {
    const program = arrays();
    const probeHeap = new heap.Heap({});
    try {
      base.interpret(program, { print: () => {}, level: heap.heapInterpreter(probeHeap) });
      const jit = base.compileProgram(program, arch, heapJit.jit);
      heap.useHeap(jit, probeHeap);
      jit.dispose();
    } finally {
      probeHeap.dispose();
    }
  };
  if (mine && !finished(probe11, () => note('(chapter 11 is not finished: running chapter 10\'s language, without arrays and records)'))) return { ...base, language: exceptions };
  const tieredVm = await importIfThere<typeof import('../solutions/12-tiers-and-tools/vm.ts')>(`${CHAPTER_12}vm.ts`);
  if (tieredVm === undefined) return { ...base, language: heapJit, heap };
  const probe12 = () => {
    const tieredHeap = new tieredVm.TieredHeap({});
    try {
      new tieredVm.TieredVM(arrays(), tieredHeap, {}, () => {}).dispose();
    } finally {
      tieredHeap.dispose();
    }
  };
  if (mine && !finished(probe12, () => note('(chapter 12 is not finished: no tiered VM; each program runs in the one tier asked for, the baseline tier by default)'))) return { ...base, language: heapJit, heap };
  const { formatTrace } = (await import(`${CHAPTER_10}trace.ts`)) as typeof import('../solutions/10-exceptions/trace.ts');
  return { ...base, language: heapJit, heap, tiered: { TieredVM: tieredVm.TieredVM, TieredHeap: tieredVm.TieredHeap, formatTrace } };
}

export const TIERS = ['auto', 'interp', 'baseline', 'opt'] as const;
export type Tier = (typeof TIERS)[number];

/** How to run one program. */
export interface RunRequest {
  readonly file: string;
  readonly source: string;
  /** Which tier runs it; by default the tiered VM (`auto`) where chapter 12 is there, else the baseline tier. */
  readonly tier: Tier | undefined;
  readonly arch: Arch;
  /** The tiered VM's options (`--tier-up-calls`, `--tier-up-loops`, `--tier-up-opt-calls`, `--trace-tiers`): only with `auto`. */
  readonly tierUpCalls?: number;
  readonly tierUpLoops?: number;
  readonly tierUpOptimizedCalls?: number;
  readonly traceTiers?: boolean;
  /** Print the code of every tier that runs (the bytecode for the interpreter). */
  readonly emitAsm: boolean;
  /** With the optimizing tier: print the IR after each pass. */
  readonly emitIr: boolean;
  /** Write /tmp/perf-<pid>.map for every compiled function. */
  readonly perfMap: boolean;
  /** The heap's options as written (`--heap 512k`, `--gc-stress` …). */
  readonly heapArgs: readonly string[];
}

/** Where a run writes: the program's output, listings, and notes (stderr). */
export interface RunIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** How a run ended: 0, or 1 after a compile or runtime error (already written to `err`). */
export type RunStatus = 0 | 1;

/** A problem with the request itself, said before anything runs. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The heap a chapter 11 program runs on, and what each tier needs of it. */
interface RunHeap {
  readonly interpreterLevel: InterpreterLevel;
  attach(jit: JitProgram): void;
  /** Prints the counts (with --gc-stats) and unmaps the heap. */
  finish(): void;
}

function heapOf(request: RunRequest, vm: VmModules, io: RunIo): RunHeap | undefined {
  if (vm.heap === undefined) {
    if (request.heapArgs.length > 0) throw new UsageError(`${request.heapArgs[0]} needs chapter 11's heap, which this run does not have`);
    return undefined;
  }
  const modules = vm.heap;
  const { options } = modules.parseHeapOptions(request.heapArgs);
  const heap = new modules.Heap(options);
  return {
    interpreterLevel: modules.heapInterpreter(heap),
    attach: (jit) => modules.useHeap(jit, heap),
    finish: () => {
      if (options.stats) io.err(`${modules.formatStats(heap.stats)}\n`);
      heap.dispose();
    },
  };
}

/** A runtime error's message, and the stack trace below it when it has one (chapter 10). */
export function describeError(error: Error): string {
  const report = (error as { report?: () => string }).report;
  return typeof report === 'function' ? report.call(error) : error.message;
}

/** The listing, with each function's unwind table (if the level keeps one) after its code. */
export function listingWithTables(jit: JitProgram): string {
  const table = jit.tables.get<{ describeFunction(name: string): string | undefined } | undefined>('unwind', () => undefined);
  if (table === undefined) return jit.listing();
  const blocks = jit.listing().split('\n\n');
  return blocks
    .map((block) => {
      const name = /^== (.+) ==$/m.exec(block)?.[1];
      const unwind = name === undefined ? undefined : table.describeFunction(name);
      return unwind === undefined ? block : `${block}\n${unwind}`;
    })
    .join('\n\n');
}

/** Compiles and runs one program in one tier. Errors of the program go to `io.err`; the status says whether there was one. */
export function runProgram(request: RunRequest, vm: VmModules, io: RunIo): RunStatus {
  const tier = request.tier ?? (vm.tiered === undefined ? 'baseline' : 'auto');
  if (request.emitIr && tier !== 'opt') throw new UsageError('--emit-ir shows the optimizing tier\'s IR: add --tier opt');
  const tierOptions = request.tierUpCalls !== undefined ? '--tier-up-calls' : request.tierUpLoops !== undefined ? '--tier-up-loops' : request.tierUpOptimizedCalls !== undefined ? '--tier-up-opt-calls' : request.traceTiers ? '--trace-tiers' : undefined;
  if (tierOptions !== undefined && tier !== 'auto') throw new UsageError(`${tierOptions} is an option of the tiered VM (--tier auto), not of --tier ${tier}`);
  if (tier === 'auto' && vm.tiered === undefined) throw new UsageError('--tier auto needs chapter 12\'s tiered VM, which this run does not have');
  const language = vm.language;
  let program: CompiledProgram;
  try {
    program = vm.compileSource(request.source, language);
  } catch (e) {
    if (e instanceof vm.CompileError) {
      io.err(`${request.file}:${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const print = (text: string) => io.out(`${text}\n`);
  if (tier === 'auto') return runTiered(request, program, vm.tiered!, vm.heap!, print, io);
  const heap = heapOf(request, vm, io);
  try {
    if (tier === 'interp') {
      if (request.emitAsm) io.out(`${vm.listProgram(program, language.opcodes)}\n\n`);
      if (request.perfMap) new PerfMap(); // the interpreter makes no machine code: the map stays empty
      try {
        vm.interpret(program, { print, level: heap?.interpreterLevel ?? language });
      } catch (e) {
        if (e instanceof vm.RuntimeError) {
          io.err(`runtime error: ${describeError(e)}\n`);
          return 1;
        }
        throw e;
      }
      return 0;
    }
    const perfMap = request.perfMap ? new PerfMap() : undefined;
    let optimized: ReadonlySet<string> = new Set();
    const level = perfMap === undefined
      ? language.jit
      : reportingLoads(language.jit, (address, jit) => perfMap.add(bufferSymbols(address, jit.code.length, jit.functions, (name) => (optimized.has(name) ? 'opt' : 'baseline'))));
    let jit: JitProgram;
    if (tier === 'opt') {
      const compiled = vm.compileOptimized(program, request.arch, {
        level,
        ...(request.emitIr ? { onPass: (fn: string, pass: string, ir: Parameters<VmModules['printFunction']>[0]) => io.out(`;; ${fn} after ${pass}\n${vm.printFunction(ir)}\n\n`) } : {}),
      });
      optimized = new Set(compiled.optimized);
      io.err(`optimizing tier: ${compiled.optimized.length} functions optimized, ${compiled.declined.length} declined${compiled.declined.map((d) => `\n  declined ${d.name}: ${d.reason}`).join('')}\n`);
      jit = compiled.jit;
    } else {
      jit = vm.compileProgram(program, request.arch, level);
    }
    if (request.emitAsm) io.out(`${listingWithTables(jit)}\n\n`);
    heap?.attach(jit);
    const outcome = jit.run({ print });
    jit.dispose();
    if (outcome.error) {
      io.err(`runtime error: ${describeError(outcome.error)}\n`);
      return 1;
    }
    return 0;
  } finally {
    heap?.finish();
  }
}

/**
 * Runs `program` in chapter 12's tiered VM: every function starts in the interpreter and
 * moves to compiled code when it is hot. With --emit-asm the machine code is printed after the
 * run, since it is made while the program runs; with --perf-map each function is added to
 * the map as the VM compiles it, in each tier it reaches (the VM says where through `onCompiled`).
 */
function runTiered(request: RunRequest, program: CompiledProgram, tiered: TieredModules, heapModules: HeapModules, print: (text: string) => void, io: RunIo): RunStatus {
  const { options: heapOptions } = heapModules.parseHeapOptions(request.heapArgs);
  const heap = new tiered.TieredHeap(heapOptions);
  const perfMap = request.perfMap ? new PerfMap() : undefined;
  // With --emit-asm: each function's first bytes as compiled, to find it in the listing afterwards.
  const compiled: { readonly code: CompiledCode; readonly head: Uint8Array }[] = [];
  const onCompiled = (code: CompiledCode) => {
    perfMap?.add([compiledSymbol(code)]);
    if (request.emitAsm) compiled.push({ code, head: copyOut(code.address, Math.min(code.length, 32)) });
  };
  const options = {
    ...(request.tierUpCalls === undefined ? {} : { tierUpCalls: request.tierUpCalls }),
    ...(request.tierUpLoops === undefined ? {} : { tierUpLoops: request.tierUpLoops }),
    ...(request.traceTiers ? { traceTiers: (line: string) => io.err(`${line}\n`) } : {}),
    ...(request.tierUpOptimizedCalls === undefined ? {} : { tierUpOptimizedCalls: request.tierUpOptimizedCalls }),
    ...(perfMap === undefined && !request.emitAsm ? {} : { onCompiled }),
  };
  const vm = new tiered.TieredVM(program, heap, options, print);
  try {
    const ending = vm.run();
    if (request.emitAsm) io.out(`;; the machine code the tiered VM made during the run: its stubs, then each function as it was compiled\n${withHeaders(vm.listing(), compiled)}\n\n`);
    if (ending.error !== undefined) {
      io.err(`runtime error: ${ending.error.message}\n${tiered.formatTrace(ending.error.trace)}\n`);
      return 1;
    }
    return 0;
  } finally {
    vm.dispose();
    if (heapOptions.stats) io.err(`${heapModules.formatStats(heap.stats)}\n`);
    heap.dispose();
  }
}

/** What the tiered VM tells `onCompiled` of each function it compiles. */
type CompiledCode = import('../solutions/12-tiers-and-tools/options.ts').CompiledCode;

/**
 * The tiered VM's listing (offsets from the start of its code) with a `== name [tier] ==`
 * line before each function it compiled. Where each one starts is found from its address:
 * the first function's bytes locate the code's start in the listing, and every other
 * function must then lie at its own address minus that start. When that does not hold, the
 * listing is returned as it is.
 */
function withHeaders(listing: string, compiled: readonly { readonly code: CompiledCode; readonly head: Uint8Array }[]): string {
  if (compiled.length === 0) return listing;
  const rows = listing.split('\n');
  const image: number[] = [];
  const rowAt = new Map<number, number>();
  rows.forEach((row, i) => {
    const match = /^([0-9a-f]{4,})  ((?:[0-9a-f]{2} )*[0-9a-f]{2})/.exec(row);
    if (match === null) return;
    const offset = parseInt(match[1]!, 16);
    rowAt.set(offset, i);
    match[2]!.split(' ').forEach((byte, j) => (image[offset + j] = parseInt(byte, 16)));
  });
  const matchesAt = (offset: number, head: Uint8Array) => head.every((byte, j) => image[offset + j] === byte);
  const first = compiled[0]!;
  let start = -1;
  for (let offset = 0; offset < image.length && start < 0; offset++) if (matchesAt(offset, first.head)) start = offset;
  if (start < 0) return listing;
  const base = first.code.address - BigInt(start);
  const headers = new Map<number, string>();
  for (const { code, head } of compiled) {
    const offset = Number(code.address - base);
    const row = rowAt.get(offset);
    if (row === undefined || !matchesAt(offset, head)) return listing;
    headers.set(row, `\n== ${code.name} [${code.tier === 'optimized' ? 'opt' : code.tier}] ==`);
  }
  return rows.map((row, i) => (headers.has(i) ? `${headers.get(i)}\n${row}` : row)).join('\n');
}
