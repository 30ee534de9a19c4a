/**
 * Chapter 10: exceptions in the interpreter.
 *
 * `throw` raises a `ThrownException`; chapter 06's runtime errors are raised as they always
 * were. Either way chapter 06's loop hands the error to the level's `raise` hook, `unwind`
 * here, with the machine's registers:
 *
 *   1. the payload: the thrown value, or the runtime error's fixed payload (errors.ts);
 *   2. from the running frame outwards: the first handler whose range holds the frame's pc
 *      (handlers.ts). If there is one, the frame's operand stack is cut to the handler's
 *      depth, the payload is pushed, and the loop goes on at the handler's target;
 *   3. if none, the frame goes into the trace and its caller is next (`popFrame`); after
 *      `main` the run ends with `UncaughtException`, carrying the whole trace.
 *
 * Nothing of this runs while no exception is thrown: a `try` costs the interpreter nothing.
 */
import { lineAt } from '#ch06/bytecode.ts';
import { RuntimeError, type InterpreterState, type RaiseState } from '#ch06/interpreter.ts';
import { ThrownException, UncaughtException, payloadOfMessage } from './errors.ts';
import { findHandler } from './handlers.ts';
import type { TraceFrame } from './trace.ts';
import { todo } from '#native/todo.ts';

/** The handler of the `throw` opcode: raises the payload on top of the stack. */
export function interpretThrow(state: InterpreterState): void {
  throw new ThrownException(state.stack[state.sp - 1]!, lineAt(state.fn, state.pc));
}

/** The payload of an exception: what was thrown, or the runtime error's fixed payload. */
export function payloadOf(error: RuntimeError): bigint | undefined {
  return error instanceof ThrownException ? error.payload : payloadOfMessage(error.detail);
}

/** The `raise` hook: continues at the innermost handler, or ends the run with the trace. */
export function unwind(error: RuntimeError, state: RaiseState): void {
  // TODO: the interpreter's unwind walk, from the running frame outwards.
  //   payload: payloadOf(error) (undefined for an error that is no exception: none is caught)
  //   in each frame, the handler of state.fn for state.pc (handlers.ts); if there is one:
  //     cut the frame's operand stack to the handler's depth (it counts from the frame's
  //     first operand slot, after the locals), push the payload, continue at the target
  //   if not: this frame goes into the trace (its name, the line of state.pc), then
  //     the outermost frame (state.depth === 1) ends the run: UncaughtException(error, payload, trace)
  //     any other: state.popFrame() makes the caller the running frame, its pc at its call
  return todo('unwind (the interpreter)');
}
