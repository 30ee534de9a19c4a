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
  const fn = cloneFunction(input);
  const defs = definitions(fn);
  const live = new Set<number>();
  const work: Inst[] = [];
  for (const block of fn.blocks) for (const inst of block.insts) if (isRoot(inst, defs, ops)) work.push(inst);
  while (work.length > 0) {
    const inst = work.pop()!;
    if (live.has(inst.id)) continue;
    live.add(inst.id);
    for (const a of inst.args) {
      const def = defs.get(a);
      if (def !== undefined && !live.has(a)) work.push(def);
    }
  }
  for (const block of fn.blocks) block.insts = block.insts.filter((i) => live.has(i.id) || i.op === 'param');
  return fn;
}
