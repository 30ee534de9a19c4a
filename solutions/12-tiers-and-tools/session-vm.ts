/**
 * Chapter 12: one tiered VM for a whole REPL session. Functions keep their counters and their
 * compiled code from one input to the next; a redefinition sends only what it touches back
 * to the interpreter.
 *
 * Every input is compiled to bytecode as a whole program (repl-session.ts), whose function
 * indices follow the source. The VM's are fixed for the session: each name gets a *slot*
 * the first time it is loaded, `main` (the input itself) slot 0, the others in the order
 * they first appear, and a call's operand is rewritten from the compiled program's index to
 * the callee's slot:
 *
 *   compiled program         session VM
 *   0 square                 0 main              (every input's main, in slot 0)
 *   1 sum_of_squares         1 square
 *   2 main                   2 sum_of_squares
 *                            3 … (free slot)     a dispatch and an interpreter stub each,
 *                                                an entry, a countdown: the VM was made
 *                                                with room for these
 *
 * Loading a program compares each function with what its slot holds (everything the
 * compilers read: bytecode, constants, lines, stack maps, handlers, types):
 *   - unchanged:  nothing happens; its counters and its compiled code stay
 *   - new or changed (a redefinition; or its lines moved because a declaration above it
 *     grew): the slot takes the new definition and goes back to the interpreter (its entry
 *     at its interpreter stub, counters at zero); a function `:jit` holds in a compiled tier
 *     is compiled again at once
 *   - unchanged, but it calls a function whose signature changed: its compiled code assumed
 *     the old types of the call's arguments and result, so it goes back to the interpreter
 *     too. Its callers need nothing: they call it through its slot's entry, and its own
 *     signature did not change. (The optimizing tier inlines no calls; a tier that did would
 *     have to send every caller of a changed function back as well.)
 *   - gone (set aside because it no longer type-checks, or forgotten): its slot is free
 *     again (kept for its name), so that no compiled code of an old definition stays
 *     reachable
 *
 * The VM grows by taking the place of a smaller one: when the functions outnumber its slots
 * (or a frame is wider than its transfer buffer), a VM with twice the slots is made, and
 * every function the program did not change is compiled in it at once in the tier it had
 * reached, its counters carried over. A new VM starts from nothing (every function back in
 * the interpreter) only when the old one cannot be trusted with the program: the record
 * types changed (their layouts are in the heap's shapes and in the code of every function
 * that touches a record), or a run ended with an error of the VM itself. Each new VM says
 * why it was made.
 */
import { Op, readU16, type CompiledFunction, type CompiledProgram, type OpcodeSet } from '#ch06/bytecode.ts';
import { MAX_PARAMS } from '#ch06/compiler.ts';
import type { CompiledCode, TierOptions } from './options.ts';
import type { TierName } from './vm.ts';
import type { TieredModules } from './vm-modules.ts';

type TieredVM = InstanceType<TieredModules['TieredVM']>;
type TieredHeap = InstanceType<TieredModules['TieredHeap']>;
export type RunEnding = ReturnType<TieredVM['run']>;

/** Slots a session's first VM has; a VM that runs out is replaced by one with twice as many. */
export const FIRST_CAPACITY = 64;
/** Operand-stack and local slots every frame may use: the transfer buffer holds this many words. */
const FRAME_WORDS = 1024;

export interface SessionVmOptions {
  readonly tiered: TieredModules;
  /** The language's opcodes: the instructions' sizes, to find every call. */
  readonly opcodes: OpcodeSet;
  /** The tier a function is held in (`:jit`), by name; undefined leaves it to the counters. */
  readonly tierOf: (name: string) => 'interpreter' | 'baseline' | 'optimized' | undefined;
  /** Receives what the program prints. */
  readonly print: (text: string) => void;
  /** Receives each promotion, as --trace-tiers prints it. */
  readonly trace: (line: string) => void;
  /** The thresholds (the defaults of options.ts when left out). */
  readonly thresholds?: Pick<TierOptions, 'tierUpCalls' | 'tierUpLoops' | 'tierUpOptimizedCalls'>;
  /** Slots of the first VM (FIRST_CAPACITY when left out). */
  readonly capacity?: number;
}

/** Compiled code a load sent back to the interpreter, and why. */
export interface DroppedCode {
  readonly name: string;
  /** The tier its code was in. */
  readonly tier: TierName;
  readonly why: 'redefined' | 'set aside' | { readonly calls: string } | { readonly callsStraight: string };
}

/** What loading a program did to the VM. */
export interface LoadReport {
  /** Why a new VM took the old one's place, when one did, and whether it carried the functions' tiers and counters over. */
  readonly newVm?: { readonly why: string; readonly carried: boolean };
  readonly dropped: readonly DroppedCode[];
}

export class SessionVM {
  readonly #options: SessionVmOptions;
  /** Each name's slot, for the whole session (across VMs): `main` is 0. */
  readonly #slots = new Map<string, number>([['main', 0]]);
  #vm: TieredVM | undefined;
  #heap: TieredHeap | undefined;
  /** The VM's program's function array, which the VM reads: one function per slot. */
  #functions: CompiledFunction[] = [];
  /** Local and operand-stack slots the VM's transfer buffer holds. */
  #frameWords = FRAME_WORDS;
  /** The record types the VM's heap knows, as text. */
  #records = '';
  /** Why the next load must start a new VM (the last run failed), if it must. */
  #broken: string | undefined;
  /** The latest code compiled for each function of the running VM, by name. */
  readonly #compiled = new Map<string, CompiledCode>();

  constructor(options: SessionVmOptions) {
    this.#options = options;
  }

  /** The slot of `name`, if it has one. */
  slotOf(name: string): number | undefined {
    return this.#slots.get(name);
  }

  /** The tier `name` runs in now (undefined when the VM does not hold it). */
  tierOf(name: string): TierName | undefined {
    const slot = this.#slots.get(name);
    if (this.#vm === undefined || slot === undefined || this.#functions[slot]?.name !== name) return undefined;
    return this.#vm.tiers[slot];
  }

  /** The latest code compiled for `name` in this VM (where it is, how long, which tier). */
  codeOf(name: string): CompiledCode | undefined {
    return this.#compiled.get(name);
  }

  /** Why the optimizing tier declined `name`, the last time it did. */
  declinedReason(name: string): string | undefined {
    return this.#vm?.declined.findLast((d) => d.function === name)?.reason;
  }

  /** Each function's counters so far: calls and back edges in the interpreter. */
  countersOf(name: string): { readonly calls: number; readonly loops: number } | undefined {
    const slot = this.#slots.get(name);
    if (this.#vm === undefined || slot === undefined || this.#functions[slot]?.name !== name) return undefined;
    return { calls: this.#vm.calls[slot]!, loops: this.#vm.loops[slot]! };
  }

  /**
   * Makes the VM run `program` (a whole program of the session: its declarations and an
   * input's main) from its next run on; see the top of this file for what changes.
   */
  load(program: CompiledProgram): LoadReport {
    for (const fn of program.functions) this.#slotOf(fn.name); // slots in the order of the source
    const functions = program.functions.map((fn) => this.#slotted(fn, program));
    const records = JSON.stringify(recordsOf(program.functions[program.main]!));
    const restarted = this.#mustRestart(functions, records);
    if (this.#vm === undefined || restarted !== undefined) {
      this.#start(functions, records, restarted?.carry === true);
      return restarted === undefined ? { dropped: [] } : { newVm: { why: restarted.why, carried: restarted.carry }, dropped: [] };
    }
    const vm = this.#vm;
    const incoming = new Map(functions.map((fn) => [fn.index, fn]));
    const changed = new Map<number, CompiledFunction>();
    const dropped: DroppedCode[] = [];
    const note = (index: number, why: DroppedCode['why']) => {
      const tier = vm.tiers[index]!;
      const name = this.#functions[index]!.name;
      if (tier !== 'interpreter' && index !== 0) dropped.push({ name, tier, why });
    };
    const retyped = new Set<number>();
    for (const fn of functions) {
      const old = this.#functions[fn.index]!;
      if (fingerprint(old) === fingerprint(fn)) continue;
      if (old.name === fn.name && signature(old) !== signature(fn)) retyped.add(fn.index);
      note(fn.index, 'redefined');
      changed.set(fn.index, fn);
    }
    for (const fn of functions) {
      if (changed.has(fn.index)) continue;
      const callee = callees(fn, this.#options.opcodes).find((index) => retyped.has(index));
      if (callee === undefined) continue;
      note(fn.index, { calls: this.#functions[callee]!.name });
      changed.set(fn.index, fn);
    }
    for (const [name, index] of this.#slots) {
      const held = this.#functions[index];
      if (incoming.has(index) || held === undefined || held.name !== name) continue;
      note(index, 'set aside');
      changed.set(index, freeSlot(index, this.#frameWords));
    }
    // Optimized code that calls a changed function's optimized code straight goes with it
    // (the VM resets those callers itself; this says so), and so on up.
    for (const [caller, callee] of vm.straightCallersOf([...changed.keys()])) {
      if (caller === 0) continue;
      note(caller, { callsStraight: this.#functions[callee]!.name });
      changed.set(caller, this.#functions[caller]!);
    }
    for (const index of changed.keys()) this.#compiled.delete(this.#functions[index]!.name);
    vm.replaceFunctions([...changed.values()]); // into the VM's program: this.#functions
    return { dropped };
  }

  /** Compiles `name` in the tier `tierOf` holds it in now (after `:jit`); the program must be loaded. */
  hold(name: string): void {
    const slot = this.#slots.get(name);
    if (this.#vm === undefined || slot === undefined) throw new Error(`${name} is not loaded in the session's VM`);
    this.#vm.holdTier(slot);
  }

  /** Runs the loaded program's main. */
  run(): RunEnding {
    if (this.#vm === undefined) throw new Error('nothing is loaded in the session\'s VM');
    try {
      return this.#vm.run();
    } catch (error) {
      // An error of the VM itself (not of the program): its state is not to be trusted.
      this.#broken = `the last run ended with an error of the VM (${(error as Error).message})`;
      throw error;
    }
  }

  dispose(): void {
    this.#vm?.dispose();
    this.#heap?.dispose();
    this.#vm = undefined;
    this.#heap = undefined;
  }

  /** The slot of `name`, given it now if it has none yet. */
  #slotOf(name: string): number {
    let slot = this.#slots.get(name);
    if (slot === undefined) this.#slots.set(name, (slot = this.#slots.size));
    return slot;
  }

  /** `fn` with its slot as its index, and its calls' operands rewritten to slots. */
  #slotted(fn: CompiledFunction, program: CompiledProgram): CompiledFunction {
    const code = Uint8Array.from(fn.code);
    const { opcodes } = this.#options;
    for (let pc = 0; pc < code.length; pc += opcodes.size(code[pc]!)) {
      if (code[pc] !== Op.call) continue;
      const slot = this.#slotOf(program.functions[readU16(code, pc + 1)]!.name);
      code[pc + 1] = slot & 0xff;
      code[pc + 2] = slot >> 8;
    }
    return { ...fn, index: this.#slotOf(fn.name), code };
  }

  /**
   * Why the VM cannot take `functions`, or undefined when it can; `carry`: a bigger VM may
   * take over the unchanged functions' tiers and counters.
   */
  #mustRestart(functions: readonly CompiledFunction[], records: string): { readonly why: string; readonly carry: boolean } | undefined {
    if (this.#vm === undefined) return undefined;
    if (this.#broken !== undefined) return { why: this.#broken, carry: false };
    if (records !== this.#records) return { why: 'the record types changed: their layouts are in the heap and in compiled code', carry: false };
    const capacity = this.#functions.length;
    if (functions.some((fn) => fn.index >= capacity)) return { why: `more functions than its ${capacity} slots`, carry: true };
    const wide = functions.find((fn) => fn.locals + fn.maxStack > this.#frameWords);
    if (wide !== undefined) return { why: `${wide.name}'s frame is wider than its transfer buffer`, carry: true };
    return undefined;
  }

  /**
   * A new VM (and heap) holding `functions`, each in its slot, the other slots free; with
   * `carry`, each function the old VM held unchanged gets its counters and its tier back.
   */
  #start(functions: readonly CompiledFunction[], records: string, carry: boolean): void {
    const old = this.#vm;
    const kept = !carry || old === undefined ? [] : functions.flatMap((fn) => {
      const before = this.#functions[fn.index];
      if (before === undefined || fingerprint(before) !== fingerprint(fn)) return [];
      return [{ index: fn.index, tier: old.tiers[fn.index]!, calls: old.calls[fn.index]!, loops: old.loops[fn.index]! }];
    });
    this.dispose();
    this.#broken = undefined;
    this.#compiled.clear();
    const needed = Math.max(this.#slots.size, ...functions.map((fn) => fn.index + 1));
    let capacity = Math.max(this.#options.capacity ?? FIRST_CAPACITY, this.#functions.length);
    while (capacity < needed) capacity *= 2;
    const frameWords = Math.max(FRAME_WORDS, ...functions.map((fn) => fn.locals + fn.maxStack));
    this.#frameWords = frameWords;
    const slots = Array.from({ length: capacity }, (_, index) => freeSlot(index, frameWords));
    for (const fn of functions) slots[fn.index] = fn;
    this.#functions = slots;
    this.#records = records;
    const { tiered, tierOf, print, trace, thresholds } = this.#options;
    const heap = new tiered.TieredHeap({});
    try {
      this.#vm = new tiered.TieredVM({ functions: slots, main: 0 }, heap, {
        ...thresholds,
        tierOf,
        traceTiers: trace,
        onCompiled: (code) => this.#compiled.set(code.name, code),
      }, print);
    } catch (error) {
      heap.dispose();
      throw error;
    }
    this.#heap = heap;
    const vm = this.#vm;
    for (const { index, tier, calls, loops } of kept) {
      vm.calls[index] = calls;
      vm.loops[index] = loops;
      if (tier !== 'interpreter') vm.compileIn(index, tier);
    }
  }
}

/**
 * A free slot: a function no code calls, with as many parameters as any function may have
 * (its interpreter stub stores every argument register) and a frame as wide as any the
 * session may load (the VM sizes its transfer buffer by the widest).
 */
function freeSlot(index: number, frameWords: number): CompiledFunction {
  return {
    name: `(free slot ${index})`,
    index,
    params: Array.from({ length: MAX_PARAMS }, () => 'int'),
    returnType: 'int',
    locals: MAX_PARAMS,
    maxStack: frameWords - MAX_PARAMS,
    code: Uint8Array.of(Op.const, 0, 0, Op.ret),
    constants: [0n],
    lines: [],
    line: 0,
    stackMaps: new Map(),
  };
}

/** The slots `fn` calls. */
function callees(fn: CompiledFunction, opcodes: OpcodeSet): number[] {
  const found: number[] = [];
  for (let pc = 0; pc < fn.code.length; pc += opcodes.size(fn.code[pc]!)) if (fn.code[pc] === Op.call) found.push(readU16(fn.code, pc + 1));
  return found;
}

function signature(fn: CompiledFunction): string {
  return `(${fn.params.join(', ')}): ${fn.returnType}`;
}

/** Everything the compilers and the runtime read of `fn` but its index, as one string. */
function fingerprint(fn: CompiledFunction): string {
  return JSON.stringify({ ...fn, index: 0 }, (_, value: unknown) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (value instanceof Uint8Array) return Array.from(value);
    if (value instanceof Map) return [...value.entries()];
    return value;
  });
}

/** Chapter 11's record types, which the bytecode compiler puts on every function (none before it). */
function recordsOf(fn: CompiledFunction): unknown {
  return (fn as { records?: unknown }).records ?? [];
}
