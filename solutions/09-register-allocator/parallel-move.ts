/**
 * Chapter 09: parallel moves.
 *
 * Leaving SSA puts a *parallel move* on every edge into a block with phis: all phis of the
 * block take their operands at once, as if every source were read before any destination
 * is written. The machine moves one word at a time, so the moves must be put in an order
 * (sequenced) that gives the same result:
 *
 *   a move whose destination no other pending move still reads can go now;
 *   when none can go, the pending moves form cycles (r1 → r2 → r1, a swap): one
 *   destination's current value is saved in a scratch register, and every move that
 *   reads it reads the scratch instead, which breaks the cycle.
 *
 * AArch64 has no swap instruction, and x86-64's xchg does not work on two stack slots, so
 * the scratch register is the one way for both. A move from a stack slot to a stack slot
 * (both values spilled) goes through a second scratch register, since no instruction
 * moves memory to memory on either ISA. Constants are written last: they read nothing.
 */
import type { Register } from '#ch04/macro-assembler.ts';
import { inReg, locationKey, sameLocation, type Location, type Move, type Operand } from './machine.ts';

/** The two registers sequencing may use: nothing live is ever kept in them across moves. */
export interface MoveScratch {
  /** Holds a saved value while a cycle is broken. */
  readonly cycle: Register;
  /** Carries a word from one stack slot to another. */
  readonly memory: Register;
}

// @book:start sequence-signature
/**
 * The moves `moves` (a parallel move: no two have the same destination) as a sequence of
 * single moves with the same effect. Moves whose source is their destination disappear;
 * a move between two stack slots becomes two moves through `scratch.memory`.
 */
export function sequenceMoves(moves: readonly Move[], scratch: MoveScratch): Move[] {
// @book:end sequence-signature
  const out: Move[] = [];
  const emit = (from: Operand, to: Location) => {
    if (from.kind === 'slot' && to.kind === 'slot') {
      out.push({ from, to: inReg(scratch.memory) }, { from: inReg(scratch.memory), to });
    } else out.push({ from, to });
  };
  let pending = moves.filter((m) => m.from.kind !== 'imm' && !sameLocation(m.from, m.to));
  const constants = moves.filter((m) => m.from.kind === 'imm');
  while (pending.length > 0) {
    const read = new Set(pending.map((m) => (m.from.kind === 'imm' ? '' : locationKey(m.from))));
    const ready = pending.findIndex((m) => !read.has(locationKey(m.to)));
    if (ready >= 0) {
      const move = pending[ready]!;
      emit(move.from, move.to);
      pending.splice(ready, 1);
      continue;
    }
    // Only cycles are left: save the destination of the first move, and read it from the scratch.
    const blocked = pending[0]!.to;
    const saved = inReg(scratch.cycle);
    emit(blocked, saved);
    pending = pending.map((m) => (sameLocation(m.from, blocked) ? { from: saved, to: m.to } : m));
  }
  for (const move of constants) out.push(move);
  return out;
}
