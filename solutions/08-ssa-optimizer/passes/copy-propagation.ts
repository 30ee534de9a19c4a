/**
 * Copy propagation: a value that is only another value under a new name is replaced by
 * that value everywhere, and its instruction goes.
 *
 *   before                         after
 *     v3 = copy v1                   v4 = add v1, v1
 *     v4 = add v3, v1
 *     v5 = phi int [b1: v1], [b2: v1]   (gone; its users read v1)
 *
 * Two kinds of instruction are copies: `copy`, and a phi whose operands are all one value
 * (or the phi itself, around a loop). Removing one phi can make another trivial, so it
 * repeats until nothing changes.
 */
import { cloneFunction, replaceAllUses, type Func } from '../ir.ts';

export function copyPropagation(input: Func): Func {
  const fn = cloneFunction(input);
  for (let changed = true; changed; ) {
    changed = false;
    const substitution = new Map<number, number>();
    for (const block of fn.blocks) {
      for (const inst of block.insts) {
        if (inst.op === 'copy') substitution.set(inst.id, inst.args[0]!);
        if (inst.op === 'phi') {
          const others = new Set(inst.args.filter((a) => a !== inst.id));
          if (others.size === 1) substitution.set(inst.id, [...others][0]!);
        }
      }
    }
    if (substitution.size === 0) break;
    replaceAllUses(fn, substitution);
    for (const block of fn.blocks) block.insts = block.insts.filter((i) => !substitution.has(i.id));
    changed = true;
  }
  return fn;
}
