/**
 * Chapter 12: the countdown to the optimizing tier in baseline code. Each function has a word
 * in the countdown table (its address is in the context), set to the threshold when the run
 * starts; the baseline code takes one off at every call (in its prologue) and at every loop
 * back edge. The code that takes it to zero calls jot_tier_up(f, header), which compiles f in
 * the optimizing tier and points its entry there: the next call takes the new code; at a loop's
 * back edge the running frame moves to the optimized code at once (on-stack replacement).
 */
import { readU16 } from '#ch06/bytecode.ts';
import type { Register } from '#ch04/macro-assembler.ts';
import { emitRuntimeCall, type Template, type TemplateContext } from '#ch07/compiler.ts';
import { TX } from './stubs.ts';
import { todo } from '#native/todo.ts';

/**
 * The countdown to the optimizing tier, in baseline code: one word per function, decremented
 * at each call (in the prologue) and at each loop back edge; once it is down to zero,
 * jot_tier_up(f, header) compiles the function again, and its next call takes the optimized
 * code. Nothing is live in a register at either place but the pinned and callee-saved ones
 * (the arguments are in their slots, the operand stack in its own).
 *
 *   t1 = [ctx + countdown]; t0 = [t1 + 8f] - 1; [t1 + 8f] = t0
 *   if t0 == 0: t0 = jot_tier_up(f, header)      (header -1 in the prologue)
 *
 * jot_tier_up returns where the frame goes on, or 0 to stay: in the prologue the function's
 * optimized code, at a back edge with an empty operand stack the loop header's OSR variant
 * (osr-optimized.ts). With an address, the frame moves there on the spot:
 *
 *   prologue:   the arguments from their slots back to the argument registers
 *   back edge:  transfer[i] = slot i for every local
 *   remove this frame (the registers its prologue saved, fp, and on AArch64 lr, back to the
 *     caller's), as an epilogue does but without returning
 *   jump there: the code starts as if the caller had called it, checks the stack limit in
 *     its prologue as a call does, and returns to the caller. callsLeft is unchanged: one
 *     frame goes, one comes.
 *
 * Only the code that takes the word to zero asks: a function the optimizing tier declines
 * is not asked again, and the word keeps counting (the calls and back edges that ran in the
 * baseline code are the threshold minus the word, plus what the runtime put back: see the
 * VM's jot_tier_up).
 */
function emitCountdown(t: TemplateContext, site: 'prologue' | 'back edge', header?: number): void {
  // TODO: one less in fn's countdown word, and jot_tier_up(fn, header) when it reaches zero:
  // the steps are in the comment above. With ctx, t0 and t1 from t.registers:
  //   - a comment first: `${fn.name}: ${what}: one less before the optimizing tier`, where
  //     what is 'a call' in the prologue and 'a back edge' at a back edge
  //   - the word is at [[ctx + TX.countdown] + 8 × fn.index]: load, subtract 1, store back
  //   - not zero: branch past the call to a label bound at the end
  //   - zero: args[0] = fn.index, args[1] = header (-1 when there is none), then
  //     emitRuntimeCall with TX.tierUp and t1 as its scratch
  //   - in the prologue, and at a back edge with a header: a result of 0 goes on to the label
  //     at the end; any other result is where the frame goes on: emitReplaceFrame moves it
  //     there, carrying its 'arguments' (prologue) or its 'locals' (loop header)
  //   - at a back edge without a header (values on the operand stack) the result is ignored
  // Nothing else is live in a register here but the pinned and callee-saved ones.
  return todo('emitCountdown');
}

/**
 * The frame's arguments back to their registers (a prologue) or its locals to the transfer
 * buffer (a loop header), the frame removed, then a jump to the code at `target`.
 */
function emitReplaceFrame(t: TemplateContext, target: Register, carry: 'arguments' | 'locals'): void {
  const { masm, fn, frame } = t;
  const { ctx, t0, t1 } = t.registers;
  const { fp, sp } = masm.regs;
  masm.move(t1, target);
  if (carry === 'arguments') {
    masm.comment(`${fn.name}: into the optimized code from the start: the arguments back to their registers, this frame goes`);
    fn.params.forEach((_, i) => masm.loadSlot(masm.regs.args[i]!, i, frame));
  } else {
    const [base, value] = masm.regs.args.filter((r) => r !== t0 && r !== t1 && r !== target) as [Register, Register];
    masm.comment(`${fn.name}: into the optimized code at this loop header: ${fn.locals} locals to the transfer buffer, this frame goes`);
    masm.load(base, ctx, TX.transfer!);
    for (let i = 0; i < fn.locals; i++) {
      masm.loadSlot(value, i, frame);
      masm.store(value, base, 8 * i);
    }
  }
  frame.saved.forEach((reg, i) => masm.load(reg, fp, frame.savedOffset(i)));
  masm.move(sp, fp);
  if (masm.arch === 'arm64') {
    masm.load(LINK_REGISTER, sp, 8);
    masm.load(fp, sp, 0);
    masm.addImmediate(sp, sp, 16);
  } else {
    // The return address stays on the stack, where the call left it.
    masm.load(fp, sp, 0);
    masm.addImmediate(sp, sp, 8);
  }
  masm.jumpRegister(t1);
}

/** AArch64's x30, which holds the return address (the frame keeps the caller's at [fp + 8]). */
const LINK_REGISTER: Register = 30;

/** The baseline prologue (`base`), then the countdown. */
export function countdownPrologue(base: Template | undefined): Template {
  return (t) => {
    base?.(t);
    emitCountdown(t, 'prologue');
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
  if (target <= t.pc) emitCountdown(t, 'back edge', t.depth === 0 ? target : undefined);
  t.masm.jump(t.jumpTarget(target, t.depth));
};
