/**
 * Chapter 12: the machine code between the tiers, emitted once per run before any function
 * is compiled.
 *
 * Every call from compiled code goes through the **entry table**, a word per function in
 * plain data memory: the address the function is entered at right now. A call to function f
 * calls f's *dispatch stub*, which jumps on through the table (no frame, so the callee sees
 * the caller's return address, as after a direct call):
 *
 *   dispatch f:   t1 = [ctx + entryTable]; t1 = [t1 + 8f]; jump t1
 *
 * A promotion writes one word of the table; no code is patched, so the code stays W^X.
 * While f is interpreted its word holds f's *interpreter stub*, which enters TypeScript:
 *
 *   interpreter stub f:
 *     frame; [ctx + exitFp] = the caller's fp, [ctx + exitPc] = its return address, and every
 *       callee-saved register to the context: where the machine segment stopped, for the
 *       collector and for ending the segment
 *     the arguments to the transfer buffer; jot_interpret(f)
 *     pending == 0   return the result
 *     pending == 1   an exception came back: rethrow it at the caller's call, as if the
 *                    call itself threw (the caller's fp, its return address as the throw's pc,
 *                    callsLeft given back as a return would): the unwinder finds the
 *                    caller's handler there, or goes on up the frame chain
 *     pending == 2   an exception no handler may catch (out of memory): the runtime has
 *                    removed the segment's frames; resume at the entry stub
 *
 * The **tiered entry stub**, `int64_t enter(ctx, target)`, is chapter 10's entry stub with a
 * target: it leaves the same entry record, loads the arguments from the transfer buffer and
 * calls `target` (a function's code, or an on-stack-replacement entry). Chapter 10's own entry
 * stub, and its throw stub, are emitted before it by the level (the throw stub is shared; the
 * old entry stub, which calls `main` directly, is never called).
 */
import type { Label, MacroAssembler } from '#ch04/macro-assembler.ts';
import type { CompiledFunction } from '#ch06/bytecode.ts';
import { MAX_PARAMS } from '#ch06/compiler.ts';
import { CodeTables, emitRuntimeCall, jitRegisters, type JitLevel } from '#ch07/compiler.ts';
import { extendContext } from '#ch07/runtime.ts';
import { EX, STACK_BUDGET, savedField, unwindTable } from '#ch10/stubs.ts';
import { HEAP_CONTEXT } from '#ch11/jit-level.ts';
import { todo } from '#native/todo.ts';

/** Chapter 12's context fields, after chapter 11's. */
export const TIER_CONTEXT = extendContext(HEAP_CONTEXT, [
  'interpret', //      address of jot_interpret(function) → result
  'transfer', //       address of the transfer buffer: arguments, or a frame's slots for OSR
  'entryTable', //     address of the entry table: one code address per function
  'pending', //        after jot_interpret: 0 a result, 1 an exception to rethrow, 2 end the segment
  'pendingPayload', // the payload to rethrow
  'countdown', //      address of the countdowns: calls left per function before the optimizing tier
  'tierUp', //         address of jot_tier_up(function)
]);
export const TX = TIER_CONTEXT.offsets as Readonly<Record<string, number>>;

/** Where the stubs are: labels, bound once the stubs are emitted. */
export interface TierStubs {
  readonly enter: Label;
  /** By function index. */
  readonly dispatch: readonly Label[];
  readonly interpreter: readonly Label[];
}

/** Emits every stub of this file (and the level's own entry and throw stubs before them). */
export function emitTierStubs(masm: MacroAssembler, functions: readonly CompiledFunction[], level: JitLevel, tables: CodeTables): TierStubs {
  const unused = masm.newLabel('main (entered through the tiered entry stub)');
  level.entry!(masm, unused, tables);
  masm.bind(unused);
  masm.trap();
  const resume = emitResume(masm);
  const enter = emitEnter(masm, tables);
  const dispatch = functions.map((fn) => emitDispatch(masm, fn));
  const interpreter = functions.map((fn) => emitInterpreterStub(masm, fn, tables, resume));
  return { enter, dispatch, interpreter };
}

/** Resumes where the runtime wrote (as chapter 10's throw stub does after its callback). */
function emitResume(masm: MacroAssembler): Label {
  const r = jitRegisters(masm);
  const { calleeSaved, sp, fp } = masm.regs;
  const label = masm.newLabel('resume');
  masm.bind(label);
  masm.comment('the segment ends: registers, sp and fp from the context, then the entry stub');
  calleeSaved.forEach((reg, i) => {
    if (reg !== r.ctx) masm.load(reg, r.ctx, savedField(i));
  });
  masm.load(r.callsLeft, r.ctx, EX.callsLeft!);
  masm.load(r.t1, r.ctx, EX.resumeSp!);
  masm.move(sp, r.t1);
  masm.load(fp, r.ctx, EX.resumeFp!);
  masm.load(r.t1, r.ctx, EX.resumePc!);
  masm.jumpRegister(r.t1);
  return label;
}

// @book:start enter
/**
 *   entry frame, from its fp (chapter 10's, one slot more):
 *     [fp - 24]  slot 0: the previous entry record     [fp - 32]  slot 1: the target
 */
function emitEnter(masm: MacroAssembler, tables: CodeTables): Label {
  const table = unwindTable(tables);
  const r = jitRegisters(masm);
  const t = r.t1;
  const { args } = masm.regs;
  const label = masm.newLabel('enter');
  const nested = masm.newLabel('enter.nested');
  const done = masm.newLabel('enter.done');
  const pending = masm.newLabel('enter.pending');
  masm.bind(label);
  masm.comment('tiered entry: enter(ctx, target); slot 0 keeps the previous entry record, slot 1 the target');
  const frame = masm.prologue(2, [r.ctx, r.callsLeft]);
  masm.move(r.ctx, args[0]!);
  masm.storeSlot(args[1]!, 1);
  masm.load(t, r.ctx, EX.entryRecord!);
  masm.storeSlot(t, 0);
  masm.branchIfNonZero(t, nested);
  masm.comment('the outermost entry: the stack limit is this sp minus the budget');
  masm.move(t, masm.regs.sp);
  masm.addImmediate(t, t, -STACK_BUDGET);
  masm.store(t, r.ctx, EX.stackLimit!);
  masm.bind(nested);
  masm.store(masm.regs.fp, r.ctx, EX.entryRecord!);
  masm.load(r.callsLeft, r.ctx, EX.callsLeft!);
  masm.comment('the arguments from the transfer buffer');
  masm.load(t, r.ctx, TX.transfer!);
  for (let i = 0; i < MAX_PARAMS; i++) masm.load(args[i]!, t, 8 * i);
  masm.loadSlot(t, 1);
  masm.callRegister(t);
  masm.store(r.callsLeft, r.ctx, EX.callsLeft!);
  masm.bind(done);
  masm.loadSlot(t, 0);
  masm.store(t, r.ctx, EX.entryRecord!);
  masm.epilogue(frame);
  masm.bind(pending);
  masm.comment('an exception reached the entry record: the unwinder recorded it, return');
  masm.jump(done);
  table.entry = { pending, frameSize: frame.size };
  return label;
}
// @book:end enter

function emitDispatch(masm: MacroAssembler, fn: CompiledFunction): Label {
  // TODO: fn's dispatch stub. Bind a new label named `${fn.name}.dispatch` (returned) and emit,
  // with no frame (the callee must see its caller's return address, as after a direct call)
  // and r = jitRegisters(masm):
  //   t1 = [ctx + TX.entryTable]     the entry table's address, from the context
  //   t1 = [t1 + 8 × fn.index]       fn's word: where fn is entered right now
  //   jump to t1
  // A comment first (masm.comment) says whose stub it is, for the listings.
  return todo('emitDispatch');
}

function emitInterpreterStub(masm: MacroAssembler, fn: CompiledFunction, tables: CodeTables, resume: Label): Label {
  // TODO: the stub that runs an interpreted fn (the file's header comment gives its outline).
  // Labels: `${fn.name}.interpreted` (bound first and returned) and one for the exceptional
  // path. With r = jitRegisters(masm), t = r.t1, and a frame without slots (masm.prologue(0)):
  //   1. where the machine segment stops: the caller's fp ([fp + 0]) into EX.exitFp, its
  //      return address ([fp + 8]) into EX.exitPc, and calleeSaved[i] into savedField(i)
  //   2. each of fn's arguments from args[i] into word i of the transfer buffer (its address
  //      is at TX.transfer)
  //   3. args[0] = fn.index; call jot_interpret (emitRuntimeCall, the address at TX.interpret)
  //   4. pending ([ctx + TX.pending]) is 0: the epilogue; the result is in the return register
  //   5. the exceptional path: pending is not 1: jump to `resume`
  //   6. pending is 1: rethrow as if the caller's call threw: args[0] = TX.pendingPayload's
  //      word, callsLeft one more (a return gives back its call), args[1] = the caller's
  //      return address, fp = the caller's fp, args[2] = 0, then jump to the throw stub
  //      (unwindTable(tables).throwStub)
  return todo('emitInterpreterStub');
}
