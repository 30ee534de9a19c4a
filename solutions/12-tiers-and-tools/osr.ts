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

/** The loop headers of `fn`: targets of its backward jumps, with the operand-stack depth there. */
export function loopHeaders(fn: CompiledFunction, opcodes: OpcodeSet): Map<number, number> {
  const headers = new Map<number, number>();
  const depths = stackDepths(fn, opcodes);
  for (let pc = 0; pc < fn.code.length; pc += opcodes.size(fn.code[pc]!)) {
    if (fn.code[pc] !== Op.jump) continue;
    const target = readU16(fn.code, pc + 1);
    const depth = depths.get(target);
    if (target <= pc && depth !== undefined) headers.set(target, depth);
  }
  return headers;
}

/** The operand-stack depth before each instruction that some path reaches, by one forward pass per path. */
function stackDepths(fn: CompiledFunction, opcodes: OpcodeSet): Map<number, number> {
  const depths = new Map<number, number>();
  const work: [number, number][] = [[0, 0]];
  const reach = (pc: number, depth: number) => {
    if (!depths.has(pc)) work.push([pc, depth]);
  };
  for (const h of handlersOf(fn)) reach(h.target, h.depth + 1); // a catch block starts with the payload pushed
  while (work.length > 0) {
    const [pc, depth] = work.pop()!;
    if (depths.has(pc) || pc >= fn.code.length) continue;
    depths.set(pc, depth);
    const opcode = fn.code[pc]!;
    const info = opcodes.byCode[opcode]!;
    const pops = info.pops === -1 ? fn.code[pc + 3]! : info.pops;
    const after = depth - pops + info.pushes;
    const next = pc + opcodes.size(opcode);
    if (opcode === Op.jump) reach(readU16(fn.code, pc + 1), after);
    else if (opcode === Op.jump_if_false) {
      reach(readU16(fn.code, pc + 1), after);
      reach(next, after);
    } else if (opcode !== Op.ret && info.name !== 'throw') {
      for (const target of info.targets?.(fn.code, pc) ?? []) reach(target, after);
      reach(next, after);
    }
  }
  return depths;
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
