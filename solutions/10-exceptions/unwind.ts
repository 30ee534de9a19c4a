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
  const payload = payloadOf(error);
  const trace: TraceFrame[] = [];
  for (;;) {
    const handler = payload === undefined ? undefined : findHandler(state.fn, state.pc);
    if (handler !== undefined) {
      state.sp = state.bp + state.fn.locals + handler.depth;
      state.stack[state.sp++] = payload!;
      state.pc = handler.target;
      return;
    }
    trace.push({ name: state.fn.name, line: lineAt(state.fn, state.pc) });
    if (state.depth === 1) throw new UncaughtException(error, payload, trace);
    state.popFrame();
  }
}
