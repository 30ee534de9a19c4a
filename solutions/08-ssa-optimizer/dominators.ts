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
  const order = reversePostorder(fn).map((b) => b.id);
  const index = new Map(order.map((id, i) => [id, i]));
  const preds = predecessors(fn);
  const idom = new Map<number, number>();
  const entry = order[0]!;
  idom.set(entry, entry);

  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (index.get(a)! > index.get(b)!) a = idom.get(a)!;
      while (index.get(b)! > index.get(a)!) b = idom.get(b)!;
    }
    return a;
  };

  for (let changed = true; changed; ) {
    changed = false;
    for (const block of order.slice(1)) {
      let candidate: number | undefined;
      for (const p of preds.get(block) ?? []) {
        if (!idom.has(p)) continue; // not processed yet, or unreachable
        candidate = candidate === undefined ? p : intersect(p, candidate);
      }
      if (candidate !== undefined && idom.get(block) !== candidate) {
        idom.set(block, candidate);
        changed = true;
      }
    }
  }

  const children = new Map<number, number[]>(order.map((id) => [id, []]));
  for (const id of order.slice(1)) children.get(idom.get(id)!)!.push(id);

  // Preorder numbering of the tree: a dominates b iff b's interval lies inside a's.
  const enter = new Map<number, number>();
  const exit = new Map<number, number>();
  let clock = 0;
  const stack: { id: number; next: number }[] = [{ id: entry, next: 0 }];
  enter.set(entry, clock++);
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    const kids = children.get(top.id)!;
    if (top.next < kids.length) {
      const child = kids[top.next++]!;
      enter.set(child, clock++);
      stack.push({ id: child, next: 0 });
    } else {
      exit.set(top.id, clock++);
      stack.pop();
    }
  }

  return {
    order,
    idom,
    children,
    reachable: new Set(order),
    dominates: (a, b) => enter.get(a)! <= enter.get(b)! && exit.get(b)! <= exit.get(a)!,
  };
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
