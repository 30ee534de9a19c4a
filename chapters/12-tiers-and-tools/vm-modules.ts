/**
 * Chapter 12: the set of modules one VM runs with, handed to the tools that drive it (the
 * command line, the REPL) instead of imported by them. The command line fills it from the
 * process's `#chNN/` conditions (the reference, or a learner's own chapters), or, in the fast
 * direct entry, from the reference files themselves, bundled ahead of time.
 */
type Parser = typeof import('#ch05/parser.ts');
type Errors = typeof import('#ch05/errors.ts');
type Compiler = typeof import('#ch06/compiler.ts');
type Interpreter = typeof import('#ch06/interpreter.ts');
type Listing = typeof import('#ch06/listing.ts');
type Baseline = typeof import('#ch07/jit.ts');
type Printer = typeof import('#ch08/printer.ts');
type Optimizing = typeof import('#ch09/jit.ts');
export type JitLanguage = import('#ch07/language.ts').JitLanguage;
export type JitProgram = import('#ch07/jit.ts').JitProgram;
export type CompiledProgram = import('#ch06/bytecode.ts').CompiledProgram;
export type InterpreterLevel = import('#ch06/interpreter.ts').InterpreterLevel;

/** Chapter 11's heap: what a run on it needs. */
export interface HeapModules {
  readonly Heap: typeof import('#ch11/heap.ts').Heap;
  readonly heapInterpreter: typeof import('#ch11/language.ts').heapInterpreter;
  readonly useHeap: typeof import('#ch11/jit-level.ts').useHeap;
  readonly parseHeapOptions: typeof import('#ch11/run.ts').parseHeapOptions;
  readonly formatStats: typeof import('#ch11/run.ts').formatStats;
}

/** Chapter 12's tiered VM: every function starts in the interpreter, the hot ones are compiled. */
export interface TieredModules {
  readonly TieredVM: typeof import('./vm.ts').TieredVM;
  readonly TieredHeap: typeof import('./vm.ts').TieredHeap;
  readonly formatTrace: typeof import('#ch10/trace.ts').formatTrace;
}

/** Every module the VM uses, and the language level it runs. */
export interface VmModules {
  readonly CompileError: Errors['CompileError'];
  readonly parse: Parser['parse'];
  readonly compileSource: Compiler['compileSource'];
  readonly interpret: Interpreter['run'];
  readonly RuntimeError: Interpreter['RuntimeError'];
  readonly listProgram: Listing['listProgram'];
  readonly listFunction: Listing['listFunction'];
  readonly compileProgram: Baseline['compileProgram'];
  readonly compileOptimized: Optimizing['compileOptimized'];
  readonly printFunction: Printer['printFunction'];
  /** The latest language level there is (chapter 11's, 10's or core Jot). */
  readonly language: JitLanguage;
  /** Chapter 11's heap, when the language has arrays and records. */
  readonly heap?: HeapModules;
  /** Chapter 12's tiered VM, when it is there (it runs chapter 11's language). */
  readonly tiered?: TieredModules;
  /**
   * Loads the disassembler, when it is not loaded with the modules (the direct entry loads
   * capstone only when machine code is about to be shown): called before every listing.
   */
  readonly loadDisassembler?: () => Promise<void>;
}

