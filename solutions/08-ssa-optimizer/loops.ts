/**
 * Chapter 08: natural loops.
 *
 * An edge t → h whose target dominates its source is a *back edge*, and h is a loop
 * header. The loop is h and every block that can reach t without going through h. Loops
 * with one header are merged (several back edges, one loop).
 */
import type { DominatorTree } from './dominators.ts';
import { predecessors, successors, type Func } from './ir.ts';

export interface Loop {
  readonly header: number;
  /** Every block of the loop, the header included. */
  readonly blocks: ReadonlySet<number>;
  /** Sources of the back edges. */
  readonly latches: readonly number[];
}

/** The loops of `fn`, innermost (smallest) first. */
export function findLoops(fn: Func, tree: DominatorTree): Loop[] {
  const preds = predecessors(fn);
  const byHeader = new Map<number, { blocks: Set<number>; latches: number[] }>();
  for (const block of fn.blocks) {
    if (!tree.reachable.has(block.id)) continue;
    for (const h of successors(block)) {
      if (!tree.dominates(h, block.id)) continue;
      let loop = byHeader.get(h);
      if (loop === undefined) byHeader.set(h, (loop = { blocks: new Set([h]), latches: [] }));
      loop.latches.push(block.id);
      const work = [block.id];
      while (work.length > 0) {
        const b = work.pop()!;
        if (loop.blocks.has(b)) continue;
        loop.blocks.add(b);
        for (const p of preds.get(b) ?? []) if (tree.reachable.has(p)) work.push(p);
      }
    }
  }
  return [...byHeader].map(([header, l]) => ({ header, blocks: l.blocks, latches: l.latches })).sort((a, b) => a.blocks.size - b.blocks.size);
}
