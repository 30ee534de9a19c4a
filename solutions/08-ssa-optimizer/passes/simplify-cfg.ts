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
  const preds = predecessors(fn);
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  for (const block of fn.blocks.slice(1)) {
    const from = preds.get(block.id)!;
    if (from.length !== 1) continue;
    const pred = byId.get(from[0]!)!;
    const last = pred.insts.at(-1)!;
    if (last.op !== 'jump' || pred === block) continue;
    const substitution = new Map<number, number>();
    for (const inst of block.insts) if (inst.op === 'phi') substitution.set(inst.id, inst.args[0]!);
    pred.insts = [...pred.insts.slice(0, -1), ...block.insts.filter((i) => i.op !== 'phi')];
    fn.blocks = fn.blocks.filter((b) => b !== block);
    // Successors' phis named `block` as their predecessor: now it is `pred`.
    for (const t of successors(pred)) {
      for (const inst of byId.get(t)!.insts) {
        if (inst.op !== 'phi') break;
        inst.preds = inst.preds!.map((p) => (p === block.id ? pred.id : p));
      }
    }
    replaceAllUses(fn, substitution);
    return true;
  }
  return false;
}

function skipForwarders(fn: Func): boolean {
  const preds = predecessors(fn);
  const byId = new Map(fn.blocks.map((b) => [b.id, b]));
  for (const block of fn.blocks.slice(1)) {
    if (block.insts.length !== 1 || block.insts[0]!.op !== 'jump') continue;
    const target = byId.get(block.insts[0]!.targets![0]!)!;
    if (target === block) continue;
    const from = preds.get(block.id)!;
    const targetPreds = new Set(preds.get(target.id)!);
    if (from.some((p) => targetPreds.has(p))) continue; // a phi could not tell the two edges apart
    for (const p of from) {
      const last = byId.get(p)!.insts.at(-1)!;
      last.targets = last.targets!.map((t) => (t === block.id ? target.id : t));
    }
    for (const inst of target.insts) {
      if (inst.op !== 'phi') break;
      const k = inst.preds!.indexOf(block.id);
      const value = inst.args[k]!;
      inst.args.splice(k, 1, ...from.map(() => value));
      inst.preds!.splice(k, 1, ...from);
    }
    fn.blocks = fn.blocks.filter((b: Block) => b !== block);
    return true;
  }
  return false;
}
