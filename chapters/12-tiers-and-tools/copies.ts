/**
 * Chapter 12: the interpreter's copies of the bytecode. The compilers read each function's
 * own bytecode; the interpreter runs a copy in which every `call` and every back edge (a
 * `jump` to an offset at or before its own) is one of chapter 12's opcodes, of the same size,
 * so that offsets, stack maps, line tables and handler tables hold for the copy unchanged:
 *
 *   call f n   →  tier_call f n
 *   jump t     →  tier_loop t
 *
 * A nested interpreter run, for machine code that calls an interpreted function, starts at a
 * trampoline: `const a0 … const an-1; tier_call f n; ret`, with the arguments as constants.
 */
import { CORE_OPCODES, Op, readU16, type CompiledFunction, type StackMap } from '#ch06/bytecode.ts';
import type { InterpreterState } from '#ch06/interpreter.ts';
import { todo } from '#native/todo.ts';

/** Chapter 12's opcodes, in the interpreter's copy of the bytecode only. */
export const TIER_OPCODES = { call: 0x70, loop: 0x71 } as const;

export const CALL_SIZE = CORE_OPCODES.size(Op.call);
/** The interpreter's copy of `fn`: calls and back edges replaced by chapter 12's opcodes. */
export function quicken(fn: CompiledFunction, opcodes: CompiledProgramOpcodes): CompiledFunction {
  // TODO: the interpreter's copy of fn's bytecode. Copy fn.code into a new array (the
  // compilers go on reading the original), then walk the copy one instruction at a time
  // (opcodes.size(opcode) bytes each) and change opcode bytes only, never operands:
  //   - a call                                        becomes TIER_OPCODES.call
  //   - a jump whose target (readU16 at pc + 1) is at or before the jump's own offset (a
  //     loop's back edge)                             becomes TIER_OPCODES.loop
  //   - every other instruction, a forward jump included, stays as it is
  // Return fn with the new code and every other field as it was: no offset moved, so the
  // stack maps, the line table and the handler table hold for the copy.
  return todo('quicken');
}

type CompiledProgramOpcodes = { size(opcode: number): number };

/** `const a0 … const an-1; tier_call f n; ret`: a machine caller, for a nested interpreter run. */
export function makeTrampoline(index: number, callee: CompiledFunction, args: readonly bigint[]): CompiledFunction {
  const code: number[] = [];
  args.forEach((_, i) => code.push(Op.const, i & 0xff, i >> 8));
  const call = code.length;
  code.push(TIER_OPCODES.call, callee.index & 0xff, callee.index >> 8, args.length, Op.ret);
  const map: StackMap = { offset: call, locals: [], stack: [] };
  return {
    name: `(enter ${callee.name})`,
    index,
    params: [],
    returnType: callee.returnType,
    locals: 0,
    maxStack: Math.max(1, args.length),
    code: Uint8Array.from(code),
    constants: args,
    lines: [{ offset: 0, line: callee.line }],
    line: callee.line,
    stackMaps: new Map([[call, map]]),
  };
}

/** The offset of one of `fn`'s `ret` instructions (every function ends with one). */
export function returnOffset(fn: CompiledFunction): number {
  const at = fn.code.lastIndexOf(Op.ret);
  if (at < 0 || at !== fn.code.length - 1) throw new Error(`${fn.name} does not end with ret: the bytecode compiler always ends a function with one`);
  return at;
}

/** The running frame's caller, as the state of a suspended run (for its roots). */
export function callerView(state: InterpreterState): InterpreterState {
  const { callers } = state;
  const depth = state.depth - 1;
  return {
    ...state,
    depth,
    fn: callers.functions[callers.function[depth]!]!,
    pc: callers.pc[depth]! - CALL_SIZE,
    bp: callers.bp[depth]!,
  };
}
