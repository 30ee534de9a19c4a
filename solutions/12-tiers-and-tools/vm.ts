/**
 * Chapter 12: the tiered VM. Every function starts in the interpreter; the hot ones move to
 * the baseline tier while the program runs, and the hotter ones on to the optimizing tier.
 *
 *   interpreter ──(tierUpCalls calls, or tierUpLoops back edges: OSR at the loop header)──▶
 *   baseline ──(tierUpOptimizedCalls more calls and back edges, counted down by its code)──▶ optimizing
 *
 * A promotion compiles the function at the end of the run's one code region (made writable
 * for the write, executable again after it, W^X throughout) and writes its address into the
 * entry table (stubs.ts): its next call, from any tier, takes the new code. Code is never
 * patched and never freed while the run lasts: an activation of the old code runs on.
 *
 * The interpreter runs a copy of each function's bytecode in which two instructions are
 * replaced by chapter 12's own opcodes of the same size (the compilers still read the
 * original):
 *
 *   call f n   →  tier_call f n   counts the call; calls compiled code through the tiered
 *                                 entry stub, or pushes an interpreter frame as `call` does
 *   jump t     →  tier_loop t     (t at or before the jump: a loop's back edge) counts it;
 *                                 once the function is hot, on-stack replacement at t
 *
 * A run is a stack of *segments*: interpreter runs (chapter 06's loop) and machine segments
 * (chapter 10's, each begun by an entry record). TypeScript calls machine code from a
 * `tier_call` or `tier_loop` handler; machine code calls an interpreted function through its
 * interpreter stub (stubs.ts), whose callback starts a nested interpreter run at a
 * *trampoline*: a function of one call (`const a0 … tier_call f n; ret`) that stands in for
 * the machine caller and is left out of traces.
 *
 * The depth limit counts every active call of every segment: an interpreter run knows how
 * many calls are active outside it, machine code keeps `callsLeft`, and each crossing
 * converts one into the other. So a program overflows at the same call in every mix of tiers.
 *
 * Exceptions cross segments as values. An exception that leaves a machine segment (it
 * reached the entry record) is raised in the interpreter at the call that entered it, with
 * the frames it left behind as the start of its trace; one that leaves an interpreter run
 * goes back to the machine code as `pending`, and the interpreter stub rethrows it at the
 * machine caller's call. A collection walks every segment: the running one's roots come from
 * whoever allocates, the suspended ones' from this file (interpreter frames by their stack
 * maps, machine frames by chapter 11's `machineRoots`).
 */
import koffi from 'koffi';
import { copyOut } from '#native/libc.ts';
import { hostArch } from '#native/arch.ts';
import { CodeRegion } from '#ch01/code-region.ts';
import type { Label, MacroAssembler, Register } from '#ch04/macro-assembler.ts';
import { createMacroAssembler } from '#ch04/masm.ts';
import { Op, extendOpcodes, lineAt, readU16, type CompiledFunction, type CompiledProgram } from '#ch06/bytecode.ts';
import { MAX_CALL_DEPTH, RuntimeError, grow, run, type InterpreterLevel, type InterpreterState, type OpcodeHandler, type RaiseHook } from '#ch06/interpreter.ts';
import { BaselineCompiler, CodeTables, extendJit, jitRegisters, type JitLevel, type RunState, type Template } from '#ch07/compiler.ts';
import { JitProgram } from '#ch07/jit.ts';
import type { Func, IrProgram } from '#ch08/ir.ts';
import { optimizingExtension, type OptimizingMachineHooks } from '#ch09/codegen.ts';
import { Runtime } from '#ch07/runtime.ts';
import { ERROR_KIND } from '#ch07/runtime.ts';
import { RUNTIME_ERROR_PAYLOADS, ThrownException, UncaughtException } from '#ch10/errors.ts';
import { throwStats, uncaughtOf, type Uncaught } from '#ch10/jit-runtime.ts';
import { EX, savedField, unwindTable } from '#ch10/stubs.ts';
import type { TraceFrame } from '#ch10/trace.ts';
import { offsetOf } from '#ch10/unwind-table.ts';
import { pageReader, segmentFrames } from '#ch10/unwinder.ts';
import { collect } from '#ch11/collector.ts';
import { Heap, OutOfMemory, type RootWalker } from '#ch11/heap.ts';
import { interpreterRoots } from '#ch11/interpret.ts';
import { FIRST_RECORD_SHAPE, HEAP_ERROR_KIND, machineRoots, useHeap } from '#ch11/jit-level.ts';
import { HEAP_JIT } from '#ch11/jit-run.ts';
import { heapInterpreter } from '#ch11/language.ts';
import { DEFAULT_TIER_UP_CALLS, DEFAULT_TIER_UP_LOOPS, DEFAULT_TIER_UP_OPTIMIZED_CALLS, type TierOptions } from './options.ts';
import { osrAfterBody } from './osr.ts';
import { compileOptimizing, osrEntryAt, osrOptimizing, type OptimizingSite } from './osr-optimized.ts';
import { CALL_SIZE, TIER_OPCODES, callerView, makeTrampoline, quicken, returnOffset } from './copies.ts';
import { countdownJump, countdownPrologue } from './countdown.ts';

export { TIER_OPCODES, quicken } from './copies.ts';
import { TIER_CONTEXT, TX, emitTierStubs, type TierStubs } from './stubs.ts';

/**
 * Interpreter runs nested between machine segments (each with a callback and an entry below
 * it) before a function that machine code calls is compiled regardless of its counters.
 */
export const MAX_NESTED_RUNS = 64;
/** Bytes of machine code a run may compile. */
const CODE_BYTES = 4 * 1024 * 1024;

export type TierName = 'interpreter' | 'baseline' | 'optimized';

/** One promotion, as `--trace-tiers` prints it. */
export interface Promotion {
  readonly function: string;
  readonly from: TierName;
  readonly to: TierName;
  readonly calls: number;
  readonly loops: number;
  /** Set when the promotion entered the compiled code at a loop header. */
  readonly osrAt?: number;
}

/** An exception on its way between segments: what to raise, and the frames it has left so far. */
interface Crossing {
  readonly error: RuntimeError;
  readonly payload: bigint | undefined;
  readonly trace: readonly TraceFrame[];
}

type Outcome = { readonly result: bigint; readonly exception?: undefined } | { readonly exception: Crossing };

/** A segment suspended below the running one: its roots. */
interface Suspended {
  readonly roots: RootWalker;
}

/** The trace so far of an error raised in the interpreter where it crossed from machine code. */
const innerTraces = new WeakMap<RuntimeError, readonly TraceFrame[]>();
/** The error an UncaughtException of a nested run ended with. */
const originals = new WeakMap<UncaughtException, RuntimeError>();

const interpretType = koffi.pointer(koffi.proto('int64_t jot_interpret(int64_t fn)'));
const tierUpType = koffi.pointer(koffi.proto('int64_t jot_tier_up(int64_t fn, int64_t header)'));

/**
 * A heap that says when an allocation does not fit: in machine code, chapter 11's runtime
 * then ends the segment at once, and the VM must know why the segment returned.
 */
export class TieredHeap extends Heap {
  onOutOfMemory: ((shape: number, count: number) => void) | undefined;
  /** Whether the interpreter allocates now (not machine code through chapter 11's callback). */
  interpreting: (() => boolean) | undefined;

  override allocate(shape: number, count: number, roots: RootWalker): bigint {
    const before = this.used;
    try {
      return super.allocate(shape, count, roots);
    } catch (error) {
      if (error instanceof OutOfMemory) this.onOutOfMemory?.(shape, count);
      throw error;
    } finally {
      // Chapter 11 counts the bytes machine code bumps as the growth of `used` between the
      // run's start and end (and each call of its allocation callback). The interpreter's
      // allocations, and the collections they start, change `used` inside that span too,
      // though this allocation has counted its own bytes already: take that change back out.
      if (this.interpreting?.() === true) this.stats.bytesAllocated -= this.used - before;
    }
  }
}

/** The tiered VM for one run of one program on one heap. */
export class TieredVM {
  readonly program: CompiledProgram;
  readonly heap: TieredHeap;
  readonly #options: TierOptions;
  readonly #tierUpCalls: number;
  readonly #tierUpLoops: number;
  readonly #masm: MacroAssembler;
  readonly #tables = new CodeTables();
  readonly #level: JitLevel;
  readonly #osr = new Map<number, Map<number, { readonly label: Label; readonly depth: number }>>();
  readonly #code: CodeRegion;
  readonly #context: CodeRegion;
  readonly #transfer: CodeRegion;
  /**
   * The context block and the transfer buffer as 64-bit words: views of their memory, so that
   * a word crossing between TypeScript and machine code costs no call into libc (every call
   * between the interpreter and machine code writes a few).
   */
  readonly #contextWords: BigUint64Array;
  readonly #transferWords: BigInt64Array;
  /** The tiered entry stub, as a function of (ctx, target). */
  #enterStub: ((ctx: bigint, target: bigint) => bigint) | undefined;
  readonly #entryTable: CodeRegion;
  /** Per function: calls and back edges left in the baseline tier before the optimizing tier (its code counts down). */
  readonly #countdown: CodeRegion;
  readonly #tierUpOptimizedCalls: number;
  /** Functions the optimizing tier declined, with why (they stay in the baseline tier). */
  readonly declined: { readonly function: string; readonly reason: string }[] = [];
  readonly #stubs: TierStubs;
  readonly #jit: JitProgram;
  /** Bytes of code written to the region so far. */
  #written = 0;
  readonly tiers: TierName[];
  readonly calls: number[];
  readonly loops: number[];
  readonly promotions: Promotion[] = [];
  /** The interpreter's copies of the functions (then each run's trampoline). */
  readonly #functions: CompiledFunction[];
  readonly #interpreterLevel: InterpreterLevel;
  readonly #print: (text: string) => void;
  /** The running interpreter runs, innermost last: the active calls below their first frame, and whether that frame is a trampoline. */
  readonly #runs: { readonly base: number; readonly trampoline: boolean }[] = [];
  readonly #suspended: Suspended[] = [];
  /** The kind of each running segment, innermost last. */
  readonly #innermost: ('machine' | 'interpreter')[] = [];
  /** The last uncaught exception of a machine segment already turned into a crossing. */
  #lastUncaught: Uncaught | undefined;
  /** An exception the interpreter stub rethrows, and the throw count before it. */
  #rethrown: { readonly crossing: Crossing; readonly throwsBefore: number } | undefined;
  /** An exception that ended the running machine segment without the unwinder (out of memory). */
  #ended: Crossing | undefined;
  /**
   * Entries from TypeScript into machine code, interpreter runs started, OSR entries taken
   * (from the interpreter into either compiled tier), and OSR entries into the optimizing
   * tier: from the interpreter, and from a baseline back edge.
   */
  readonly stats = { machineEntries: 0, interpreterEntries: 0, osrEntries: 0, osrOptimizedFromInterpreter: 0, osrOptimizedFromBaseline: 0 };
  /** The optimizing tier's OSR variants by function and loop header; null where it declined one. */
  readonly #osrVariants = new Map<number, Map<number, Label | null>>();
  /**
   * By function index: the optimized functions whose code may call its optimized code
   * directly (not through its dispatch stub).
   */
  readonly directCalls = new Map<number, Set<number>>();
  /** Each optimized function's own code, by index. */
  readonly #optimizedCode = new Map<number, Label>();
  /** Per function: how much its countdown word was put back up (see jot_tier_up). */
  readonly #refills: number[];

  constructor(program: CompiledProgram, heap: TieredHeap, options: TierOptions, print: (text: string) => void) {
    this.program = program;
    this.heap = heap;
    this.#options = options;
    this.#tierUpCalls = options.tierUpCalls ?? DEFAULT_TIER_UP_CALLS;
    this.#tierUpLoops = options.tierUpLoops ?? DEFAULT_TIER_UP_LOOPS;
    this.#tierUpOptimizedCalls = options.tierUpOptimizedCalls ?? DEFAULT_TIER_UP_OPTIMIZED_CALLS;
    this.#print = print;
    const n = program.functions.length;
    this.tiers = new Array<TierName>(n).fill('interpreter');
    this.calls = new Array<number>(n).fill(0);
    this.loops = new Array<number>(n).fill(0);
    this.#refills = new Array<number>(n).fill(0);
    const base = HEAP_JIT.jit;
    const baseCall = base.templates.get(Op.call)!;
    this.#level = extendJit(base, {
      layout: TIER_CONTEXT,
      prologue: countdownPrologue(base.prologue),
      afterBody: osrAfterBody(base.afterBody, base.opcodes, this.#osr),
      // Every call, a recursive one too, through the callee's dispatch stub: a promotion of
      // the function itself takes effect at its next call, even inside its old code.
      templates: new Map<number, Template>([
        [Op.call, (t) => baseCall(Object.create(t, { functionLabel: { value: (index: number) => this.#stubs.dispatch[index]! } }) as typeof t)],
        [Op.jump, countdownJump],
      ]),
      machine: { optimizing: osrOptimizing(optimizingExtension(base)!) } as OptimizingMachineHooks,
    });

    this.#masm = createMacroAssembler(hostArch());
    this.#stubs = emitTierStubs(this.#masm, program.functions, this.#level, this.#tables);
    this.#code = CodeRegion.allocate(CODE_BYTES);
    this.#context = CodeRegion.allocate(TIER_CONTEXT.size);
    const slots = Math.max(8, ...program.functions.map((fn) => fn.locals + fn.maxStack));
    this.#transfer = CodeRegion.allocate(8 * slots);
    this.#contextWords = new BigUint64Array(wordsOf(this.#context));
    this.#transferWords = new BigInt64Array(wordsOf(this.#transfer));
    this.#entryTable = CodeRegion.allocate(8 * Math.max(1, n));
    this.#countdown = CodeRegion.allocate(8 * Math.max(1, n));
    const countdowns = new DataView(new ArrayBuffer(8 * n));
    for (let i = 0; i < n; i++) countdowns.setBigInt64(8 * i, BigInt(this.#tierUpOptimizedCalls), true);
    this.#countdown.write(0, new Uint8Array(countdowns.buffer));
    this.#flush(false);
    for (const fn of program.functions) this.#setEntry(fn.index, this.#stubs.interpreter[fn.index]!);
    this.#jit = new JitProgram(program, hostArch(), new Uint8Array(0), [], () => this.#masm.listing(), this.#level, this.#tables);
    useHeap(this.#jit, heap);

    const opcodes = extendOpcodes(base.opcodes, [
      { name: 'tier_call', code: TIER_OPCODES.call, operands: ['u16', 'u8'], pops: -1, pushes: 1 },
      { name: 'tier_loop', code: TIER_OPCODES.loop, operands: ['u16'], pops: 0, pushes: 0 },
    ]);
    const heapLevel = heapInterpreter(heap);
    this.#interpreterLevel = {
      opcodes,
      handlers: new Map<number, OpcodeHandler>([
        ...heapLevel.handlers,
        [TIER_OPCODES.call, (state) => this.#call(state)],
        [TIER_OPCODES.loop, (state) => this.#loop(state)],
      ]),
      raise: this.#raise(heapLevel.raise!),
    };
    this.#functions = program.functions.map((fn) => quicken(fn, base.opcodes));
    for (const fn of program.functions) {
      const tier = options.tierOf?.(fn.name);
      if (tier === 'baseline') this.#promote(fn.index);
      if (tier === 'optimized') {
        // Through the baseline tier, which keeps any function the optimizing tier declines.
        this.#promote(fn.index);
        this.#promoteOptimized(fn.index);
      }
    }
    heap.onOutOfMemory = (shape, count) => {
      if (this.#innermost.at(-1) === 'machine') this.#machineOutOfMemory(shape, count);
    };
    heap.interpreting = () => this.#innermost.at(-1) === 'interpreter';
  }

  /** Out of memory in machine code: chapter 11's runtime ends the segment; this is how it ended. */
  #machineOutOfMemory(shape: number, count: number): void {
    const what = shape < FIRST_RECORD_SHAPE ? `an array of ${count} elements` : `a ${this.heap.shapes[shape]?.name ?? 'record'}`;
    const machine = { base: this.#code.address, entryRecord: this.#readWord(EX.entryRecord!), read: pageReader() };
    const trace: TraceFrame[] = [];
    for (const frame of segmentFrames(unwindTable(this.#tables), machine, this.#readWord(EX.exitPc!), this.#readWord(EX.exitFp!))) {
      trace.push({ name: this.program.functions[frame.fn.index]?.name ?? frame.fn.name, line: frame.site.line });
    }
    const error = new RuntimeError(`out of memory: ${what} does not fit in a semispace of ${this.heap.semispaceBytes} bytes`, trace[0]?.line ?? 0);
    this.#ended = { error, payload: undefined, trace };
  }

  /** Runs `main` (interpreted at first) and describes how the program ended. */
  run(): { readonly result?: bigint; readonly error?: { readonly message: string; readonly payload?: bigint; readonly trace: readonly TraceFrame[] } } {
    const runtime = new Runtime(this.program, this.#context, { print: this.#print, errors: this.#level.errors });
    const state: RunState = { program: this.#jit, code: this.#code, runtime };
    const handle = koffi.register((fnIn: number | bigint) => this.#interpretCallback(Number(fnIn)), interpretType);
    const tierUp = koffi.register((fnIn: number | bigint, header: number | bigint) => this.#tierUpCallback(Number(fnIn), Number(header)), tierUpType);
    runtime.open();
    try {
      this.#level.beforeRun?.(this.#context, state);
      this.heap.collector = (heap, roots) => collect(heap, (visit) => {
        roots(visit);
        for (const segment of this.#suspended) segment.roots(visit);
      });
      this.#writeWord(TX.interpret!, handle);
      this.#writeWord(TX.transfer!, this.#transfer.address);
      this.#writeWord(TX.entryTable!, this.#entryTable.address);
      this.#writeWord(TX.countdown!, this.#countdown.address);
      this.#writeWord(TX.tierUp!, tierUp);
      const outcome = this.#main();
      if (outcome.exception === undefined) return { result: outcome.result };
      const { error, payload, trace } = outcome.exception;
      const message = error instanceof ThrownException ? `uncaught exception ${error.payload}` : error.message;
      return { error: payload === undefined ? { message, trace } : { message, payload, trace } };
    } finally {
      this.#level.afterRun?.(this.#context, state);
      runtime.close();
      koffi.unregister(handle);
      koffi.unregister(tierUp);
      if (runtime.hostError !== undefined) throw runtime.hostError;
      if (this.#hostError !== undefined) throw this.#hostError;
    }
  }

  /** Calls and back edges that ran in each function's baseline code (counted down towards the optimizing tier). */
  baselineCalls(): number[] {
    const n = this.program.functions.length;
    const view = new DataView(copyOut(this.#countdown.address, 8 * Math.max(1, n)).buffer);
    return this.program.functions.map((_, i) => Number(BigInt(this.#tierUpOptimizedCalls + this.#refills[i]!) - view.getBigInt64(8 * i, true)));
  }

  /** The machine code so far, as a listing. */
  listing(): string {
    return this.#jit.listing();
  }

  // ── a session's VM: functions replaced between runs ───────────────────────────────
  //
  // A REPL keeps one VM for its whole session (session-vm.ts). The program the VM is made
  // with reserves free slots (functions no code calls), each with its dispatch stub, its
  // interpreter stub, its entry and its countdown; between two runs a slot takes a new
  // definition: a new function fills a free slot, a redefined one replaces its old self in
  // its own slot. No code is patched: the slot's entry goes back to its interpreter stub
  // (one word of data memory), so every caller that goes through the dispatch stub calls the
  // new definition at its next call. Optimized code that calls the old optimized code
  // straight (`directCalls`) depends on it: each such caller is reset too, and so on up.
  // The old code stays in the region, unreachable.

  /**
   * Puts each of `functions` in its slot (`fn.index`), between runs: it starts again in the
   * interpreter, its counters at zero, its entry at its interpreter stub, its countdown full,
   * its OSR entries forgotten. A function given unchanged is reset all the same (its compiled
   * code depended on something that changed: a callee's signature). So is every optimized
   * function whose code calls a reset one's optimized code straight, transitively. Then every
   * function `tierOf` holds in a compiled tier is compiled in it again, against the new
   * definitions.
   */
  replaceFunctions(given: readonly CompiledFunction[]): void {
    if (this.#innermost.length > 0) throw new Error('functions are replaced between runs, never while the VM runs');
    const slots = this.program.functions as CompiledFunction[];
    const callers = [...this.straightCallersOf(given.map((fn) => fn.index)).keys()];
    const functions = [...given, ...callers.map((index) => slots[index]!)];
    for (const fn of functions) {
      const index = fn.index;
      if (!Number.isInteger(index) || index < 0 || index >= slots.length) throw new RangeError(`${fn.name} has index ${index}: this VM has slots 0 to ${slots.length - 1}`);
      slots[index] = fn;
      this.#functions[index] = quicken(fn, HEAP_JIT.jit.opcodes);
      this.tiers[index] = 'interpreter';
      this.calls[index] = 0;
      this.loops[index] = 0;
      this.#osr.delete(index);
      this.#osrVariants.delete(index);
      this.#optimizedCode.delete(index);
      this.#refills[index] = 0;
      this.directCalls.delete(index);
      for (const callers of this.directCalls.values()) callers.delete(index);
      this.#countdownWord(index, BigInt(this.#tierUpOptimizedCalls));
      this.#setEntry(index, this.#stubs.interpreter[index]!);
    }
    for (const fn of functions) this.holdTier(fn.index);
  }

  /**
   * The functions whose optimized code calls the optimized code of one of `indices` straight,
   * and theirs in turn (none of `indices` itself), each with the function it calls straight.
   */
  straightCallersOf(indices: Iterable<number>): Map<number, number> {
    const seen = new Set(indices);
    const found = new Map<number, number>();
    const pending = [...seen];
    while (pending.length > 0) {
      const callee = pending.pop()!;
      for (const caller of this.directCalls.get(callee) ?? []) {
        if (seen.has(caller)) continue;
        seen.add(caller);
        found.set(caller, callee);
        pending.push(caller);
      }
    }
    return found;
  }

  /**
   * Moves function `index` to the tier `tierOf` holds it in now (the REPL's `:jit`), between
   * runs: compiled in the baseline or optimizing tier if it is not there yet, or back to the
   * interpreter. A function `tierOf` leaves to the counters stays where it is.
   */
  holdTier(index: number): void {
    const fn = this.program.functions[index]!;
    const held = this.#options.tierOf?.(fn.name);
    const tier = this.tiers[index]!;
    if (held === undefined || held === tier) return;
    if (held === 'interpreter' || (held === 'baseline' && tier === 'optimized')) {
      this.replaceFunctions([fn]); // back to the interpreter; then compiled again if held in the baseline tier
      return;
    }
    this.compileIn(index, held);
  }

  /**
   * Compiles function `index` in `tier` now, between runs, unless it is there already (an
   * optimized function stays optimized): through the baseline tier, which keeps a function
   * the optimizing tier declines.
   */
  compileIn(index: number, tier: 'baseline' | 'optimized'): void {
    if (this.#innermost.length > 0) throw new Error('functions are compiled on request between runs, never while the VM runs');
    if (this.tiers[index] === 'interpreter') this.#promote(index);
    if (tier === 'optimized' && this.tiers[index] === 'baseline') this.#promoteOptimized(index);
  }

  dispose(): void {
    this.#code.dispose();
    this.#context.dispose();
    this.#transfer.dispose();
    this.#entryTable.dispose();
    this.#countdown.dispose();
  }

  // ── promotion ─────────────────────────────────────────────────────────────────────

  /** Compiles function `index` in the baseline tier and points its entry at the code. */
  #promote(index: number, osrAt?: number): void {
    const fn = this.program.functions[index]!;
    const masm = this.#masm;
    const code = masm.newLabel(fn.name);
    const entries = this.#stubs.dispatch.map((label, i) => (i === index ? code : label));
    new BaselineCompiler(masm, fn, this.program, entries, jitRegisters(masm), this.#level, this.#tables).compile();
    this.#flush(true);
    this.#compiled(fn.name, 'baseline', code);
    this.#setEntry(index, code);
    this.tiers[index] = 'baseline';
    const promotion: Promotion = { function: fn.name, from: 'interpreter', to: 'baseline', calls: this.calls[index]!, loops: this.loops[index]!, ...(osrAt === undefined ? {} : { osrAt }) };
    this.promotions.push(promotion);
    this.#options.traceTiers?.(describePromotion(promotion));
  }

  /**
   * Compiles function `index` in the optimizing tier (chapters 08–09) and points its entry at
   * the code; a function the tier declines stays where it is, and the decline is kept.
   */
  #promoteOptimized(index: number): void {
    const fn = this.program.functions[index]!;
    const from = this.tiers[index]!;
    const reason = this.#level.machine.declines?.(this.program, index);
    if (reason !== undefined) {
      this.declined.push({ function: fn.name, reason });
      this.#options.traceTiers?.(`[tiers] ${fn.name}: stays ${from}: the optimizing tier declines it (${reason})`);
      return;
    }
    const masm = this.#masm;
    const start = masm.size;
    const code = masm.newLabel(`${fn.name} (optimized)`);
    try {
      compileOptimizing(this.#optimizingSite(index, code), fn, code);
    } catch (error) {
      // Half-emitted code cannot be taken back: only an error before the first byte declines.
      if (masm.size !== start) throw error;
      this.declined.push({ function: fn.name, reason: (error as Error).message });
      this.#options.traceTiers?.(`[tiers] ${fn.name}: stays ${from}: the optimizing tier declines it (${(error as Error).message})`);
      return;
    }
    this.#flush(true);
    this.#compiled(fn.name, 'optimized', code);
    this.#setEntry(index, code);
    this.#optimizedCode.set(index, code);
    this.tiers[index] = 'optimized';
    const promotion: Promotion = { function: fn.name, from, to: 'optimized', calls: this.calls[index]!, loops: this.loops[index]! };
    this.promotions.push(promotion);
    this.#options.traceTiers?.(describePromotion(promotion));
  }

  /**
   * What compiling function `index` in the optimizing tier needs, its own code at `own` (if
   * it has some). Its calls go straight to the code of the functions already optimized (the
   * last tier: that code is never replaced while the run lasts) and through the dispatch
   * stubs to the others, whose code may still change; `directCalls` keeps who calls whom
   * straight, for whoever would replace optimized code.
   */
  #optimizingSite(index: number, own: Label | undefined): OptimizingSite {
    const entries = this.#stubs.dispatch.map((stub, i) => {
      const code = i === index ? own : this.#optimizedCode.get(i);
      if (code === undefined) return stub;
      let callers = this.directCalls.get(i);
      if (callers === undefined) this.directCalls.set(i, (callers = new Set()));
      callers.add(index);
      return code;
    });
    return { masm: this.#masm, program: this.program, signatures: this.#signatures(), level: this.#level, tables: this.#tables, entries };
  }

  /**
   * The OSR variant of optimized function `index` at the loop header `header` (osr-optimized.ts),
   * compiled at its first use; undefined where the optimizing tier declines it (said once in
   * `--trace-tiers`).
   */
  #osrVariant(index: number, header: number): Label | undefined {
    let variants = this.#osrVariants.get(index);
    if (variants === undefined) this.#osrVariants.set(index, (variants = new Map()));
    const known = variants.get(header);
    if (known !== undefined) return known ?? undefined;
    const fn = this.program.functions[index]!;
    const at = String(header).padStart(4, '0');
    const declined = this.#level.machine.declines?.(this.program, index);
    if (declined !== undefined) {
      variants.set(header, null);
      return undefined;
    }
    const masm = this.#masm;
    const start = masm.size;
    const label = masm.newLabel(`${fn.name} (optimized, entered at ${at})`);
    try {
      compileOptimizing(this.#optimizingSite(index, this.#optimizedCode.get(index)), fn, label, osrEntryAt(header));
    } catch (error) {
      if (masm.size !== start) throw error;
      variants.set(header, null);
      this.#options.traceTiers?.(`[tiers] ${fn.name}: no entry into the optimized code at the loop header ${at}: ${(error as Error).message}`);
      return undefined;
    }
    this.#flush(true);
    this.#compiled(`${fn.name} (entered at ${at})`, 'optimized', label);
    variants.set(header, label);
    return label;
  }

  /** The program's functions as IR signatures, for the optimizer's verifier. */
  #signatures(): IrProgram {
    const irType = optimizingExtension(this.#level)?.build.irType ?? ((type: string) => type);
    const functions = new Map<string, Func>(this.program.functions.map((f) => [f.name, { name: f.name, params: f.params.map((type, i) => ({ name: `p${i}`, type: irType(type) })), returnType: irType(f.returnType), blocks: [], nextValue: 0, nextBlock: 0 }]));
    return { functions, main: this.program.functions[this.program.main]!.name };
  }

  /**
   * jot_tier_up(f, header): a baseline function's countdown reached zero, in its prologue
   * (header -1) or at the back edge of the loop at `header` (its operand stack empty).
   * Returns where the baseline frame goes on (countdown.ts), or 0 to go on in the baseline code:
   *
   *   in the prologue   f compiled in the optimizing tier: its code's address (the call
   *                     starts over there, with its arguments)
   *   at a back edge    the header's OSR variant (osr-optimized.ts); the first time, only it:
   *                     the function's own code waits for its next call, whose prologue finds
   *                     the countdown at zero again (a function called once, such as main,
   *                     never needs it)
   */
  #tierUpCallback(index: number, header: number): bigint {
    try {
      const fn = this.program.functions[index]!;
      const mayPromote = this.tiers[index] === 'baseline' && this.#options.tierOf?.(fn.name) === undefined;
      if (header < 0) {
        if (mayPromote) this.#promoteOptimized(index);
        const code = this.#optimizedCode.get(index);
        return this.tiers[index] === 'optimized' && code !== undefined ? this.#code.address + BigInt(offsetOf(code)) : 0n;
      }
      if (mayPromote) {
        const variant = this.#osrVariants.has(index) ? undefined : this.#osrVariant(index, header);
        if (variant === undefined) this.#promoteOptimized(index);
        else {
          // The function's own code at its next call: the countdown one above zero again.
          this.#refills[index]!++;
          this.#countdownWord(index, 1n);
          const promotion: Promotion = { function: fn.name, from: 'baseline', to: 'optimized', calls: this.calls[index]!, loops: this.loops[index]!, osrAt: header };
          this.promotions.push(promotion);
          this.#options.traceTiers?.(describePromotion(promotion));
        }
      }
      const variant = this.tiers[index] === 'optimized' || this.#osrVariants.get(index)?.get(header) ? this.#osrVariant(index, header) : undefined;
      if (variant !== undefined) {
        this.stats.osrOptimizedFromBaseline++;
        this.#traceOsr(fn.name, 'baseline', header);
        return this.#code.address + BigInt(offsetOf(variant));
      }
    } catch (error) {
      this.#hostError ??= error;
    }
    return 0n;
  }

  #countdownWord(index: number, value: bigint): void {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setBigInt64(0, value, true);
    this.#countdown.write(8 * index, word);
  }

  /** `[tiers] f: a baseline frame moves to the optimized code at the loop header 0012` */
  #traceOsr(name: string, from: 'interpreter' | 'baseline', header: number): void {
    this.#options.traceTiers?.(`[tiers] ${name}: ${from === 'interpreter' ? 'an interpreter' : 'a baseline'} frame moves to the optimized code at the loop header ${String(header).padStart(4, '0')}`);
  }

  /** Writes the code emitted since the last flush into the region, keeping it W^X. */
  #flush(sealed: boolean): void {
    const bytes = this.#masm.finish();
    if (bytes.length > this.#code.size) throw new Error(`the tiered VM compiled more than ${this.#code.size} bytes of machine code`);
    if (sealed) this.#code.unseal();
    this.#code.write(this.#written, bytes.subarray(this.#written));
    this.#code.seal();
    this.#written = bytes.length;
  }

  /** Tells `onCompiled` of the code from `start` to the end of what was just written. */
  #compiled(name: string, tier: 'baseline' | 'optimized', start: Label): void {
    const offset = offsetOf(start);
    this.#options.onCompiled?.({ name, tier, address: this.#code.address + BigInt(offset), length: this.#written - offset });
  }

  #setEntry(index: number, label: Label): void {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setBigUint64(0, this.#code.address + BigInt(offsetOf(label)), true);
    this.#entryTable.write(8 * index, word);
  }

  #mayPromote(index: number): boolean {
    return this.#options.tierOf?.(this.program.functions[index]!.name) !== 'interpreter';
  }

  #countCall(index: number): void {
    this.calls[index]!++;
    if (this.tiers[index] === 'interpreter' && this.calls[index]! >= this.#tierUpCalls && this.#mayPromote(index)) this.#promote(index);
  }

  // ── the interpreter's side ──────────────────────────────────────────────────────────

  /** Runs `main` (whose call is the first active one), in the interpreter or compiled as its tier is. */
  #main(): Outcome {
    const index = this.program.main;
    this.#countCall(index);
    if (this.tiers[index] !== 'interpreter') return this.#enter(this.#stubs.dispatch[index]!, [], 1, () => {});
    return this.#runInterpreter({ functions: this.#functions, main: index }, 0, false);
  }

  /**
   * Runs function `index` with `args` in a new interpreter run, for machine code with
   * `outside` calls active (the callee's not included): a trampoline stands in for the caller.
   */
  #interpret(index: number, args: readonly bigint[], outside: number): Outcome {
    const callee = this.#functions[index]!;
    const trampoline = makeTrampoline(this.#functions.length, callee, args);
    return this.#runInterpreter({ functions: [...this.#functions, trampoline], main: trampoline.index }, outside - 1, true);
  }

  /** One interpreter run; `base` + the depth of a frame is the number of active calls there. */
  #runInterpreter(program: CompiledProgram, base: number, trampoline: boolean): Outcome {
    this.#runs.push({ base, trampoline });
    this.#innermost.push('interpreter');
    this.stats.interpreterEntries++;
    try {
      return { result: run(program, { print: this.#print, level: this.#interpreterLevel }) };
    } catch (error) {
      if (!(error instanceof UncaughtException)) throw error;
      return { exception: { error: originals.get(error) ?? error, payload: error.payload, trace: error.trace } };
    } finally {
      this.#runs.pop();
      this.#innermost.pop();
    }
  }

  /** Active calls, the running function's included. */
  #active(state: InterpreterState): number {
    return this.#runs.at(-1)!.base + state.depth;
  }

  /** `tier_call f n` */
  #call(state: InterpreterState): void {
    const code = state.fn.code;
    const index = readU16(code, state.pc + 1);
    const argc = code[state.pc + 3]!;
    this.#countCall(index);
    const active = this.#active(state);
    if (active >= MAX_CALL_DEPTH) throw new RuntimeError(`stack overflow in ${state.fn.name}`, lineAt(state.fn, state.pc));
    if (this.tiers[index] !== 'interpreter') {
      const args = Array.from(state.stack.subarray(state.sp - argc, state.sp));
      const outcome = this.#enter(this.#stubs.dispatch[index]!, args, active + 1, interpreterRoots(state));
      if (outcome.exception !== undefined) throw raising(outcome.exception);
      state.sp -= argc;
      state.stack[state.sp++] = outcome.result;
      state.pc += CALL_SIZE;
      return;
    }
    // An interpreted callee: a frame of this run, exactly as chapter 06's `call` makes it.
    const { callers } = state;
    const callee = callers.functions[index]!;
    callers.function[state.depth] = state.fn.index;
    callers.pc[state.depth] = state.pc + CALL_SIZE;
    callers.bp[state.depth] = state.bp;
    state.depth++;
    state.fn = callee;
    state.pc = 0;
    state.bp = state.sp - argc;
    state.sp = state.bp + callee.locals;
    if (state.sp + callee.maxStack > state.stack.length) state.stack = grow(state.stack, state.sp + callee.maxStack);
    state.stack.fill(0n, state.bp + argc, state.sp);
  }

  /** `tier_loop t`: a back edge. */
  #loop(state: InterpreterState): void {
    const target = readU16(state.fn.code, state.pc + 1);
    const index = state.fn.index;
    this.loops[index]!++;
    if (this.loops[index]! >= this.#tierUpLoops && (this.tiers[index] !== 'interpreter' || this.#mayPromote(index))) {
      if (this.tiers[index] === 'interpreter') this.#promote(index, target);
      const depth = state.sp - state.bp - state.fn.locals;
      const compiled = this.tiers[index] === 'optimized' || this.#osrVariants.get(index)?.get(target);
      const variant = compiled && depth === 0 ? this.#osrVariant(index, target) : undefined;
      if (variant !== undefined) {
        this.stats.osrOptimizedFromInterpreter++;
        this.#traceOsr(state.fn.name, 'interpreter', target);
        this.#onStackReplacement(state, variant);
        return;
      }
      const entry = this.#osr.get(index)?.get(target);
      if (entry !== undefined && entry.depth === depth) {
        this.#onStackReplacement(state, entry.label);
        return;
      }
    }
    state.pc = target;
  }

  /** Moves the running frame to its compiled code at a loop header, then returns from it. */
  #onStackReplacement(state: InterpreterState, entry: Label): void {
    const values = Array.from(state.stack.subarray(state.bp, state.sp));
    const active = this.#active(state);
    // While the machine code runs, this run's frames are the caller's and below: the
    // running frame lives on in the machine frame (main's has no caller in this run).
    const roots: RootWalker = state.depth > 1 ? interpreterRoots(callerView(state)) : () => {};
    this.stats.osrEntries++;
    const outcome = this.#enter(entry, values, active, roots);
    if (outcome.exception === undefined) {
      // The function has returned: its result on the operand stack, then its own `ret`.
      state.sp = state.bp + state.fn.locals;
      state.stack[state.sp++] = outcome.result;
      state.pc = returnOffset(state.fn);
      return;
    }
    // Its handlers were searched in the machine frame: raise at the caller's call.
    if (state.depth === 1) {
      const ended = new UncaughtException(outcome.exception.error, outcome.exception.payload, outcome.exception.trace);
      originals.set(ended, outcome.exception.error);
      throw ended;
    }
    const { callers } = state;
    state.depth--;
    state.sp = state.bp;
    state.fn = callers.functions[callers.function[state.depth]!]!;
    state.bp = callers.bp[state.depth]!;
    state.pc = callers.pc[state.depth]! - CALL_SIZE;
    throw raising(outcome.exception);
  }

  /** Chapter 10's raise hook, with the frames an exception crossed before it came here. */
  #raise(base: RaiseHook): RaiseHook {
    return (error, state) => {
      if (error instanceof UncaughtException) throw error; // it has ended the run already
      const inner = innerTraces.get(error) ?? [];
      try {
        base(error, state);
      } catch (uncaught) {
        if (!(uncaught instanceof UncaughtException)) throw uncaught;
        // A nested run's last frame is its trampoline.
        const outer = this.#runs.at(-1)!.trampoline ? uncaught.trace.slice(0, -1) : uncaught.trace;
        const ended = new UncaughtException(error, uncaught.payload, [...inner, ...outer]);
        originals.set(ended, error);
        throw ended;
      }
    };
  }

  // ── the machine's side ─────────────────────────────────────────────────────────────

  /**
   * Calls `target` through the tiered entry stub with `args` in the transfer buffer, with
   * `active` calls active (the callee's included). The running interpreter run is suspended
   * meanwhile: `roots` are its frames.
   */
  #enter(target: Label, args: readonly bigint[], active: number, roots: RootWalker): Outcome {
    for (let i = 0; i < args.length; i++) this.#transferWords[i] = BigInt.asIntN(64, args[i]!);
    this.#writeWord(EX.callsLeft!, BigInt(MAX_CALL_DEPTH - active));
    const throwsBefore = throwStats(this.#jit).throws;
    this.#suspended.push({ roots });
    this.#innermost.push('machine');
    this.#ended = undefined;
    this.stats.machineEntries++;
    let result: bigint;
    try {
      this.#enterStub ??= this.#code.function(offsetOf(this.#stubs.enter), 2);
      result = BigInt.asIntN(64, this.#enterStub(this.#context.address, this.#code.address + BigInt(offsetOf(target))));
    } finally {
      this.#suspended.pop();
      this.#innermost.pop();
    }
    if (this.#ended !== undefined) {
      const ended = this.#ended;
      this.#ended = undefined;
      return { exception: ended };
    }
    const uncaught = uncaughtOf(this.#jit);
    if (uncaught === undefined || uncaught === this.#lastUncaught || throwStats(this.#jit).throws === throwsBefore) return { result };
    this.#lastUncaught = uncaught;
    const rethrown = this.#rethrown;
    this.#rethrown = undefined;
    if (rethrown !== undefined && throwStats(this.#jit).throws === rethrown.throwsBefore + 1) {
      const { crossing } = rethrown;
      return { exception: { ...crossing, trace: [...crossing.trace, ...uncaught.trace] } };
    }
    return { exception: this.#machineException(uncaught) };
  }

  /** An exception thrown in machine code, as the interpreter would have raised it. */
  #machineException(uncaught: Uncaught): Crossing {
    const top = uncaught.trace[0] ?? { name: '?', line: 0 };
    if (uncaught.kind === undefined) return { error: new ThrownException(uncaught.payload, top.line), payload: uncaught.payload, trace: uncaught.trace };
    let detail: string;
    if (uncaught.kind === ERROR_KIND.stackOverflow) detail = `${RUNTIME_ERROR_PAYLOADS.stackOverflow.message} in ${top.name}`;
    else if (uncaught.kind === HEAP_ERROR_KIND.indexOutOfBounds) detail = `${RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.message} (index ${BigInt.asIntN(64, this.#readWord(EXTRA.errorIndex))}, length ${this.#readWord(EXTRA.errorLength)})`;
    else if (uncaught.kind === HEAP_ERROR_KIND.arrayLength) detail = `${RUNTIME_ERROR_PAYLOADS.indexOutOfBounds.message} (array length ${BigInt.asIntN(64, this.#readWord(EXTRA.errorIndex))})`;
    else detail = this.#level.errors.get(uncaught.kind)?.(top.name) ?? `runtime error ${uncaught.kind}`;
    return { error: new RuntimeError(detail, top.line), payload: uncaught.payload, trace: uncaught.trace };
  }

  /** jot_interpret(f): machine code calls an interpreted function. */
  #interpretCallback(index: number): bigint {
    try {
      const entryRecord = this.#readWord(EX.entryRecord!);
      const exitPc = this.#readWord(EX.exitPc!);
      const exitFp = this.#readWord(EX.exitFp!);
      const saved = this.#jitMasmRegs().calleeSaved.map((_, i) => this.#readWord(savedField(i)));
      const callsLeft = BigInt.asIntN(64, this.#readWord(EX.callsLeft!));
      const fn = this.program.functions[index]!;
      const args = Array.from(this.#transferWords.subarray(0, fn.params.length));
      // The call is counted by the trampoline's tier_call, which also takes a promotion it causes.
      if (this.tiers[index] === 'interpreter' && this.#runs.length >= MAX_NESTED_RUNS) {
        // Interpreter runs nested this deep between machine segments fill TypeScript's own
        // stack: the function is compiled whatever its counters say, and from its next call
        // on, the machine code calls machine code.
        this.#promote(index);
      }
      const roots = machineRoots(this.#jit, this.#code.address, entryRecord, exitPc, exitFp);
      this.#suspended.push({ roots });
      let outcome: Outcome;
      try {
        outcome = this.#interpret(index, args, MAX_CALL_DEPTH - Number(callsLeft) - 1);
      } finally {
        this.#suspended.pop();
      }
      // The nested runs changed the context's words for their own segments: back to this one's.
      this.#writeWord(EX.entryRecord!, entryRecord);
      this.#writeWord(EX.callsLeft!, BigInt.asUintN(64, callsLeft));
      if (outcome.exception === undefined) {
        this.#writeWord(TX.pending!, 0n);
        return outcome.result;
      }
      const crossing = outcome.exception;
      if (crossing.payload !== undefined) {
        this.#writeWord(TX.pending!, 1n);
        this.#writeWord(TX.pendingPayload!, crossing.payload);
        this.#rethrown = { crossing, throwsBefore: throwStats(this.#jit).throws };
        return 0n;
      }
      // No handler may catch it: every frame of this segment goes, as in chapter 11's out of memory.
      this.#endSegment(entryRecord, exitPc, exitFp, saved, crossing);
      this.#writeWord(TX.pending!, 2n);
      return 0n;
    } catch (error) {
      // No JavaScript exception may cross machine frames: end the segment and report it after.
      this.#hostError ??= error;
      this.#writeWord(TX.pending!, 0n);
      return 0n;
    }
  }

  #hostError: unknown;

  /** The resume state that removes every frame of the segment stopped at (exitPc, exitFp). */
  #endSegment(entryRecord: bigint, exitPc: bigint, exitFp: bigint, saved: readonly bigint[], crossing: Crossing): void {
    const table = unwindTable(this.#tables);
    const calleeSaved = this.#jitMasmRegs().calleeSaved;
    const values = new Map<Register, bigint>(calleeSaved.map((reg, i) => [reg, saved[i]!]));
    const machine = { base: this.#code.address, entryRecord, read: pageReader() };
    const trace: TraceFrame[] = [];
    let frames = 0;
    for (const frame of segmentFrames(table, machine, exitPc, exitFp)) {
      trace.push({ name: this.program.functions[frame.fn.index]?.name ?? frame.fn.name, line: frame.site.line });
      for (const { register, offset } of frame.fn.saved) values.set(register, machine.read(frame.fp + BigInt(offset)));
      frames++;
    }
    calleeSaved.forEach((reg, i) => this.#writeWord(savedField(i), values.get(reg)!));
    const entry = table.entry!;
    this.#writeWord(EX.resumeSp!, entryRecord - BigInt(entry.frameSize));
    this.#writeWord(EX.resumeFp!, entryRecord);
    this.#writeWord(EX.resumePc!, this.#code.address + BigInt(offsetOf(entry.pending)));
    const callsLeft = BigInt.asIntN(64, this.#readWord(EX.callsLeft!));
    this.#writeWord(EX.callsLeft!, BigInt.asUintN(64, callsLeft + BigInt(frames)));
    this.#ended = { ...crossing, trace: [...crossing.trace, ...trace] };
  }

  #jitMasmRegs(): MacroAssembler['regs'] {
    return this.#masm.regs;
  }

  #writeWord(offset: number, value: bigint): void {
    this.#contextWords[offset / 8] = BigInt.asUintN(64, value);
  }

  #readWord(offset: number): bigint {
    return this.#contextWords[offset / 8]!;
  }
}

const EXTRA = {
  errorIndex: TX.errorIndex!,
  errorLength: TX.errorLength!,
};

/** The error to raise in the interpreter for `crossing`, carrying its trace so far. */
function raising(crossing: Crossing): RuntimeError {
  innerTraces.set(crossing.error, crossing.trace);
  return crossing.error;
}

/** The memory of `region` (writable data, never code) as an ArrayBuffer over it. */
function wordsOf(region: CodeRegion): ArrayBuffer {
  return koffi.view(region.address as unknown as number, region.size) as ArrayBuffer;
}

/** `f: interpreter → baseline after 3 calls and 0 back edges` */
export function describePromotion(p: Promotion): string {
  const at = p.osrAt === undefined ? '' : `, entering at the loop header ${String(p.osrAt).padStart(4, '0')}`;
  return `[tiers] ${p.function}: ${p.from} → ${p.to} after ${p.calls} calls and ${p.loops} back edges${at}`;
}

