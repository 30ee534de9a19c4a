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
  const r = jitRegisters(masm);
  const label = masm.newLabel(`${fn.name}.dispatch`);
  masm.bind(label);
  masm.comment(`${fn.name}: on through the entry table`);
  masm.load(r.t1, r.ctx, TX.entryTable!);
  masm.load(r.t1, r.t1, 8 * fn.index);
  masm.jumpRegister(r.t1);
  return label;
}

function emitInterpreterStub(masm: MacroAssembler, fn: CompiledFunction, tables: CodeTables, resume: Label): Label {
  const r = jitRegisters(masm);
  const t = r.t1;
  const { args, fp, calleeSaved } = masm.regs;
  const label = masm.newLabel(`${fn.name}.interpreted`);
  const exceptional = masm.newLabel(`${fn.name}.interpreted.exception`);
  masm.bind(label);
  masm.comment(`${fn.name} is interpreted: where the segment stops, the arguments, then jot_interpret(${fn.index})`);
  const frame = masm.prologue(0);
  masm.load(t, fp, 0);
  masm.store(t, r.ctx, EX.exitFp!);
  masm.load(t, fp, 8);
  masm.store(t, r.ctx, EX.exitPc!);
  calleeSaved.forEach((reg, i) => masm.store(reg, r.ctx, savedField(i)));
  masm.load(t, r.ctx, TX.transfer!);
  fn.params.forEach((_, i) => masm.store(args[i]!, t, 8 * i));
  masm.moveImmediate(args[0]!, BigInt(fn.index));
  emitRuntimeCall(masm, r, TX.interpret!, t);
  masm.load(t, r.ctx, TX.pending!);
  masm.branchIfNonZero(t, exceptional);
  masm.epilogue(frame);
  masm.bind(exceptional);
  masm.branchIfImmediate('ne', t, 1, resume);
  masm.comment('rethrow at the caller\'s call: its fp, its return address as the pc, callsLeft as after a return');
  masm.load(args[0]!, r.ctx, TX.pendingPayload!);
  masm.addImmediate(r.callsLeft, r.callsLeft, 1);
  masm.load(args[1]!, fp, 8);
  masm.load(t, fp, 0);
  masm.move(fp, t);
  masm.moveImmediate(args[2]!, 0n);
  masm.jump(unwindTable(tables).throwStub!);
  return label;
}
