/**
 * Global value numbering over the dominator tree: two instructions that compute the same
 * operation on the same operands give the same value, so the second is replaced by the
 * first, wherever the first dominates it.
 *
 *   before                         after
 *   b0:                            b0:
 *     v3 = add v1, v2                v3 = add v1, v2
 *     branch v9, b1, b2              branch v9, b1, b2
 *   b1:                            b1:
 *     v4 = add v2, v1                print v3            ; add is commutative: same value
 *     print v4
 *
 * The walk goes down the dominator tree with a scoped table: entering a block adds its
 * instructions' keys, leaving it forgets them, so a value is only reused where its
 * definition dominates. A key is the operation, the type, the constant, and the operands
 * (sorted for a commutative operation) after replacement. Only operations that are pure
 * functions of their operands take part, and divisions too: a second `a / b` dominated by
 * a first one that did not fail cannot fail either.
 */
import { dominatorTree } from '../dominators.ts';
import { cloneFunction, type Func, type Inst } from '../ir.ts';
import { CORE_OPS, isPure, opInfo, type OpTable } from '../ops.ts';

function key(inst: Inst, ops: OpTable): string | undefined {
  const info = opInfo(ops, inst.op);
  const divides = inst.op === 'div' || inst.op === 'mod';
  if (!isPure(info) && !divides && inst.op !== 'const') return undefined;
  const args = info.commutative ? [...inst.args].sort((a, b) => a - b) : inst.args;
  return `${inst.op}:${inst.type}:${inst.imm ?? ''}:${args.join(',')}`;
}

export function globalValueNumbering(input: Func, ops: OpTable = CORE_OPS): Func {
  const fn = cloneFunction(input);
  const tree = dominatorTree(fn);
  const blocks = new Map(fn.blocks.map((b) => [b.id, b]));
  const replacement = new Map<number, number>();
  const table = new Map<string, number>();
  const resolve = (v: number) => replacement.get(v) ?? v;

  // An explicit stack of (block, keys it added): leaving a block removes its keys.
  const stack: { block: number; added: string[]; visited: boolean }[] = [{ block: tree.order[0]!, added: [], visited: false }];
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    if (top.visited) {
      for (const k of top.added) table.delete(k);
      stack.pop();
      continue;
    }
    top.visited = true;
    const block = blocks.get(top.block)!;
    block.insts = block.insts.filter((inst) => {
      inst.args = inst.args.map(resolve);
      const k = key(inst, ops);
      if (k === undefined) return true;
      const existing = table.get(k);
      if (existing !== undefined) {
        replacement.set(inst.id, existing);
        return false;
      }
      table.set(k, inst.id);
      top.added.push(k);
      return true;
    });
    const children = tree.children.get(top.block) ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ block: children[i]!, added: [], visited: false });
  }
  // Phis read their operands at the end of predecessors, which may come later in the walk.
  for (const block of fn.blocks) for (const inst of block.insts) inst.args = inst.args.map(resolve);
  return fn;
}
