/**
 * Chapter 12: the countdown to the optimizing tier in baseline code. Each function has a word
 * in the countdown table (its address is in the context), set to the threshold when the run
 * starts; the baseline code takes one off at every call (in its prologue) and at every loop
 * back edge. The code that takes it to zero calls jot_tier_up(f), which compiles f in the
 * optimizing tier and points its entry there: the next call takes the new code.
 */
import { readU16 } from '#ch06/bytecode.ts';
import { emitRuntimeCall, type Template, type TemplateContext } from '#ch07/compiler.ts';
import { TX } from './stubs.ts';
import { todo } from '#native/todo.ts';

/**
 * The countdown to the optimizing tier, in baseline code: one word per function, decremented
 * at each call (in the prologue) and at each loop back edge; at zero, jot_tier_up(f)
 * compiles the function again, and its next call takes the optimized code. Nothing is live
 * in a register at either place but the pinned and callee-saved ones (the arguments are in
 * their slots, the operand stack in its own).
 *
 *   t1 = [ctx + countdown]; t0 = [t1 + 8f] - 1; [t1 + 8f] = t0
 *   if t0 == 0: jot_tier_up(f)
 */
function emitCountdown(t: TemplateContext, what: string): void {
  // TODO: one less in fn's countdown word, and jot_tier_up(fn) when it reaches zero: the
  // steps are in the comment above. With ctx, t0 and t1 from t.registers:
  //   - a comment first: `${fn.name}: ${what}: one less before the optimizing tier`
  //   - the word is at [[ctx + TX.countdown] + 8 × fn.index]: load, subtract 1, store back
  //   - not zero: branch past the call to a label bound at the end
  //   - zero: args[0] = fn.index, then emitRuntimeCall with TX.tierUp and t1 as its scratch
  // Nothing else is live in a register here but the pinned and callee-saved ones.
  return todo('emitCountdown');
}

/** The baseline prologue (`base`), then the countdown. */
export function countdownPrologue(base: Template | undefined): Template {
  return (t) => {
    base?.(t);
    emitCountdown(t, 'a call');
  };
}

/**
 * Chapter 07's `jump`, with the countdown before a back edge (a jump to an offset at or
 * before its own: the end of a loop body). A loop's end is followed by the loop's exit,
 * which a branch aims at, so the compiler knows the stack depth there without being told
 * that this jump does not fall through.
 */
export const countdownJump: Template = (t) => {
  const target = readU16(t.fn.code, t.pc + 1);
  if (target <= t.pc) emitCountdown(t, 'a back edge');
  t.masm.jump(t.jumpTarget(target, t.depth));
};
