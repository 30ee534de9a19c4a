/**
 * Chapter 08: dominators.
 *
 * Block A dominates block B when every path from the entry to B passes through A. The
 * immediate dominator of B is its closest strict dominator; the immediate dominators form
 * a tree rooted at the entry, the dominator tree, which SSA rests on: a value defined in A
 * may be used in every block A dominates.
 *
 * The algorithm is the iterative one of Cooper, Harvey and Kennedy ("A Simple, Fast
 * Dominance Algorithm", 2001): number the blocks in reverse postorder, start with
 * idom(entry) = entry, and for each other block intersect the dominators of its processed
 * predecessors by walking both up the tree until they meet; repeat until nothing changes
 * (twice or three times for ordinary code).
 */
import { predecessors, reversePostorder, type Func } from './ir.ts';
import { todo } from '#native/todo.ts';

export interface DominatorTree {
  /** Reachable blocks in reverse postorder. */
  readonly order: readonly number[];
  /** Immediate dominator of each reachable block (the entry's is itself). */
  readonly idom: ReadonlyMap<number, number>;
  /** Children in the dominator tree, in reverse postorder. */
  readonly children: ReadonlyMap<number, readonly number[]>;
  /** Does block a dominate block b (a == b included)? Both must be reachable. */
  dominates(a: number, b: number): boolean;
  readonly reachable: ReadonlySet<number>;
}

export function dominatorTree(fn: Func): DominatorTree {
  // TODO: Cooper, Harvey and Kennedy, in four steps:
  //   1. order = the blocks in reverse postorder (reversePostorder in ir.ts); index of each.
  //   2. idom(entry) = entry. Repeat until nothing changes: for each other block in order,
  //      take its predecessors that already have an idom and fold them with intersect(a, b):
  //      while a != b, move the one with the larger index up to its idom.
  //   3. children: each block under its idom.
  //   4. dominates(a, b): number a preorder walk of the tree (enter and exit times); a
  //      dominates b when b's interval lies inside a's.
  return todo('dominatorTree');
}

/** Blocks in a preorder walk of the dominator tree (a block before every block it dominates). */
export function dominatorPreorder(tree: DominatorTree): number[] {
  const out: number[] = [];
  const stack = [tree.order[0]!];
  while (stack.length > 0) {
    const id = stack.pop()!;
    out.push(id);
    const kids = tree.children.get(id) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return out;
}
