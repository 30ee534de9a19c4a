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
  const { masm, fn } = t;
  const { ctx, t0, t1 } = t.registers;
  const done = masm.newLabel();
  masm.comment(`${fn.name}: ${what}: one less before the optimizing tier`);
  masm.load(t1, ctx, TX.countdown!);
  masm.load(t0, t1, 8 * fn.index);
  masm.addImmediate(t0, t0, -1);
  masm.store(t0, t1, 8 * fn.index);
  masm.branchIfNonZero(t0, done);
  masm.moveImmediate(masm.regs.args[0]!, BigInt(fn.index));
  emitRuntimeCall(masm, t.registers, TX.tierUp!, t1);
  masm.bind(done);
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
