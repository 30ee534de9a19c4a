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
import { todo } from '#native/todo.ts';

export function copyPropagation(input: Func): Func {
  // TODO: on a clone, repeat until nothing changes: collect the copies (`copy v` is v; a
  // phi whose operands other than itself are all one value is that value), replace their
  // uses (replaceAllUses), and remove them.
  return todo('copyPropagation');
}
