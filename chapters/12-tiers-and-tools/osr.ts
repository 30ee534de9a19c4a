/**
 * Chapter 12: on-stack replacement entries in the baseline tier.
 *
 * A function whose loop runs hot in the interpreter moves to its compiled code in the middle
 * of the loop, at the loop's header: the interpreter stops at a back edge (whose target is the
 * header) and calls the header's OSR entry through the tiered entry stub. The entry is emitted
 * after the function's body, one per loop header:
 *
 *   osr entry at header h:
 *     the function's own prologue (the same frame: its slots at the same fp offsets, so the
 *       body's code, its unwind rows and its stack maps hold for this frame too)
 *     the stack-limit check, as a call's prologue makes it: sp below the limit throws a stack
 *       overflow at the function's line (one out-of-line throw for all the function's entries)
 *     slot i = transfer[i] for every local and every operand-stack value at h (the
 *       interpreter's frame, copied by the runtime just before)
 *     jump to h's code
 *
 * The frame's values need no types on the way: the copy happens before the machine code
 * runs, and from the header on the stack maps of the body say which slots hold references
 * at each GC point, exactly as for a frame that started at the top.
 */
import type { Label } from '#ch04/macro-assembler.ts';
import { Op, readU16, type CompiledFunction, type OpcodeSet } from '#ch06/bytecode.ts';
import type { Template } from '#ch07/compiler.ts';
import { ERROR_KIND } from '#ch07/runtime.ts';
import { RUNTIME_ERROR_PAYLOADS } from '#ch10/errors.ts';
import { handlersOf } from '#ch10/handlers.ts';
import { EX, emitThrow, unwindTable } from '#ch10/stubs.ts';
import { TX } from './stubs.ts';
import { todo } from '#native/todo.ts';

/** The loop headers of `fn`: targets of its backward jumps, with the operand-stack depth there. */
export function loopHeaders(fn: CompiledFunction, opcodes: OpcodeSet): Map<number, number> {
  // TODO: the target of every backward jump, with the operand-stack depth there. Take the
  // depths of stackDepths(fn, opcodes); walk fn.code one instruction at a time; for each
  // `jump` whose target (readU16 at pc + 1) is at or before pc and has a depth (some path
  // from the entry or a handler reaches it), record target → depth.
  return todo('loopHeaders');
}

/** The operand-stack depth before each instruction that some path reaches, by one forward pass per path. */
function stackDepths(fn: CompiledFunction, opcodes: OpcodeSet): Map<number, number> {
  // TODO: a worklist of (pc, depth) pairs, starting with (0, 0) and, for each handler of
  // handlersOf(fn), (its target, its depth + 1): a catch block starts with the payload pushed.
  // Take a pair; skip it if its pc has a depth already or is past the end; record the depth.
  // The instruction's info is opcodes.byCode[opcode]: the depth after it is depth - pops +
  // pushes, where pops of -1 means "the count is the byte at pc + 3" (a call's arguments).
  // Its successors, each pushed with that depth:
  //   jump            its target only (readU16 at pc + 1)
  //   jump_if_false   its target and the next instruction
  //   ret, throw      none (info.name is 'throw' for chapter 10's)
  //   any other       the targets its info lists (info.targets?.(code, pc)), and the next
  return todo('stackDepths');
}

/**
 * The `afterBody` hook that emits an OSR entry per loop header of the function being
 * compiled, after `base`'s; `entries` receives them by function index and header offset.
 */
export function osrAfterBody(base: Template | undefined, opcodes: OpcodeSet, entries: Map<number, Map<number, { readonly label: Label; readonly depth: number }>>): Template {
  return (t) => {
    base?.(t);
    const { masm, fn } = t;
    const { ctx, t0, t1 } = t.registers;
    const own = new Map<number, { label: Label; depth: number }>();
    const headers = loopHeaders(fn, opcodes);
    const limit = masm.newLabel(`${fn.name}.osr.limit`);
    for (const [header, depth] of headers) {
      const target = t.jumpTarget(header, depth);
      const label = masm.newLabel(`${fn.name}.osr${String(header).padStart(4, '0')}`);
      masm.bind(label);
      masm.comment(`${fn.name}: on-stack replacement at the loop header ${String(header).padStart(4, '0')}: the same frame, the interpreter's ${fn.locals} locals and ${depth} stack values`);
      masm.prologue(fn.locals + fn.maxStack);
      masm.move(t1, masm.regs.sp);
      masm.load(t0, ctx, EX.stackLimit!);
      masm.branchIf('ult', t1, t0, limit);
      masm.load(t1, ctx, TX.transfer!);
      for (let i = 0; i < fn.locals + depth; i++) {
        masm.load(t0, t1, 8 * i);
        masm.storeSlot(t0, i);
      }
      masm.jump(target);
      own.set(header, { label, depth });
    }
    if (headers.size > 0) {
      const table = unwindTable(t.tables);
      masm.bind(limit);
      masm.comment(`${fn.name}: an on-stack replacement entry found the stack limit crossed: throw ${RUNTIME_ERROR_PAYLOADS.stackOverflow.payload} (stack overflow)`);
      masm.moveImmediate(masm.regs.args[0]!, RUNTIME_ERROR_PAYLOADS.stackOverflow.payload);
      const at = emitThrow(masm, table, ERROR_KIND.stackOverflow + 1);
      table.current!.sites.push({ kind: 'limit', at, line: fn.line, handler: undefined });
    }
    entries.set(fn.index, own);
  };
}
