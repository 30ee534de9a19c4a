/**
 * CFG simplification: fewer, larger blocks, and no branch that has nothing to decide.
 *
 *   before                         after
 *   b0:                            b0:
 *     v1 = const int 4               v1 = const int 4
 *     jump b1                        print v1
 *   b1:                              return v1
 *     print v1
 *     return v1
 *
 * Repeated until nothing changes:
 *   - blocks unreachable from the entry go (and their operands leave the phis they fed);
 *   - `branch v, bX, bX` becomes `jump bX`;
 *   - a block whose only predecessor ends in a jump to it is merged into that predecessor
 *     (its phis, each with one operand, become that operand);
 *   - a block that holds nothing but `jump bT` is skipped: its predecessors jump to bT
 *     directly, when bT's phis can take them (no predecessor of it already reaches bT).
 */
import { cloneFunction, predecessors, removePhiEdge, replaceAllUses, reversePostorder, successors, type Block, type Func } from '../ir.ts';
import { todo } from '#native/todo.ts';

export function simplifyCfg(input: Func): Func {
  const fn = cloneFunction(input);
  for (let changed = true; changed; ) {
    changed = removeUnreachable(fn) || foldSameTargets(fn) || mergeIntoPredecessor(fn) || skipForwarders(fn);
  }
  return fn;
}

function removeUnreachable(fn: Func): boolean {
  const reachable = new Set(reversePostorder(fn).map((b) => b.id));
  if (reachable.size === fn.blocks.length) return false;
  for (const block of fn.blocks) {
    if (reachable.has(block.id)) continue;
    for (const t of successors(block)) {
      const target = fn.blocks.find((b) => b.id === t);
      if (target && reachable.has(t)) removePhiEdge(target, block.id);
    }
  }
  fn.blocks = fn.blocks.filter((b) => reachable.has(b.id));
  return true;
}

function foldSameTargets(fn: Func): boolean {
  let changed = false;
  for (const block of fn.blocks) {
    const last = block.insts.at(-1)!;
    if (last.op === 'branch' && last.targets![0] === last.targets![1]) {
      block.insts[block.insts.length - 1] = { id: last.id, op: 'jump', type: 'void', args: [], targets: [last.targets![0]!], line: last.line };
      changed = true;
    }
  }
  return changed;
}

function mergeIntoPredecessor(fn: Func): boolean {
  // TODO: find a block (not the entry) with exactly one predecessor that ends in `jump` to
  // it. Its phis have one operand each: they become that operand (replaceAllUses). Move its
  // other instructions to the end of the predecessor in place of the jump, delete the
  // block, and rename it to the predecessor in the phis of its successors. Return true
  // after one merge (the caller repeats), false if there is none.
  return todo('simplifyCfg: merging a block into its predecessor');
}

function skipForwarders(fn: Func): boolean {
  // TODO: find a block (not the entry) that holds only `jump bT` (bT not itself). Unless
  // one of its predecessors already goes to bT (a phi could not tell the edges apart):
  // point its predecessors' terminators at bT, give bT's phis the forwarder's operand once
  // per such predecessor in place of the forwarder's, delete the forwarder, return true.
  return todo('simplifyCfg: skipping a block that only jumps');
}
