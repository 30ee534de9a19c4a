/**
 * Dead-code elimination: an instruction whose value nobody needs, and that does nothing
 * else, is removed.
 *
 *   before                         after
 *     v3 = mul v1, v2                (gone: v3 is never used)
 *     v4 = div v1, v2 @7             v4 = div v1, v2 @7   ; kept: it may raise an error
 *     print v1                       print v1
 *
 * It marks rather than counts: the roots are the instructions that must stay (terminators,
 * side effects, anything that may raise a runtime error), and everything they use, then
 * everything that uses, is live. So a cycle of phis that only feed each other dies too,
 * which counting uses would never see. A division stays unless its divisor is a constant
 * other than zero: `x / 0` must still fail at its line.
 */
import { cloneFunction, definitions, type Func, type Inst } from '../ir.ts';
import { CORE_OPS, opInfo, type OpTable } from '../ops.ts';
import { todo } from '#native/todo.ts';

/** Must `inst` stay even when its value is unused? */
export function isRoot(inst: Inst, defs: ReadonlyMap<number, Inst>, ops: OpTable = CORE_OPS): boolean {
  const info = opInfo(ops, inst.op);
  const e = info.effects;
  if (info.terminator || e.sideEffect || e.writes || e.mayAllocate) return true;
  if (e.mayThrow) return !cannotThrow(inst, defs);
  return false;
}

/** A division or remainder by a constant other than 0 cannot fail (INT64_MIN / -1 wraps). */
export function cannotThrow(inst: Inst, defs: ReadonlyMap<number, Inst>): boolean {
  if (inst.op !== 'div' && inst.op !== 'mod') return false;
  const divisor = defs.get(inst.args[1]!);
  return divisor?.op === 'const' && divisor.imm !== 0n;
}

export function deadCodeElimination(input: Func, ops: OpTable = CORE_OPS): Func {
  // TODO: on a clone: every root (isRoot) is live; everything a live instruction uses is
  // live (a worklist); keep live instructions and params, drop the rest.
  return todo('deadCodeElimination');
}
