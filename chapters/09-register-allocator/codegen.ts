/**
 * Chapter 09: code generation, from an `AllocatedFunction` to machine code through the
 * MacroAssembler, for either ISA.
 *
 * The frame is chapter 07's (frame-pointer chained, the same on both ISAs): the prologue
 * saves the callee-saved registers the allocation uses and reserves one slot per spilled
 * value. Calls follow chapter 07's protocol exactly, so optimized and template-compiled
 * functions call each other freely:
 *
 *   before a call   if no calls are left: "stack overflow in F" at the call's line
 *                   callsLeft -= 1; the arguments into the argument registers
 *   after it        callsLeft += 1; if `failed` is set, leave the frame at once
 *
 * Runtime errors go through chapter 07's runtime (`jot_error`) from stubs after the
 * function's body, with the same kinds, messages and lines as every other tier.
 *
 * A later chapter changes three places through its level's `machine` hooks, as it changes
 * chapter 07's templates: after the prologue, after a call returns, and the body of an error
 * stub (chapter 10: the stack-limit check, unwind tables, and throwing instead of `failed`).
 *
 * Instruction selection happens here, one IR instruction at a time: an operand that is a
 * constant becomes an immediate where the instruction has a form for it (`add`, compares
 * and branches); a branch on a compare is one compare-and-branch; a spilled operand is
 * loaded into a scratch register first, a spilled result stored from one after.
 */
import { negate, type Condition, type Frame, type Label, type MacroAssembler, type Register } from '#ch04/macro-assembler.ts';
import { CodeTables, emitRuntimeCall, jitRegisters, type JitLevel, type JitRegisters, type MachineHooks, type MachineSite } from '#ch07/compiler.ts';
import { CONTEXT, ERROR_KIND } from '#ch07/runtime.ts';
import type { BuildExtension } from '#ch08/build.ts';
import type { Func, Inst } from '#ch08/ir.ts';
import type { OpTable } from '#ch08/ops.ts';
import type { AllocationDetails, AllocationOptions } from './allocate.ts';
import type { AllocatedFunction, Location, MachineBlock, MachineInst, Move, Operand } from './machine.ts';
import { todo } from '#native/todo.ts';

/** What code generation needs to know about the rest of the program. */
export interface CodegenContext {
  readonly masm: MacroAssembler;
  /** Every function's label, by function index (calls are direct). */
  readonly entries: readonly Label[];
  /** Function indices by name. */
  readonly indexOf: ReadonlyMap<string, number>;
  /** This function's index (runtime errors name it). */
  readonly functionIndex: number;
  readonly level: JitLevel;
  /** The program's side tables (default: a table of this function's own). */
  readonly tables?: CodeTables;
  /**
   * Where the code starts (default: `entries[functionIndex]`). Chapter 12's on-stack
   * replacement variants start at a label of their own, while their calls of the function
   * itself still go to its entry.
   */
  readonly start?: Label;
}

/**
 * What a later chapter adds to the optimizing tier beside its level's other machine hooks
 * (chapter 10: `throw`): how its bytecode becomes IR, the table of IR operations with its
 * own in it, and the code of each operation it added.
 */
export interface OptimizingExtension {
  readonly build: BuildExtension;
  readonly ops: OpTable;
  /** By IR operation: its code, given the registers its operands are in. */
  readonly emit: ReadonlyMap<string, (site: MachineSite, inst: Inst, operands: readonly Register[]) => void>;
  /**
   * By IR operation: its code, for operations that load their operands themselves (more than
   * two, or in an order of their own) and may write a result (chapter 11: the heap's).
   */
  readonly emitWith?: ReadonlyMap<string, (site: MachineSite, mi: MachineInst, code: AddedCode) => void>;
  /** What register allocation must respect (chapter 11: allocations call out; references stay in memory across calls). */
  readonly allocation?: AllocationOptions;
  /** Sees each function after allocation, before its code is emitted; throwing declines the function (chapter 11: the GC-point verifier). */
  readonly allocated?: (ir: Func, details: AllocationDetails) => void;
  /** After every call of the optimizing tier, at its return offset (chapter 11: the call's stack map). */
  readonly gcPoint?: (site: MachineSite, returnOffset: number, mi: MachineInst, fn: AllocatedFunction) => void;
}

/** What the code of an operation in `emitWith` is given besides its instruction. */
export interface AddedCode {
  readonly fn: AllocatedFunction;
  /** The register holding `operand`: its own, or `into` after loading it there. */
  use(operand: Operand, into: Register): Register;
  /** Where to compute the result (its register, or a scratch register stored to its slot afterwards). */
  readonly result: Register;
  /** The label of an out-of-line stub raising runtime error `kind` at `line` (through the level's `error` hook). */
  error(kind: number, line: number): Label;
}

/** A level's machine hooks with the optimizing tier's extension among them. */
export interface OptimizingMachineHooks extends MachineHooks {
  readonly optimizing?: OptimizingExtension;
}

/** The optimizing tier's extension in `level`, if its chapter adds one. */
export function optimizingExtension(level: JitLevel): OptimizingExtension | undefined {
  return (level.machine as OptimizingMachineHooks).optimizing;
}

interface ErrorStub {
  readonly label: Label;
  readonly kind: number;
  readonly line: number;
}

/** Fits a sign-extended 32-bit immediate: the widest both ISAs' masm take in branchIfImmediate and addImmediate. */
export function isSmallImmediate(value: bigint): boolean {
  return value >= -(2n ** 31n) && value < 2n ** 31n;
}

/** `a cond b` is `b swapped(cond) a`. */
export function swapCondition(cond: Condition): Condition {
  const swapped: Record<Condition, Condition> = { eq: 'eq', ne: 'ne', lt: 'gt', gt: 'lt', le: 'ge', ge: 'le', ult: 'ugt', ugt: 'ult', ule: 'uge', uge: 'ule' };
  return swapped[cond];
}

/**
 * Does `mb` emit nothing but its branch: constants (immediates where used) and the compare
 * folded into the branch?
 */
function isTestOnly(mb: MachineBlock): boolean {
  const last = mb.insts.at(-1);
  if (last === undefined || last.inst.op !== 'branch') return false;
  return mb.insts.slice(0, -1).every((mi) => mi.inst.op === 'const' || (mi.inst === last.fused && mi.result === undefined && mi.before.length === 0));
}

/**
 * Is `mb` a few instructions that call nothing and cannot fail, ending in a branch? The
 * phis of a block are moves on its incoming edges, so a jump to such a block may emit a
 * copy of the block's code in its place, after the same edge moves.
 */
function isSmallTest(mb: MachineBlock): boolean {
  const last = mb.insts.at(-1);
  if (last === undefined || last.inst.op !== 'branch' || mb.insts.length > 6) return false;
  return mb.insts.every((mi) => NEVER_CALLS.has(mi.inst.op) && mi.before.length === 0 && mi.after.length === 0);
}

/** IR operations whose code calls nothing and cannot fail. */
const NEVER_CALLS = new Set(['const', 'copy', 'add', 'sub', 'mul', 'mulhi', 'and', 'or', 'xor', 'shl', 'sar', 'shr', 'neg', 'bitnot', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'jump', 'branch', 'return']);

/**
 * Does `fn` need no frame at all? A function that calls nothing (no call, no print, no error
 * to report), spills nothing and saves no register never has its frame looked at: nothing
 * walks the frame-pointer chain while it runs. So it skips prologue and epilogue, as
 * optimizing compilers do for leaf functions; its return is a bare `ret`.
 */
function needsNoFrame(fn: AllocatedFunction): boolean {
  if (fn.slots > 0 || fn.calleeSaved.length > 0) return false;
  return fn.blocks.every((mb) => mb.insts.every((mi) => NEVER_CALLS.has(mi.inst.op)));
}

export class FunctionEmitter {
  readonly #masm: MacroAssembler;
  readonly #fn: AllocatedFunction;
  readonly #cx: CodegenContext;
  readonly #r: JitRegisters;
  readonly #labels = new Map<number, Label>();
  readonly #stubs: ErrorStub[] = [];
  /** Small blocks that end in a conditional branch (see isSmallTest), by id. */
  readonly #smallTests = new Map<number, MachineBlock>();
  readonly #exit: Label;
  #frame: Frame | undefined;
  #tables: CodeTables | undefined;
  /** A leaf emitted without prologue and epilogue (see needsNoFrame). */
  #frameless = false;
  /** Where the entry block's branch goes once #earlyReturn has taken the other way out. */
  #entryGoesTo: number | undefined;
  /** The scratch registers: [0] for the first operand and results, [1] for the second operand. */
  readonly #s0: Register;
  readonly #s1: Register;

  constructor(fn: AllocatedFunction, cx: CodegenContext) {
    this.#masm = cx.masm;
    this.#fn = fn;
    this.#cx = cx;
    this.#r = jitRegisters(cx.masm);
    this.#exit = cx.masm.newLabel(`${fn.name}.exit`);
    [this.#s0, this.#s1] = fn.scratch;
    for (const b of fn.blocks) this.#labels.set(b.block.id, cx.masm.newLabel(`${fn.name}.b${b.block.id}`));
    for (const b of fn.blocks) if (isSmallTest(b)) this.#smallTests.set(b.block.id, b);
  }

  emit(): void {
    const masm = this.#masm;
    const fn = this.#fn;
    masm.bind(this.#cx.start ?? this.#cx.entries[this.#cx.functionIndex]!);
    if (needsNoFrame(fn)) {
      // A leaf that cannot fail: nothing can walk its frame, so it makes none.
      masm.comment(`${fn.name}: optimized, a leaf without a frame`);
      this.#frameless = true;
      this.#moves(fn.entry);
      fn.blocks.forEach((block, k) => this.#block(block, fn.blocks[k + 1]?.block.id));
      return;
    }
    // The block an early return took out of the body, if any: nothing else reaches it.
    const returned = this.#earlyReturn();
    masm.comment(`${fn.name}: optimized, ${fn.slots} spill slots, saves ${fn.calleeSaved.length} registers`);
    this.#frame = masm.prologue(fn.slots, fn.calleeSaved);
    this.#cx.level.machine.prologue?.(this.#site());
    this.#moves(fn.entry);
    const body = fn.blocks.filter((mb) => mb.block.id !== returned);
    body.forEach((block, k) => this.#block(block, body[k + 1]?.block.id));
    for (const stub of this.#stubs) this.#errorStub(stub);
    this.#cx.level.machine.afterBody?.(this.#site());
    masm.bind(this.#exit);
    masm.comment(`${fn.name}: unwinding after a runtime error`);
    masm.epilogue(this.#frame);
  }

  /**
   * Shrink-wrapping's simplest case, a recursion's base case: when the entry block only
   * tests parameters and constants, and one of its targets only returns a parameter or a
   * constant, that test and return are emitted before the prologue, on the argument
   * registers, so the base case runs without a frame and saves no register. The full
   * function follows, where the entry's test then always goes the other way: it becomes a
   * jump, and the returning block is left out. Returns that block's id.
   */
  #earlyReturn(): number | undefined {
    const masm = this.#masm;
    const fn = this.#fn;
    const entry = fn.blocks[0]!;
    if (!isTestOnly(entry)) return undefined;
    const test = entry.insts.at(-1)!;
    const defs = new Map(fn.blocks.flatMap((mb) => mb.block.insts.map((inst) => [inst.id, inst] as const)));
    // A parameter is still in its argument register, a constant is an immediate: else give up.
    const early = (value: number): Operand | undefined => {
      const inst = defs.get(value);
      if (inst?.op === 'const') return { kind: 'imm', value: inst.imm! };
      const reg = inst?.op === 'param' ? masm.regs.args[Number(inst.imm)] : undefined;
      return reg === undefined ? undefined : { kind: 'reg', reg };
    };
    const predecessors = (id: number) => fn.blocks.filter((mb) => mb.block.insts.at(-1)?.targets?.includes(id)).length;
    const [onTrue, onFalse] = test.inst.targets as [number, number];
    for (const [target, holds] of [[onTrue, true], [onFalse, false]] as const) {
      const mb = fn.blocks.find((b) => b.block.id === target);
      const ret = mb?.insts.at(-1);
      if (mb === undefined || target === entry.block.id || ret?.inst.op !== 'return' || predecessors(target) !== 1) continue;
      if (!mb.insts.slice(0, -1).every((mi) => mi.inst.op === 'const')) continue;
      const operands = (test.fused?.args ?? test.inst.args).map(early);
      const result = early(ret.inst.args[0]!);
      if (result === undefined || operands.some((op) => op === undefined)) continue;
      const full = masm.newLabel(`${fn.name}.full`);
      masm.comment(`${fn.name}: the early return, before any frame`);
      this.#conditionalJump({ ...test, operands: operands as Operand[] }, holds, full);
      if (result.kind === 'reg') masm.move(masm.regs.result, result.reg);
      else if (result.kind === 'imm') masm.moveImmediate(masm.regs.result, result.value);
      masm.ret();
      masm.bind(full);
      // Past it, the entry block's test always goes the other way (the entry has no predecessors).
      this.#entryGoesTo = holds ? onFalse : onTrue;
      return this.#entryGoesTo === target ? undefined : target;
    }
    return undefined;
  }

  #block(mb: MachineBlock, next: number | undefined): void {
    this.#masm.bind(this.#labels.get(mb.block.id)!);
    for (const mi of mb.insts) this.#inst(mi, mb, next);
  }

  // ── operands ──────────────────────────────────────────────────────────────────────
  /** The register holding `op`: its own, or `scratch` after loading the slot or the constant into it. */
  #use(op: Operand, scratch: Register): Register {
    const masm = this.#masm;
    if (op.kind === 'reg') return op.reg;
    if (op.kind === 'slot') masm.loadSlot(scratch, op.slot, this.#frame);
    else masm.moveImmediate(scratch, op.value);
    return scratch;
  }

  /** Where to compute a result: its register, or the first scratch register (stored by #finish). */
  #target(result: Location | undefined): Register {
    return result?.kind === 'reg' ? result.reg : this.#s0;
  }

  #finish(result: Location | undefined, computed: Register): void {
    if (result?.kind === 'slot') this.#masm.storeSlot(computed, result.slot, this.#frame);
  }

  #moves(moves: readonly Move[]): void {
    const masm = this.#masm;
    for (const { from, to } of moves) {
      if (to.kind === 'reg') {
        if (from.kind === 'reg') masm.move(to.reg, from.reg);
        else if (from.kind === 'slot') masm.loadSlot(to.reg, from.slot, this.#frame);
        else masm.moveImmediate(to.reg, from.value);
      } else {
        // A slot destination: from a register, or (constants) through the second scratch register.
        const source = from.kind === 'reg' ? from.reg : this.#use(from, this.#s1);
        masm.storeSlot(source, to.slot, this.#frame);
      }
    }
  }

  // ── instructions ──────────────────────────────────────────────────────────────────
  #inst(mi: MachineInst, mb: MachineBlock, next: number | undefined): void {
    const masm = this.#masm;
    const { inst, result } = mi;
    switch (inst.op) {
      case 'jump': {
        const target = inst.targets![0]!;
        this.#moves(mb.edges.get(target) ?? []);
        if (target === next) return;
        // A loop's back edge usually jumps to a small header that computes a test and
        // branches: emit the header's code here instead (the loop is rotated: one branch per
        // iteration). After the edge moves, running the header's code here is running it there.
        const header = this.#smallTests.get(target);
        if (header === undefined) {
          masm.jump(this.#labels.get(target)!);
          return;
        }
        for (const copied of header.insts.slice(0, -1)) this.#inst(copied, header, next);
        this.#branch(header.insts.at(-1)!, header, next);
        return;
      }
      case 'branch':
        this.#branch(mi, mb, next);
        return;
      case 'return':
        this.#moves(mi.before);
        if (this.#frameless) masm.ret();
        else masm.epilogue(this.#frame);
        return;
      case 'call':
        this.#call(mi);
        return;
      case 'print': {
        this.#moves(mi.before);
        this.#callRuntime(mi.printType === 'bool' ? CONTEXT.printBool : CONTEXT.print);
        return;
      }
    }
    // An operation a later chapter added: its code, on its operands in registers.
    const addedWith = optimizingExtension(this.#cx.level)?.emitWith?.get(inst.op);
    if (addedWith !== undefined) {
      const dst = this.#target(result);
      addedWith(this.#site(), mi, { fn: this.#fn, use: (op, into) => this.#use(op, into), result: dst, error: (kind, line) => this.#error(kind, line) });
      this.#finish(result, dst);
      return;
    }
    const added = optimizingExtension(this.#cx.level)?.emit.get(inst.op);
    if (added !== undefined) {
      added(this.#site(), inst, mi.operands.map((op, i) => this.#use(op, i === 0 ? this.#s0 : this.#s1)));
      return;
    }
    // Constants are immediates where they are used; a compare folded into its branch is emitted there.
    if (inst.op === 'const' || result === undefined) return;
    this.#compute(mi);
  }

  #compute(mi: MachineInst): void {
    const masm = this.#masm;
    const { inst, operands, result } = mi;
    const dst = this.#target(result);
    // (operands of an add or sub with a folded multiply: the multiply's two, then the other)
    const [a, b] = operands;
    switch (inst.op) {
      case 'copy':
        masm.move(dst, this.#use(a!, this.#s0));
        break;
      case 'add':
      case 'sub':
        if (mi.fused?.op === 'shl') this.#scaledAdd(dst, a!, b!, operands[2]!);
        else if (mi.fused !== undefined) this.#multiplyAddSub(inst.op, dst, a!, b!, operands[2]!);
        else this.#addSub(inst.op, dst, a!, b!);
        break;
      case 'shl':
      case 'sar':
      case 'shr':
        // A constant count (the usual case: strength reduction makes them) is part of the instruction.
        if (b!.kind === 'imm') this.#shiftImmediate(inst.op, dst, this.#use(a!, this.#s0), Number(b!.value & 63n));
        else this.#binary(inst.op, dst, this.#use(a!, this.#s0), this.#use(b!, this.#s1));
        break;
      case 'mul':
      case 'mulhi':
      case 'and':
      case 'or':
      case 'xor':
        this.#binary(inst.op, dst, this.#use(a!, this.#s0), this.#use(b!, this.#s1));
        break;
      case 'div':
      case 'mod':
        this.#division(inst.op === 'div', dst, a!, b!, inst.line);
        break;
      case 'neg':
        masm.neg(dst, this.#use(a!, this.#s0));
        break;
      case 'bitnot':
        masm.not(dst, this.#use(a!, this.#s0));
        break;
      case 'not':
        masm.moveImmediate(this.#s1, 1n);
        masm.xor(dst, this.#use(a!, this.#s0), this.#s1);
        break;
      case 'eq':
      case 'ne':
      case 'lt':
      case 'le':
      case 'gt':
      case 'ge':
        masm.setIf(inst.op, dst, this.#use(a!, this.#s0), this.#use(b!, this.#s1));
        break;
      default:
        throw new Error(`${this.#fn.name}: the optimizing tier has no code for IR operation '${inst.op}'`);
    }
    this.#finish(result, dst);
  }

  // @book:start select-add-sub
  /** add and sub, with an immediate operand where one is a small constant. */
  #addSub(op: 'add' | 'sub', dst: Register, a: Operand, b: Operand): void {
  // @book:end select-add-sub
    // TODO: dst = a + b or a - b. With b a small constant (isSmallImmediate), one
    // masm.addImmediate (sub adds -b; mind -b when b is -2^31); with a small constant a and
    // add, the same with the operands swapped; otherwise masm.add or masm.sub on registers
    // (this.#use puts a spilled or constant operand in a scratch register: #s0 for a, #s1 for b).
    todo('FunctionEmitter: add and sub with immediates');
  }

  /** c + (x << k) for k = 1, 2, 3: one lea (x86-64) or add with a shifted register (AArch64). */
  #scaledAdd(dst: Register, x: Operand, k: Operand, c: Operand): void {
    const scale = (1 << Number((k as { value: bigint }).value)) as 2 | 4 | 8;
    const rx = this.#use(x, this.#s0);
    this.#masm.addScaled(dst, this.#use(c, this.#s1), rx, scale);
  }

  /** c + x * y or c - x * y in one instruction where all three are in registers (madd, msub). */
  #multiplyAddSub(op: 'add' | 'sub', dst: Register, x: Operand, y: Operand, c: Operand): void {
    const masm = this.#masm;
    const rx = this.#use(x, this.#s0);
    const ry = this.#use(y, this.#s1);
    if (c.kind === 'reg') {
      if (op === 'add') masm.multiplyAdd(dst, rx, ry, c.reg);
      else masm.multiplySub(dst, rx, ry, c.reg);
      return;
    }
    // Three operands and two scratch registers: the product first, then the other operand.
    masm.mul(this.#s0, rx, ry);
    if (op === 'add' && c.kind === 'imm' && isSmallImmediate(c.value)) masm.addImmediate(dst, this.#s0, Number(c.value));
    else if (op === 'add') masm.add(dst, this.#s0, this.#use(c, this.#s1));
    else masm.sub(dst, this.#use(c, this.#s1), this.#s0);
  }

  #binary(op: string, dst: Register, a: Register, b: Register): void {
    const masm = this.#masm;
    switch (op) {
      case 'mul': masm.mul(dst, a, b); break;
      case 'mulhi': masm.mulHigh(dst, a, b); break;
      case 'and': masm.and(dst, a, b); break;
      case 'or': masm.or(dst, a, b); break;
      case 'xor': masm.xor(dst, a, b); break;
      case 'shl': masm.shl(dst, a, b); break;
      case 'sar': masm.sar(dst, a, b); break;
      case 'shr': masm.shr(dst, a, b); break;
      default: throw new Error(`not a binary operation: ${op}`);
    }
  }

  /** A shift by a count known while compiling (Jot masks counts to 6 bits, so it is 0..63). */
  #shiftImmediate(op: 'shl' | 'sar' | 'shr', dst: Register, a: Register, count: number): void {
    const masm = this.#masm;
    if (op === 'shl') masm.shlImmediate(dst, a, count);
    else if (op === 'sar') masm.sarImmediate(dst, a, count);
    else masm.shrImmediate(dst, a, count);
  }

  /**
   * a / b and a % b with Jot's rules: b == 0 is the runtime error at the instruction's line,
   * b == -1 is -a (wrapping) and 0 (x86-64's idiv faults on INT64_MIN / -1). A constant
   * divisor decides both while compiling; a divisor in a register is tested against 0 here,
   * and the MacroAssembler's divFast and remFast take care of -1 (off their fast path,
   * which divides 32 bits wide where both operands fit).
   */
  #division(isDiv: boolean, dst: Register, a: Operand, b: Operand, line: number): void {
    const masm = this.#masm;
    if (b.kind === 'imm') {
      if (b.value === 0n) {
        masm.jump(this.#error(ERROR_KIND.divisionByZero, line));
        return;
      }
      const ra = this.#use(a, this.#s0);
      if (b.value === -1n) {
        if (isDiv) masm.neg(dst, ra);
        else masm.moveImmediate(dst, 0n);
        return;
      }
      const rb = this.#use(b, this.#s1);
      if (isDiv) masm.divFast(dst, ra, rb);
      else masm.remFast(dst, ra, rb);
      return;
    }
    const ra = this.#use(a, this.#s0);
    const rb = this.#use(b, this.#s1);
    masm.branchIfZero(rb, this.#error(ERROR_KIND.divisionByZero, line));
    // divFast and remFast give INT64_MIN / -1 its wrapping answer themselves, off their fast path.
    if (isDiv) masm.divFast(dst, ra, rb);
    else masm.remFast(dst, ra, rb);
  }

  // @book:start select-branch
  /**
   * Emits the conditional jump of a branch to `label`, taken when the condition holds (or,
   * with `negated`, when it does not): one compare-and-branch for a fused compare, with an
   * immediate where one side is a small constant; a test of the 0/1 value otherwise.
   */
  #conditionalJump(mi: MachineInst, negated: boolean, label: Label): void {
  // @book:end select-branch
    // TODO: with mi.fused (a compare folded into the branch): its two operands, its
    // condition (mi.fused.op); a constant on the left goes to the right with swapCondition;
    // negate(cond) when `negated`; then masm.branchIfImmediate against a small constant, or
    // masm.branchIf on two registers. Without a fused compare: the 0/1 value in
    // mi.operands[0], masm.branchIfNonZero (or branchIfZero when negated).
    todo('FunctionEmitter: compare-and-branch');
  }

  /** The value of a branch whose condition is known while compiling, else undefined. */
  #constantCondition(mi: MachineInst): boolean | undefined {
    const ops = mi.operands;
    if (mi.fused !== undefined) {
      const [a, b] = ops as [Operand, Operand];
      if (a.kind !== 'imm' || b.kind !== 'imm') return undefined;
      const x = a.value;
      const y = b.value;
      const results: Record<string, boolean> = { eq: x === y, ne: x !== y, lt: x < y, le: x <= y, gt: x > y, ge: x >= y };
      return results[mi.fused.op];
    }
    return ops[0]!.kind === 'imm' ? ops[0]!.value !== 0n : undefined;
  }

  /**
   * A branch and the moves on its two edges. The common layouts: no moves and the false
   * block next (a conditional jump to the true block, then fall through); no moves and the
   * true block next (the negated jump to the false block); edge moves on the true edge go
   * to a stub after the false path.
   */
  #branch(mi: MachineInst, mb: MachineBlock, next: number | undefined): void {
    const masm = this.#masm;
    const [onTrue, onFalse] = mi.inst.targets as [number, number];
    const label = (b: number) => this.#labels.get(b)!;
    const movesT = mb.edges.get(onTrue) ?? [];
    const movesF = mb.edges.get(onFalse) ?? [];
    const decided = mb === this.#fn.blocks[0] ? this.#entryGoesTo : undefined;
    const known = decided !== undefined ? decided === onTrue : this.#constantCondition(mi);
    if (known !== undefined || onTrue === onFalse) {
      const target = known === false ? onFalse : onTrue;
      this.#moves(mb.edges.get(target) ?? []);
      if (target !== next) masm.jump(label(target));
      return;
    }
    if (movesT.length === 0 && movesF.length === 0) {
      if (onTrue === next) this.#conditionalJump(mi, true, label(onFalse));
      else {
        this.#conditionalJump(mi, false, label(onTrue));
        if (onFalse !== next) masm.jump(label(onFalse));
      }
      return;
    }
    const stub = movesT.length > 0 ? masm.newLabel(`${this.#fn.name}.b${mb.block.id}.to.b${onTrue}`) : label(onTrue);
    this.#conditionalJump(mi, false, stub);
    this.#moves(movesF);
    if (movesT.length > 0 || onFalse !== next) masm.jump(label(onFalse));
    if (movesT.length > 0) {
      masm.bind(stub);
      this.#moves(movesT);
      if (onTrue !== next) masm.jump(label(onTrue));
    }
  }

  // ── calls and the runtime ─────────────────────────────────────────────────────────
  #call(mi: MachineInst): void {
    const masm = this.#masm;
    const { ctx, callsLeft } = this.#r;
    const callee = this.#cx.indexOf.get(mi.inst.callee!);
    if (callee === undefined) throw new Error(`${this.#fn.name}: call of unknown function '${mi.inst.callee}'`);
    masm.branchIfZero(callsLeft, this.#error(ERROR_KIND.stackOverflow, mi.inst.line));
    masm.addImmediate(callsLeft, callsLeft, -1);
    this.#moves(mi.before);
    const returnOffset = masm.call(this.#cx.entries[callee]!);
    masm.addImmediate(callsLeft, callsLeft, 1);
    const afterCall = this.#cx.level.machine.afterCall;
    if (afterCall !== undefined) afterCall(this.#site(), returnOffset, mi.inst.line);
    else {
      masm.load(this.#s1, ctx, CONTEXT.failed);
      masm.branchIfNonZero(this.#s1, this.#exit);
    }
    optimizingExtension(this.#cx.level)?.gcPoint?.(this.#site(), returnOffset, mi, this.#fn);
    this.#moves(mi.after);
  }

  /** What the level's machine hooks see of this function. */
  #site(): MachineSite {
    const tables = (this.#tables ??= this.#cx.tables ?? new CodeTables());
    return { masm: this.#masm, registers: this.#r, functionIndex: this.#cx.functionIndex, entry: this.#cx.start ?? this.#cx.entries[this.#cx.functionIndex]!, name: this.#fn.name, frame: this.#frame!, scratch: [this.#s0, this.#s1], exit: this.#exit, tables };
  }

  /** Calls the callback at `offset` in the context (chapter 07's emitRuntimeCall), through s1. */
  #callRuntime(offset: number): void {
    emitRuntimeCall(this.#masm, this.#r, offset, this.#s1);
  }

  #error(kind: number, line: number): Label {
    const existing = this.#stubs.find((s) => s.kind === kind && s.line === line);
    if (existing) return existing.label;
    const label = this.#masm.newLabel(`${this.#fn.name}.error${this.#stubs.length}`);
    this.#stubs.push({ label, kind, line });
    return label;
  }

  #errorStub(stub: ErrorStub): void {
    const masm = this.#masm;
    const { args } = masm.regs;
    masm.bind(stub.label);
    masm.comment(`${this.#cx.level.errors.get(stub.kind)?.(this.#fn.name) ?? `error ${stub.kind}`} at line ${stub.line}`);
    const error = this.#cx.level.machine.error;
    if (error !== undefined) {
      error(this.#site(), stub.kind, stub.line);
      return;
    }
    masm.moveImmediate(args[0]!, BigInt(stub.kind));
    masm.moveImmediate(args[1]!, BigInt(this.#cx.functionIndex));
    masm.moveImmediate(args[2]!, BigInt(stub.line));
    this.#callRuntime(CONTEXT.error);
    masm.jump(this.#exit);
  }
}

