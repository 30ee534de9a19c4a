/**
 * Figures of chapter 08: the SSA graph of a loop, with the phis in its header, beside its
 * dominator tree. The blocks come from the reference builder run on the bytecode of the
 * reference compiler, the tree from the reference dominator algorithm (in a child process with
 * every chapter's reference, see run-reference.ts).
 */
import { Drawing } from '../svg.ts';
import { escapeHtml } from '../highlight.ts';
import { LOOP_SOURCE, loopText } from './06-interpreter.ts';
import { registerReference, runReference } from './run-reference.ts';

interface BlockJson {
  readonly id: number;
  /** The instructions as the reference printer prints them. */
  readonly lines: string[];
  readonly phis: number;
  /** Successors, `branch`'s true target first. */
  readonly targets: number[];
}

interface SsaJson {
  readonly blocks: BlockJson[];
  /** Immediate dominator of every reachable block (the entry's is itself). */
  readonly idom: [number, number][];
  /** The reachable blocks in reverse postorder. */
  readonly order: number[];
}

/** Run in the child: `main` of the chapter 06 loop as SSA, and its dominator tree. */
export async function ssaRun(): Promise<SsaJson> {
  const { compileSource } = await import('../../../solutions/06-interpreter/compiler.ts');
  const { buildProgram } = await import('../../../solutions/08-ssa-optimizer/build.ts');
  const { dominatorTree } = await import('../../../solutions/08-ssa-optimizer/dominators.ts');
  const { printInst } = await import('../../../solutions/08-ssa-optimizer/printer.ts');
  const ir = buildProgram(compileSource(LOOP_SOURCE));
  const fn = ir.functions.get(ir.main)!;
  const tree = dominatorTree(fn);
  return {
    blocks: fn.blocks.map((block) => ({
      id: block.id,
      lines: block.insts.map(printInst),
      phis: block.insts.filter((inst) => inst.op === 'phi').length,
      targets: [...(block.insts.at(-1)?.targets ?? [])],
    })),
    idom: [...tree.idom],
    order: [...tree.order],
  };
}

function cfgAndDominators(): string {
  const { blocks, idom, order } = runReference<SsaJson>(import.meta.url, 'ssaRun');
  const sorted = [...blocks].sort((a, b) => a.id - b.id);
  const lineHeight = 15;
  const boxWidth = 250;
  const gap = 34;
  const cfgX = 110;
  const heights = sorted.map((block) => 26 + block.lines.length * lineHeight);
  const tops: number[] = [];
  let y = 30;
  for (const height of heights) {
    tops.push(y);
    y += height + gap;
  }
  const cfgHeight = y - gap;
  const treeX = cfgX + boxWidth + 150;
  const idomOf = new Map(idom);
  const entry = order[0]!;
  const children = new Map<number, number[]>(order.map((id) => [id, []]));
  for (const id of order) if (id !== entry) children.get(idomOf.get(id)!)!.push(id);
  for (const list of children.values()) list.sort((a, b) => a - b);
  // Tree layout: depth down, leaves left to right, a parent above the middle of its children.
  const placed = new Map<number, { x: number; depth: number }>();
  let nextLeaf = 0;
  const layout = (id: number, depth: number): number => {
    const kids = children.get(id)!;
    const x = kids.length === 0 ? nextLeaf++ : kids.map((kid) => layout(kid, depth + 1)).reduce((sum, kx, _, all) => sum + kx / all.length, 0);
    placed.set(id, { x, depth });
    return x;
  };
  layout(entry, 0);
  const leafStep = 70;
  const treeWidth = Math.max(1, nextLeaf) * leafStep;
  const width = treeX + treeWidth + 20;
  const describeBlock = (block: BlockJson) => `b${block.id}: ${block.lines.join('; ')}`;
  const drawing = new Drawing(width, cfgHeight + 20,
    `Left, the control-flow graph the reference SSA builder makes for the loop ${loopText()}: ${sorted.map(describeBlock).join('. ')}. ` +
      `Right, its dominator tree: ${order.filter((id) => id !== entry).map((id) => `b${idomOf.get(id)} immediately dominates b${id}`).join(', ')}.`);
  drawing.text(cfgX + boxWidth / 2, 16, 'control-flow graph', { bold: true, size: 13 });
  const rowOf = new Map(sorted.map((block, i) => [block.id, i]));
  sorted.forEach((block, i) => {
    const top = tops[i]!;
    drawing.box(cfgX, top, boxWidth, heights[i]!, '', '', { accent: false });
    if (block.phis > 0) drawing.box(cfgX + 4, top + 22, boxWidth - 8, block.phis * lineHeight + 4, '', '', { accent: true, square: true });
    drawing.text(cfgX + 8, top + 16, `b${block.id}${block.phis > 0 ? '   loop header' : ''}`, { anchor: 'start', bold: true, size: 12 });
    block.lines.forEach((line, l) => drawing.text(cfgX + 10, top + 36 + l * lineHeight, line, { anchor: 'start', mono: true, size: 11, bold: l < block.phis }));
  });
  // Edges: to the next block straight down; forward past it on the right; back edges on the left.
  let rightLane = 0;
  let leftLane = 0;
  sorted.forEach((block, i) => {
    block.targets.forEach((target, t) => {
      const j = rowOf.get(target)!;
      const label = block.targets.length > 1 ? (t === 0 ? 'true' : 'false') : '';
      const fromY = tops[i]! + heights[i]!;
      if (j === i + 1) {
        drawing.arrow(cfgX + boxWidth / 2, fromY, cfgX + boxWidth / 2, tops[j]!);
        if (label) drawing.text(cfgX + boxWidth / 2 + 6, fromY + 20, label, { anchor: 'start', mono: true, size: 11, muted: true });
      } else if (j > i) {
        const x = cfgX + boxWidth + 18 + 16 * rightLane++;
        drawing.route([[cfgX + boxWidth, fromY - 10], [x, fromY - 10], [x, tops[j]! + 12], [cfgX + boxWidth + 2, tops[j]! + 12]], label);
      } else {
        const x = cfgX - 18 - 16 * leftLane++;
        drawing.route([[cfgX, fromY - 10], [x, fromY - 10], [x, tops[j]! + 12], [cfgX - 2, tops[j]! + 12]]);
        drawing.text(x - 4, (fromY + tops[j]!) / 2, 'back edge', { anchor: 'end', size: 11, muted: true });
      }
    });
  });
  // The dominator tree.
  drawing.text(treeX + treeWidth / 2, 16, 'dominator tree', { bold: true, size: 13 });
  const at = (id: number) => {
    const { x, depth } = placed.get(id)!;
    return [treeX + (x + 0.5) * leafStep, 40 + depth * 62] as const;
  };
  for (const [id, kids] of children) {
    const [px, py] = at(id);
    for (const kid of kids) {
      const [cx, cy] = at(kid);
      drawing.line(px, py + 28, cx, cy);
    }
  }
  for (const id of order) {
    const [x, top] = at(id);
    const block = sorted.find((candidate) => candidate.id === id)!;
    drawing.box(x - 22, top, 44, 28, `b${id}`, '', { accent: block.phis > 0 });
  }
  const header = sorted.find((block) => block.phis > 0);
  return drawing.render(
    `The loop of chapter 06 (<code>${escapeHtml(loopText())}</code>) as the reference builder turns its bytecode into SSA, and beside it the dominator tree the reference algorithm computes. ` +
      (header ? `The header b${header.id} merges the values from before the loop and from the back edge: one phi per variable written in the loop (shaded). ` : '') +
      'Every block is dominated by its ancestors in the tree: the header dominates the body and the exit, which is why values defined there may be used in both.',
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'ssaRun');

export const FIGURES_08: Readonly<Record<string, () => string>> = {
  'ssa-loop-dominators': cfgAndDominators,
};
