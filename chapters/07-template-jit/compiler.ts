/**
 * Chapter 07: the template compiler, bytecode to machine code in one pass.
 *
 * Each function's bytecode is read once, front to back, and every instruction is replaced
 * by a fixed little sequence of MacroAssembler calls, its *template*. Nothing is analysed
 * and nothing is optimized: the machine code does exactly what the interpreter of chapter
 * 06 does, minus the interpreter (no dispatch, no decoding, no `pc` to keep).
 *
 * The frame of a compiled function is the interpreter's frame, moved to the machine stack:
 *
 *   slot 0 … locals-1                 the locals (parameters first)
 *   slot locals … locals+maxStack-1   the operand stack
 *
 * The operand stack's depth at every instruction is known while compiling (the chapter 06
 * compiler made sure of that), so "the top of the stack" is always a slot number fixed at
 * compile time: `add` at depth 5 with 2 locals reads slots 5 and 6 and writes slot 5. No
 * stack pointer is kept at run time.
 *
 * The MacroAssembler's two pinned registers hold the run's state (set by the entry stub,
 * see jit.ts), so no register allocator ever hands them out:
 *   ctx        the context: callback addresses and the run state (runtime.ts)
 *   callsLeft  how many more calls may start before the depth limit: a cache of the
 *              context's word, written back and read again around every call into
 *              TypeScript (`#callRuntime`)
 * The third run-state word, `failed` (0, or 1 once a runtime error has been reported: every
 * frame returns at once), stays in the context, where `jot_error` sets it: a caller reads it
 * right after each call.
 *
 * Later chapters extend the compiler without editing this file, through a `JitLevel`: a
 * template for each opcode they add (or one that replaces a core template), and named
 * hooks where existing behaviour changes (`prologue`, `afterCall`, `afterBody`, `entry`, and
 * `machine` for tiers without templates).
 */
import type { CodeRegion } from '#ch01/code-region.ts';
import type { Frame, Label, MacroAssembler, Register } from '#ch04/macro-assembler.ts';
import { CORE_OPCODES, Op, lineAt, readU16, type CompiledFunction, type CompiledProgram, type OpcodeSet } from '#ch06/bytecode.ts';
import { CONTEXT, CORE_CONTEXT, ERROR_KIND, type ContextLayout, type Runtime } from './runtime.ts';
import type { JitProgram } from './jit.ts';
import { todo } from '#native/todo.ts';

/**
 * The registers compiled code gives a fixed meaning to. The run state lives in the
 * MacroAssembler's pinned registers (callee-saved, never handed out by an allocator), so
 * every other callee-saved register is free for later tiers. Every tier takes its
 * registers from here, and nowhere else.
 */
export interface JitRegisters {
  /** Pinned: the address of the context (callback addresses, run state). */
  readonly ctx: Register;
  /** Pinned: how many more calls may start (a cache of CONTEXT.callsLeft). */
  readonly callsLeft: Register;
  /**
   * Two registers for the templates' own use: the result register and the first scratch
   * register. Nothing survives in them from one instruction to the next.
   */
  readonly t0: Register;
  readonly t1: Register;
}

export function jitRegisters(masm: MacroAssembler): JitRegisters {
  const { pinned, result, scratch } = masm.regs;
  return { ctx: pinned[0]!, callsLeft: pinned[1]!, t0: result, t1: scratch[0]! };
}

/**
 * Calls the callback whose address is at `offset` in the context, through `scratch`. The
 * cached run state goes to the context before (TypeScript reads it there) and comes back
 * after (a callback may change it). The arguments are in place already. Every tier that
 * calls into TypeScript calls through here.
 */
export function emitRuntimeCall(masm: MacroAssembler, registers: JitRegisters, offset: number, scratch: Register): void {
  const { ctx, callsLeft } = registers;
  masm.store(callsLeft, ctx, CONTEXT.callsLeft);
  masm.load(scratch, ctx, offset);
  masm.callRegister(scratch);
  masm.load(callsLeft, ctx, CONTEXT.callsLeft);
}

/** The text of one bytecode instruction, for listings: `0006 jump_if_false 0014`. */
export function describeInstruction(fn: CompiledFunction, pc: number, functions: readonly CompiledFunction[], opcodes: OpcodeSet = CORE_OPCODES): string {
  const info = opcodes.byCode[fn.code[pc]!]!;
  const parts: string[] = [String(pc).padStart(4, '0'), info.name];
  let at = pc + 1;
  for (const kind of info.operands) {
    const value = kind === 'u8' ? fn.code[at]! : readU16(fn.code, at);
    at += kind === 'u8' ? 1 : 2;
    parts.push(info.name === 'jump' || info.name === 'jump_if_false' ? String(value).padStart(4, '0') : String(value));
  }
  if (info.name === 'const') parts.push(`(${fn.constants[readU16(fn.code, pc + 1)]})`);
  if (info.name === 'call') parts.push(`(${functions[readU16(fn.code, pc + 1)]?.name ?? '?'})`);
  return parts.join(' ');
}

interface ErrorStub {
  readonly label: Label;
  readonly kind: number;
  readonly line: number;
}

/**
 * Facts a later chapter keeps beside the machine code of one compiled program (chapter 10:
 * unwind tables keyed by return offsets). One per program: every tier compiling into the
 * same buffer sees the same object, and so does the program when it runs.
 */
export class CodeTables {
  readonly #tables = new Map<string, unknown>();

  /** The table named `name`, made by `make` on first use. */
  get<T>(name: string, make: () => T): T {
    if (!this.#tables.has(name)) this.#tables.set(name, make());
    return this.#tables.get(name) as T;
  }
}

/** What a template of a later chapter sees of the compiler, at the instruction it compiles. */
export interface TemplateContext {
  readonly masm: MacroAssembler;
  readonly fn: CompiledFunction;
  readonly program: CompiledProgram;
  readonly registers: JitRegisters;
  readonly layout: ContextLayout;
  /** The bytecode offset of the instruction. */
  readonly pc: number;
  /** Values on the operand stack; a template sets it to the depth after its instruction. */
  depth: number;
  /** The stack slot of operand stack entry `i` (0 is the bottom). */
  slot(i: number): number;
  /** The label of an error path reporting `kind` (a key of the level's `errors`) at this line. */
  error(kind: number): Label;
  /** Where a frame goes to leave after a runtime error. */
  readonly exit: Label;
  /** The label of bytecode offset `target`, which code reaches with `depth` values on the operand stack. */
  jumpTarget(target: number, depth: number): Label;
  /** Calls the TypeScript callback whose address is at `offset` in the context, keeping the run state in sync. */
  callRuntime(offset: number): void;
  /** The function's frame, as the prologue made it. */
  readonly frame: Frame;
  /** The program's side tables. */
  readonly tables: CodeTables;
  /** The label of function `index`'s code (for a template of its own for `call`). */
  functionLabel(index: number): Label;
}

export type Template = (t: TemplateContext) => void;

/** Emits the entry stub (chapter 07: `emitEntry` in jit.ts), the code TypeScript calls to run `main`. */
export type EntryStub = (masm: MacroAssembler, main: Label, tables: CodeTables) => void;

/** What the hooks around a run see: the program, its code in memory, and the run's runtime. */
export interface RunState {
  readonly program: JitProgram;
  readonly code: CodeRegion;
  readonly runtime: Runtime;
}

/** What a tier that emits code without templates (chapter 09) tells a function's hooks. */
export interface MachineSite {
  readonly masm: MacroAssembler;
  readonly registers: JitRegisters;
  /** The function's index in the program. */
  readonly functionIndex: number;
  /** The function's frame, as its prologue made it. */
  readonly frame: Frame;
  /** The function's entry label and name. */
  readonly entry: Label;
  readonly name: string;
  /** Two registers the hook may clobber (the tier keeps nothing in them there). */
  readonly scratch: readonly [Register, Register];
  /** Where a frame goes to leave after a runtime error. */
  readonly exit: Label;
  readonly tables: CodeTables;
}

/** The hooks of a tier without templates; each replaces the behaviour named beside it. */
export interface MachineHooks {
  /** After the prologue saved registers and made the frame (chapter 07: nothing). */
  readonly prologue?: (site: MachineSite) => void;
  /** Right after a call returns, at `returnOffset`, for a call at `line` (chapter 07: the `failed` test). */
  readonly afterCall?: (site: MachineSite, returnOffset: number, line: number) => void;
  /** The body of a runtime error's stub (chapter 07: report through `jot_error`, then leave by `exit`). */
  readonly error?: (site: MachineSite, kind: number, line: number) => void;
  /** After the body and the error stubs, out of line (chapter 07: nothing). */
  readonly afterBody?: (site: MachineSite) => void;
  /** Why the tier must not compile function `index` of the program, or undefined if it may. */
  readonly declines?: (program: CompiledProgram, index: number) => string | undefined;
}

/**
 * Everything a chapter adds to the template compiler. Levels are values: `extendJit` returns
 * a new one and leaves its base alone, so two levels can live in one process.
 */
export interface JitLevel {
  readonly opcodes: OpcodeSet;
  /** Templates by opcode number: new opcodes, or replacements of core templates. */
  readonly templates: ReadonlyMap<number, Template>;
  /** After the prologue stored the arguments, before the body (chapter 10: a stack-limit check). */
  readonly prologue: Template | undefined;
  /** Right after a call returns, before its result is stored: the test for an error below. */
  readonly afterCall: Template;
  /** The context's layout; a later chapter appends its fields. */
  readonly layout: ContextLayout;
  /** Runtime error kinds: the message of each, given the name of the function it happened in. */
  readonly errors: ReadonlyMap<number, (functionName: string) => string>;
  /** Before each run, once the core fields are written: a later chapter writes its own fields. */
  readonly beforeRun: ((context: CodeRegion, run: RunState) => void) | undefined;
  /** After each run, before the runtime closes, also when the run threw. */
  readonly afterRun: ((context: CodeRegion, run: RunState) => void) | undefined;
  /** After the body and the error stubs, out of line (chapter 10: the landing pads of handlers). */
  readonly afterBody: Template | undefined;
  /** The entry stub; undefined: chapter 07's. */
  readonly entry: EntryStub | undefined;
  /** The hooks of the optimizing tier (chapter 09), which emits code without templates. */
  readonly machine: MachineHooks;
}

/** The part of a level a later chapter changes; anything it leaves out stays as it was. */
export interface JitExtension {
  readonly opcodes?: OpcodeSet;
  readonly templates?: ReadonlyMap<number, Template>;
  readonly prologue?: Template;
  readonly afterCall?: Template;
  readonly layout?: ContextLayout;
  readonly errors?: ReadonlyMap<number, (functionName: string) => string>;
  /** Runs after the base level's own `beforeRun`. */
  readonly beforeRun?: (context: CodeRegion, run: RunState) => void;
  /** Runs before the base level's own `afterRun`. */
  readonly afterRun?: (context: CodeRegion, run: RunState) => void;
  readonly afterBody?: Template;
  readonly entry?: EntryStub;
  /** Hooks named here replace the base level's; the others stay. */
  readonly machine?: MachineHooks;
}

/** A new level: `base` with `extension`'s templates and errors added and its hooks in place. */
export function extendJit(base: JitLevel, extension: JitExtension): JitLevel {
  return Object.freeze({
    opcodes: extension.opcodes ?? base.opcodes,
    templates: new Map([...base.templates, ...(extension.templates ?? [])]),
    prologue: extension.prologue ?? base.prologue,
    afterCall: extension.afterCall ?? base.afterCall,
    layout: extension.layout ?? base.layout,
    errors: new Map([...base.errors, ...(extension.errors ?? [])]),
    beforeRun: chain(base.beforeRun, extension.beforeRun),
    afterRun: chain(extension.afterRun, base.afterRun),
    afterBody: extension.afterBody ?? base.afterBody,
    entry: extension.entry ?? base.entry,
    machine: Object.freeze({ ...base.machine, ...extension.machine }),
  });
}

type RunHook = (context: CodeRegion, run: RunState) => void;

function chain(first: RunHook | undefined, second: RunHook | undefined): RunHook | undefined {
  if (first === undefined || second === undefined) return first ?? second;
  return (context, run) => {
    first(context, run);
    second(context, run);
  };
}

/**
 * A runtime error below returned with the context's `failed` word set: leave this frame
 * too, and so on up to the entry stub. Right after a call nothing lives in t1.
 */
function unwindIfFailed(t: TemplateContext): void {
  t.masm.load(t.registers.t1, t.registers.ctx, CONTEXT.failed);
  t.masm.branchIfNonZero(t.registers.t1, t.exit);
}

/** Chapter 07's level: the core opcodes, no prologue check, the `failed` test after each call. */
export const CORE_JIT: JitLevel = Object.freeze({
  opcodes: CORE_OPCODES,
  templates: new Map<number, Template>(),
  prologue: undefined,
  afterCall: unwindIfFailed,
  layout: CORE_CONTEXT,
  errors: new Map<number, (functionName: string) => string>([
    [ERROR_KIND.divisionByZero, () => 'division by zero'],
    [ERROR_KIND.stackOverflow, (name) => `stack overflow in ${name}`],
  ]),
  beforeRun: undefined,
  afterRun: undefined,
  afterBody: undefined,
  entry: undefined,
  machine: Object.freeze({}),
});

/**
 * Compiles one function at the current position of `masm`. `entries[i]` is the label of
 * function i (bound or not yet bound: calls to later functions are forward references).
 */
export class BaselineCompiler {
  readonly #masm: MacroAssembler;
  readonly #fn: CompiledFunction;
  readonly #program: CompiledProgram;
  readonly #entries: readonly Label[];
  readonly #r: JitRegisters;
  /** A label per bytecode offset that starts an instruction, made on first use. */
  readonly #labels = new Map<number, Label>();
  /** The operand stack's depth at jump targets, recorded by the jumps that reach them. */
  readonly #depthAt = new Map<number, number>();
  readonly #stubs: ErrorStub[] = [];
  /** Where a frame goes after a runtime error: the epilogue, with no result. */
  readonly #exit: Label;
  /** Values on the operand stack before the instruction being compiled. */
  #depth = 0;
  /** False after `jump` and `ret`, until a label some jump aims at. */
  #reachable = true;
  readonly #level: JitLevel;
  readonly #tables: CodeTables;
  /** The frame the prologue made. */
  #frame: Frame | undefined;
  /** The level's templates by opcode number, for a quick test in the loop. */
  readonly #templates: readonly (Template | undefined)[];

  constructor(masm: MacroAssembler, fn: CompiledFunction, program: CompiledProgram, entries: readonly Label[], registers: JitRegisters, level: JitLevel = CORE_JIT, tables: CodeTables = new CodeTables()) {
    this.#masm = masm;
    this.#fn = fn;
    this.#program = program;
    this.#entries = entries;
    this.#r = registers;
    this.#exit = masm.newLabel(`${fn.name}.exit`);
    this.#level = level;
    this.#tables = tables;
    const templates: (Template | undefined)[] = new Array(256).fill(undefined);
    for (const [opcode, template] of level.templates) templates[opcode] = template;
    this.#templates = templates;
  }

  /** The view of this compiler a template of the level gets, at the instruction at `pc`. */
  #context(pc: number): TemplateContext {
    const self = this;
    return {
      masm: this.#masm,
      fn: this.#fn,
      program: this.#program,
      registers: this.#r,
      layout: this.#level.layout,
      pc,
      get depth() {
        return self.#depth;
      },
      set depth(value: number) {
        self.#depth = value;
      },
      slot: (i) => this.#slot(i),
      error: (kind) => this.#error(kind, pc),
      exit: this.#exit,
      jumpTarget: (target, depth) => this.#jumpTarget(target, depth),
      callRuntime: (offset) => this.#callRuntime(offset),
      frame: this.#frame!,
      tables: this.#tables,
      functionLabel: (index) => this.#entries[index]!,
    };
  }

  /** Calls the callback at `offset` in the context (emitRuntimeCall), through t1. */
  #callRuntime(offset: number): void {
    emitRuntimeCall(this.#masm, this.#r, offset, this.#r.t1);
  }

  compile(): void {
    const masm = this.#masm;
    const fn = this.#fn;
    masm.bind(this.#entries[fn.index]!);
    masm.comment(`${fn.name}: prologue, ${fn.locals} locals + ${fn.maxStack} stack slots`);
    this.#frame = masm.prologue(fn.locals + fn.maxStack);
    // The arguments arrive in registers; they become locals 0…n-1.
    fn.params.forEach((_, i) => masm.storeSlot(masm.regs.args[i]!, i));
    this.#level.prologue?.(this.#context(0));

    let pc = 0;
    while (pc < fn.code.length) {
      const recorded = this.#depthAt.get(pc);
      if (recorded !== undefined) this.#depth = recorded;
      else if (!this.#reachable) this.#depth = 0; // dead code after a return starts a statement
      this.#reachable = true;
      masm.bind(this.#labelAt(pc));
      masm.comment(describeInstruction(fn, pc, this.#program.functions, this.#level.opcodes));
      const template = this.#templates[fn.code[pc]!];
      if (template === undefined) this.#instruction(pc);
      else template(this.#context(pc));
      pc += this.#level.opcodes.size(fn.code[pc]!);
    }

    // Out of line, after the body: the error paths, which ordinary runs never enter.
    for (const stub of this.#stubs) this.#errorStub(stub);
    this.#level.afterBody?.(this.#context(fn.code.length));
    masm.bind(this.#exit);
    masm.comment(`${fn.name}: unwinding after a runtime error`);
    masm.epilogue();
  }

  /** The stack slot of operand stack entry `i` (0 is the bottom). */
  #slot(i: number): number {
    return this.#fn.locals + i;
  }

  #labelAt(offset: number): Label {
    let label = this.#labels.get(offset);
    if (label === undefined) {
      label = this.#masm.newLabel(`${this.#fn.name}@${String(offset).padStart(4, '0')}`);
      this.#labels.set(offset, label);
    }
    return label;
  }

  /** A jump to `target` leaves `depth` values on the stack; the target starts with them. */
  #jumpTarget(target: number, depth: number): Label {
    const known = this.#depthAt.get(target);
    if (known !== undefined && known !== depth) {
      throw new Error(`${this.#fn.name}: jumps reach offset ${target} with stack depths ${known} and ${depth}: the depth this compiler tracks differs between the paths, or the bytecode is wrong`);
    }
    this.#depthAt.set(target, depth);
    return this.#labelAt(target);
  }

  #instruction(pc: number): void {
    const masm = this.#masm;
    const { t0, t1 } = this.#r;
    const code = this.#fn.code;
    const top = this.#slot(this.#depth - 1); // the top of the stack
    const next = this.#slot(this.#depth); //    the first free slot
    const opcode = code[pc]!;
    // TODO (your part): the templates below, and #unary, #division, #call and #errorStub.
    // const, load and add are done as worked examples; compile() (the walk, the labels, the
    // stack depth at jump targets) and #callRuntime are given.
    switch (opcode) {
      case Op.const:
        masm.moveImmediate(t0, this.#fn.constants[readU16(code, pc + 1)]!);
        masm.storeSlot(t0, next);
        this.#depth++;
        break;
      case Op.load:
        masm.loadSlot(t0, code[pc + 1]!);
        masm.storeSlot(t0, next);
        this.#depth++;
        break;
      // TODO: store and pop (a store pops the top into a local; pop needs no machine code).

      case Op.add:
        this.#binary((dst, a, b) => masm.add(dst, a, b));
        break;

      // TODO: sub, mul, bit_and, bit_or, bit_xor, shl, sar, shr through #binary; the
      // comparisons eq … ge with masm.setIf; neg, bit_not and not through #unary; div and
      // mod through #division.

      // TODO: jump and jump_if_false. The target is readU16(code, pc + 1); aim at
      // this.#jumpTarget(target, depth) with the depth the target starts with. After an
      // unconditional jump the next instruction is unreachable (this.#reachable = false).
      // jump_if_false branches with branchIfImmediate: the assembler makes it reach, in big functions too.

      // TODO: call through #call(readU16(code, pc + 1), code[pc + 3]!, pc).

      // TODO: ret: the top of the stack into masm.regs.result, then masm.epilogue().

      // TODO: print and print_bool: the value in the first argument register, then
      // this.#callRuntime(CONTEXT.print or CONTEXT.printBool), which calls the callback whose
      // address is in the context. Mind AArch64, where the result register t0 is also args[0].

      default:
        if (CORE_OPCODES.byCode[opcode] !== undefined) todo(`template for ${CORE_OPCODES.byCode[opcode]!.name}`);
        throw new Error(`${this.#fn.name}: unknown opcode 0x${opcode.toString(16)} at offset ${pc}`);
    }
  }

  /** a b → (a op b): both operands from their slots, the result into a's slot. */
  #binary(op: (dst: Register, a: Register, b: Register) => void): void {
    const { t0, t1 } = this.#r;
    const a = this.#slot(this.#depth - 2);
    const b = this.#slot(this.#depth - 1);
    this.#masm.loadSlot(t0, a);
    this.#masm.loadSlot(t1, b);
    op(t0, t0, t1);
    this.#masm.storeSlot(t0, a);
    this.#depth--;
  }

  #unary(op: (dst: Register, a: Register) => void): void {
    // TODO: like #binary, with one operand: load the top slot, op, store it back.
    void op;
    return todo('BaselineCompiler.#unary');
  }

  /**
   * a b → a / b or a % b, defined for every input on both ISAs:
   *   b == 0    the runtime error `division by zero at line N`
   *   b == -1   a / -1 is -a (wrapping: -INT64_MIN is INT64_MIN) and a % -1 is 0, without
   *             the divide instruction, which traps on x86-64 for INT64_MIN / -1
   *   otherwise the machine's own signed division
   */
  #division(isDiv: boolean, pc: number): void {
    // TODO: load both operands; a zero divisor branches (masm.branchIfImmediate) to this.#error(ERROR_KIND.divisionByZero, pc);
    // a divisor of -1 gives -a (div) or 0 (mod) without the divide instruction; otherwise
    // masm.div or masm.rem. The result goes to a's slot and the stack shrinks by one.
    void isDiv;
    void pc;
    return todo('BaselineCompiler.#division');
  }

  /**
   * … arg0 … argN-1 → … result. The arguments go to the argument registers, `call` jumps
   * straight to the callee's code, and the result comes back in the result register.
   */
  #call(callee: number, argc: number, pc: number): void {
    // TODO: 1. if callsLeft is 0, branch (masm.branchIfImmediate) to this.#error(ERROR_KIND.stackOverflow, pc);
    //       2. callsLeft - 1; the arguments (slots first … first+argc-1) into masm.regs.args;
    //       3. masm.call(this.#entries[callee]!); callsLeft + 1;
    //       4. the level's test for an error below: this.#level.afterCall(this.#context(pc))
    //          (chapter 07's: if the context's failed word is nonzero, leave through this.#exit);
    //       5. the result register into the slot of the first argument; depth = first + 1.
    void callee;
    void argc;
    void pc;
    return todo('BaselineCompiler.#call');
  }

  /** The label of an error path for `kind` at the line of `pc`, emitted after the body. */
  #error(kind: number, pc: number): Label {
    const line = lineAt(this.#fn, pc);
    const existing = this.#stubs.find((s) => s.kind === kind && s.line === line);
    if (existing) return existing.label;
    const label = this.#masm.newLabel(`${this.#fn.name}.error${this.#stubs.length}`);
    this.#stubs.push({ label, kind, line });
    return label;
  }

  /** Reports the error to TypeScript (which marks the run as failed) and leaves the frame. */
  #errorStub(stub: ErrorStub): void {
    // TODO: bind stub.label; the arguments (stub.kind, this.#fn.index, stub.line) into
    // masm.regs.args[0..2]; this.#callRuntime(CONTEXT.error) (the runtime sets failed in the
    // context, where every caller reads it after its call); jump to this.#exit.
    void stub;
    return todo('BaselineCompiler.#errorStub');
  }
}
