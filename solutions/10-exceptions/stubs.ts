/**
 * Chapter 10: the machine code around the unwinder. Two stubs, emitted once per program
 * before its functions, and the context fields they share with the runtime.
 *
 * The entry stub (replaces chapter 07's) leaves an **entry record**: the context's
 * `entryRecord` field holds the frame pointer of the innermost entry stub still running,
 * and each entry stub keeps the previous value in its frame and puts it back when it
 * returns. Frames between two entry records form one *machine segment*, walked by the
 * frame-pointer chain: a frame whose saved fp is the entry record's is the segment's first.
 *
 *   entry frame, from its fp:
 *     [fp + 8]   return address into TypeScript (koffi)
 *     [fp]       the caller's fp
 *     [fp - 8]   saved ctx        [fp - 16] saved callsLeft
 *     [fp - 24]  slot 0: the previous entry record (0 for the outermost entry)
 *
 * The outermost entry also sets the stack limit: its own sp minus STACK_BUDGET. Every
 * compiled function compares sp with it after its prologue.
 *
 * The throw stub is where every throw goes (a `throw` statement, a runtime error, the
 * stack-limit check): by a jump, not a call, so sp and fp are still the throwing frame's.
 *
 *   on arrival   args[0] the payload, args[1] the pc of the throw (a key of the unwind
 *                table), args[2] the runtime error kind + 1, or 0 for a `throw` statement
 *   it stores    fp and the pc (where the unwinder starts), callsLeft, and every
 *                callee-saved register (the values they have in the throwing frame)
 *   it calls     jot_throw(payload, pc, kind): the unwinder, in TypeScript. It finds the
 *                handler and writes the resume state into the context, then returns.
 *   then         the resume sequence, outside any callback: the callee-saved registers
 *                (the unwinder replaced the values that frames it removed had saved),
 *                callsLeft, the payload in the result register, sp, fp, and a jump to the
 *                handler's landing pad (or to the entry stub's `pending` path).
 */
import type { Label, MacroAssembler } from '#ch04/macro-assembler.ts';
import { CodeTables, jitRegisters } from '#ch07/compiler.ts';
import { CORE_CONTEXT, extendContext } from '#ch07/runtime.ts';
import { UNWIND_TABLE, UnwindTable } from './unwind-table.ts';

/** Callee-saved registers the context has room for (AArch64 has ten). */
export const SAVED_REGISTERS = 10;

// @book:start context
/** Chapter 10's context fields, appended to chapter 07's. */
export const EXCEPTIONS_CONTEXT = extendContext(CORE_CONTEXT, [
  'throw', //        address of jot_throw(payload, pc, kind)
  'entryRecord', //  fp of the innermost running entry stub, 0 when none
  'stackLimit', //   the lowest sp a prologue accepts
  'exitFp', //       the throwing frame's fp, for the unwinder
  'exitPc', //       the throw's pc
  'resumeSp', //     where the resume sequence goes: sp, fp, pc
  'resumeFp',
  'resumePc',
  'payload', //      the payload, for the landing pad
  ...Array.from({ length: SAVED_REGISTERS }, (_, i) => `saved${i}`),
]);
// @book:end context

export const EX = EXCEPTIONS_CONTEXT.offsets as Readonly<Record<string, number>>;

/** The context offset of callee-saved register number i (in `masm.regs.calleeSaved` order). */
export function savedField(i: number): number {
  return EX[`saved${i}`]!;
}

/**
 * How far below the outermost entry's sp compiled code may grow the stack: 8 MiB. Machine
 * code called through koffi runs on koffi's own stack, 16 MiB (native/libc.ts sets it), and
 * the entry stub is near its top; the half below the limit is the headroom for what runs
 * deeper than the deepest compiled frame: a throw's callback (koffi's trampoline, the
 * unwinder) and a prologue's stores into a frame that has just crossed the limit. 10,000
 * frames of 40 locals (3.6 MiB) fit in the budget, so the call-depth limit, not the stack
 * limit, stops ordinary recursion, as in the interpreter; frames of 2 KiB (256 locals) reach
 * the stack limit first, after about 4,000 calls, and get the same catchable stack overflow.
 */
export const STACK_BUDGET = 8 * 1024 * 1024;

/** The unwind table of the program `tables` belongs to. */
export function unwindTable(tables: CodeTables): UnwindTable {
  return tables.get(UNWIND_TABLE, () => new UnwindTable());
}

// @book:start entry-stub
/** The entry stub with its entry record, then the throw stub (see the top of this file). */
export function emitExceptionEntry(masm: MacroAssembler, main: Label, tables: CodeTables): void {
  const table = unwindTable(tables);
  const r = jitRegisters(masm);
  const t = r.t1;
  const nested = masm.newLabel('entry.nested');
  const done = masm.newLabel('entry.done');
  const pending = masm.newLabel('entry.pending');
  masm.comment('entry: save the registers compiled code owns; slot 0 keeps the previous entry record');
  const frame = masm.prologue(1, [r.ctx, r.callsLeft]);
  masm.move(r.ctx, masm.regs.args[0]!);
  masm.load(t, r.ctx, EX.entryRecord!);
  masm.storeSlot(t, 0);
  masm.branchIfNonZero(t, nested);
  masm.comment('the outermost entry: the stack limit is this sp minus the budget');
  masm.move(t, masm.regs.sp);
  masm.addImmediate(t, t, -STACK_BUDGET);
  masm.store(t, r.ctx, EX.stackLimit!);
  masm.bind(nested);
  masm.comment('the entry record: this frame');
  masm.store(masm.regs.fp, r.ctx, EX.entryRecord!);
  masm.load(r.callsLeft, r.ctx, EX.callsLeft!);
  masm.call(main);
  masm.store(r.callsLeft, r.ctx, EX.callsLeft!);
  masm.bind(done);
  masm.comment('pop the entry record');
  masm.loadSlot(t, 0);
  masm.store(t, r.ctx, EX.entryRecord!);
  masm.epilogue();
  masm.bind(pending);
  masm.comment('an exception reached the entry record: the unwinder recorded it, return');
  masm.jump(done);
  table.entry = { pending, frameSize: frame.size };
  table.throwStub = emitThrowStub(masm);
}
// @book:end entry-stub

// @book:start throw-stub
function emitThrowStub(masm: MacroAssembler): Label {
  const r = jitRegisters(masm);
  const { args, calleeSaved, sp, fp, result } = masm.regs;
  const t = r.t1;
  const stub = masm.newLabel('throw');
  masm.bind(stub);
  masm.comment('throw: where the unwinder starts, and the registers as the throwing frame has them');
  masm.store(fp, r.ctx, EX.exitFp!);
  masm.store(args[1]!, r.ctx, EX.exitPc!);
  masm.store(r.callsLeft, r.ctx, EX.callsLeft!);
  calleeSaved.forEach((reg, i) => masm.store(reg, r.ctx, savedField(i)));
  masm.load(t, r.ctx, EX.throw!);
  masm.callRegister(t);
  masm.comment('resume: outside the callback, registers, then sp and fp, then the handler');
  calleeSaved.forEach((reg, i) => {
    if (reg !== r.ctx) masm.load(reg, r.ctx, savedField(i));
  });
  masm.load(r.callsLeft, r.ctx, EX.callsLeft!);
  masm.load(result, r.ctx, EX.payload!);
  masm.load(t, r.ctx, EX.resumeSp!);
  masm.move(sp, t);
  masm.load(fp, r.ctx, EX.resumeFp!);
  masm.load(t, r.ctx, EX.resumePc!);
  masm.jumpRegister(t);
  return stub;
}
// @book:end throw-stub

/**
 * A throw at this point of the function being compiled: the payload must be in args[0]
 * already. Binds a label at the jump (the throw's pc, the key of its site) and jumps to the
 * throw stub. `kind` is the runtime error kind + 1, or 0 for a `throw` statement.
 */
export function emitThrow(masm: MacroAssembler, table: UnwindTable, kind: number): Label {
  const { args } = masm.regs;
  const pc = masm.newLabel('throw.pc');
  masm.moveImmediate(args[2]!, BigInt(kind));
  masm.loadLabelAddress(args[1]!, pc);
  masm.bind(pc);
  masm.jump(table.throwStub!);
  return pc;
}
