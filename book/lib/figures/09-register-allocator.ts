/**
 * Figures of chapter 09: the live intervals of a loop that calls a function, with the
 * location linear scan gave each on both ISAs; and a parallel move whose cycle is broken
 * through the scratch register. Both come from the reference allocator and the reference
 * move sequencer (in a child process with every chapter's reference, see run-reference.ts).
 */
import { escapeHtml } from '../highlight.ts';
import { Drawing } from '../svg.ts';
import { ARCHES, ARCH_TITLES, type FigureArch } from './04-assembler.ts';
import { registerReference, runReference } from './run-reference.ts';

/** The page's `squares` with the multiply replaced by a call, so that values live across it. */
export const CALL_LOOP_SOURCE = `fn sq(x) {
  return x * x;
}
fn sumsq(a, b) {
  let s = 0;
  while a < b {
    s = s + sq(a);
    a = a + 1;
  }
  return s;
}
fn main() {
  print(sumsq(1, 4));
  return 0;
}`;

/** The function whose intervals are drawn. */
const FUNCTION = 'sumsq';

interface IntervalsJson {
  /** Every value with an interval, by start then value number. */
  readonly intervals: { value: number; start: number; end: number; op: string; where: Record<FigureArch, string> }[];
  /** The ordinary instructions: index j (read at 2j, written at 2j + 1), operation, printed form. */
  readonly insts: { j: number; op: string; text: string }[];
  readonly blocks: { id: number; start: number; end: number }[];
  /** Indices j of the calls. */
  readonly calls: number[];
}

/** Run in the child: allocate FUNCTION for both ISAs with every register, and read the intervals and locations. */
export async function intervalsRun(): Promise<IntervalsJson> {
  const { compileSource } = await import('../../../solutions/06-interpreter/compiler.ts');
  const { compileOptimized } = await import('../../../solutions/09-register-allocator/jit.ts');
  const { blockOrder, numberInstructions } = await import('../../../solutions/09-register-allocator/liveness.ts');
  const { printInst } = await import('../../../solutions/08-ssa-optimizer/printer.ts');
  const { REG_NAMES } = await import('../../../solutions/03-encoders/x64.ts');
  const { regName } = await import('../../../solutions/03-encoders/arm64.ts');
  const names: Record<FigureArch, (reg: number) => string> = { x64: (reg) => REG_NAMES[reg]!, arm64: regName };
  type Seen = { intervals: Map<number, { start: number; end: number }>; where: Map<number, string>; ir: Parameters<typeof blockOrder>[0] };
  const seen = new Map<FigureArch, Seen>();
  for (const arch of ARCHES) {
    compileOptimized(compileSource(CALL_LOOP_SOURCE), arch, {
      onAllocated: (ir, details) => {
        if (ir.name !== FUNCTION) return;
        const where = new Map<number, string>();
        for (const [value, location] of details.allocated.locations) where.set(value, location.kind === 'reg' ? names[arch](location.reg) : `[slot ${location.slot}]`);
        seen.set(arch, { intervals: new Map([...details.intervals].map(([v, i]) => [v, { start: i.start, end: i.end }])), where, ir });
      },
    });
  }
  const x64 = seen.get('x64');
  const arm64 = seen.get('arm64');
  if (!x64 || !arm64) throw new Error(`the optimizing tier did not allocate ${FUNCTION} on both ISAs`);
  const describe = (s: Seen) => JSON.stringify([...s.intervals].sort((a, b) => a[0] - b[0]));
  if (describe(x64) !== describe(arm64)) throw new Error(`${FUNCTION}'s intervals differ between the ISAs: ${describe(x64)} and ${describe(arm64)}`);
  const order = blockOrder(x64.ir);
  const numbering = numberInstructions(order);
  const defs = new Map(order.flatMap((block) => block.insts.map((inst) => [inst.id, inst.op] as const)));
  return {
    intervals: [...x64.intervals]
      .map(([value, { start, end }]) => ({ value, start, end, op: defs.get(value)!, where: { x64: x64.where.get(value)!, arm64: arm64.where.get(value)! } }))
      .sort((a, b) => a.start - b.start || a.value - b.value),
    insts: order.flatMap((block) => block.insts.filter((inst) => numbering.index.has(inst.id)).map((inst) => ({ j: numbering.index.get(inst.id)!, op: inst.op, text: printInst(inst) }))),
    blocks: order.map((block) => ({ id: block.id, start: numbering.blockStart.get(block.id)!, end: numbering.blockEnd.get(block.id)! })),
    calls: [...numbering.calls],
  };
}

function liveIntervals(): string {
  const { intervals, insts, blocks, calls } = runReference<IntervalsJson>(import.meta.url, 'intervalsRun');
  const last = Math.max(...blocks.map((block) => block.end));
  const cell = 20;
  const labelX = 14;
  const axisX = 110;
  const x = (position: number) => axisX + position * cell;
  const columnX = (i: number) => x(last + 1) + 24 + i * 92;
  const rowHeight = 26;
  const rowsTop = 64;
  const rowsBottom = rowsTop + intervals.length * rowHeight;
  const crosses = (interval: { start: number; end: number }) => calls.some((j) => interval.start < 2 * j && interval.end > 2 * j + 1);
  // The printer ends a call with its bytecode offset (`@7`), which says nothing here.
  const callText = (j: number) => insts.find((inst) => inst.j === j)!.text.replace(/\s*@\d+$/, '');
  // The caption says where the values across a call went; hold the reference to it.
  for (const interval of intervals.filter(crosses)) {
    if (interval.where.x64.startsWith('[slot') || interval.where.arm64.startsWith('[slot')) {
      throw new Error(`v${interval.value} lives across a call, expected in a callee-saved register on both ISAs, found ${interval.where.x64} and ${interval.where.arm64}`);
    }
  }
  const describeInterval = (interval: IntervalsJson['intervals'][number]) =>
    `v${interval.value} (${interval.op}) [${interval.start}, ${interval.end}]${crosses(interval) ? ', live across the call' : ''}: ${ARCHES.map((arch) => `${interval.where[arch]} on ${ARCH_TITLES[arch]}`).join(', ')}`;
  const drawing = new Drawing(columnX(ARCHES.length) + 4, rowsBottom + 62,
    `The live intervals of the values of ${FUNCTION} as horizontal bars over instruction positions 0 to ${last}, each labelled with the location linear scan gave it. ` +
      `${intervals.map(describeInterval).join('. ')}. ` +
      `The call (${calls.map(callText).join(', ')}) reads at position ${calls.map((j) => 2 * j).join(', ')} and writes at ${calls.map((j) => 2 * j + 1).join(', ')}, where it destroys every caller-saved register. ` +
      `Blocks: ${blocks.map((block) => `b${block.id} [${block.start}, ${block.end}]`).join(', ')}.`);

  // Header: the positions, and each instruction's operation over its two positions.
  drawing.text(labelX, 30, 'position', { anchor: 'start', size: 11, muted: true });
  for (let p = 0; p <= last; p++) drawing.text(x(p) + cell / 2, 30, String(p), { mono: true, size: 10, muted: true });
  drawing.text(labelX, 50, 'instruction', { anchor: 'start', size: 11, muted: true });
  for (const inst of insts) drawing.text(x(2 * inst.j) + cell, 50, inst.op, { mono: true, size: 10, bold: calls.includes(inst.j) });
  ARCHES.forEach((arch, i) => drawing.text(columnX(i), 50, ARCH_TITLES[arch], { anchor: 'start', bold: true, size: 12 }));

  // The calls: a band over their two positions, through every row.
  for (const j of calls) {
    drawing.line(x(2 * j), 36, x(2 * j), rowsBottom + 4, { dashed: true });
    drawing.line(x(2 * j + 2), 36, x(2 * j + 2), rowsBottom + 4, { dashed: true });
  }
  // One row per interval: its value, its bar (shaded if it lives across a call), its locations.
  intervals.forEach((interval, i) => {
    const top = rowsTop + i * rowHeight;
    drawing.text(labelX, top + 16, `v${interval.value}`, { anchor: 'start', mono: true, bold: true, size: 12 });
    drawing.text(labelX + 38, top + 16, interval.op, { anchor: 'start', mono: true, size: 11, muted: true });
    drawing.box(x(interval.start), top + 5, (interval.end - interval.start + 1) * cell, 15, '', '', { accent: crosses(interval) });
    ARCHES.forEach((arch, c) => drawing.text(columnX(c), top + 16, interval.where[arch], { anchor: 'start', mono: true, size: 12, bold: crosses(interval) }));
  });
  for (const j of calls) drawing.text(x(2 * j + 2) + 4, rowsBottom + 2, 'caller-saved registers destroyed', { anchor: 'start', size: 11, muted: true });
  // The blocks, bracketed under the rows.
  for (const block of blocks) drawing.brace(x(block.start), x(block.end + 1), rowsBottom + 14, `b${block.id}`);

  const across = intervals.filter(crosses);
  const list = (values: readonly { value: number }[]) => values.map((interval) => `v${interval.value}`).join(', ');
  return drawing.render(
    `The page's <code>squares</code> with its multiply replaced by a call, <code>s = s + sq(a)</code>, allocated by the reference linear scan with every register it may hand out. ` +
      `Each bar is a value's interval, from the position where it is written (or its block's start, for a parameter or a phi) to its last read or the end of the last block it is live out of. ` +
      `The dashed band is the call <code>${escapeHtml(calls.map(callText).join(', '))}</code>: ${list(across)}, shaded, live across it, so on both ISAs they go to callee-saved registers, which the function saves in its prologue. ` +
      `The others never see a call and take caller-saved registers; two whose intervals do not overlap may share one.`,
  );
}

/** The parallel move of the second figure: register numbers 1–4 stand for r1–r4. */
const CYCLE_MOVES: readonly (readonly [number, number])[] = [[1, 2], [2, 3], [3, 1], [1, 4]];
const CYCLE_SCRATCH = 8;
const MEMORY_SCRATCH = 9;
const cycleName = (reg: number) => (reg === CYCLE_SCRATCH ? 'T' : reg === MEMORY_SCRATCH ? 'M' : `r${reg}`);

/** Run in the child: CYCLE_MOVES sequenced by the reference, as [from, to] register numbers. */
export async function cycleRun(): Promise<[number, number][]> {
  const { sequenceMoves } = await import('../../../solutions/09-register-allocator/parallel-move.ts');
  const { inReg } = await import('../../../solutions/09-register-allocator/machine.ts');
  const sequence = sequenceMoves(CYCLE_MOVES.map(([from, to]) => ({ from: inReg(from), to: inReg(to) })), { cycle: CYCLE_SCRATCH, memory: MEMORY_SCRATCH });
  return sequence.map((move) => {
    if (move.from.kind !== 'reg' || move.to.kind !== 'reg') throw new Error(`a register-to-register parallel move was sequenced into ${JSON.stringify(move)}`);
    return [move.from.reg, move.to.reg];
  });
}

function parallelMoveCycle(): string {
  const sequence = runReference<[number, number][]>(import.meta.url, 'cycleRun');
  const regs = [...new Set(CYCLE_MOVES.flat())].sort((a, b) => a - b);
  const moveText = ([from, to]: readonly [number, number]) => `${cycleName(from)} → ${cycleName(to)}`;
  // Left: the registers on a circle, each parallel move an arrow. Right: the sequence.
  const centre = [150, 130] as const;
  const radius = 80;
  const cyclic = regs.filter((reg) => CYCLE_MOVES.some(([from]) => from === reg) && CYCLE_MOVES.some(([, to]) => to === reg));
  const at = new Map<number, readonly [number, number]>();
  cyclic.forEach((reg, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / cyclic.length;
    at.set(reg, [centre[0] + radius * Math.cos(angle), centre[1] + radius * Math.sin(angle)]);
  });
  regs.filter((reg) => !at.has(reg)).forEach((reg, i) => at.set(reg, [centre[0] + radius + 90, centre[1] - radius + i * 50]));
  const listX = 370;
  const lineHeight = 24;
  const height = Math.max(...[...at.values()].map(([, y]) => y + 34), 50 + sequence.length * lineHeight);
  const drawing = new Drawing(listX + 300, height,
    `Left, a parallel move drawn as arrows between registers: ${CYCLE_MOVES.map(moveText).join(', ')}, all at once; ${cyclic.map(cycleName).join(', ')} form a cycle. ` +
      `Right, the single moves the reference sequencer emits for it, in order: ${sequence.map(moveText).join(', ')}. The cycle is broken by copying a register into the scratch register T.`);
  drawing.text(centre[0], 18, 'parallel move (all at once)', { bold: true, size: 13 });
  const boxSize = 34;
  for (const [from, to] of CYCLE_MOVES) {
    const [x1, y1] = at.get(from)!;
    const [x2, y2] = at.get(to)!;
    const angle = Math.atan2(y2 - y1, x2 - x1);
    const inset = boxSize / 2 + 6;
    drawing.arrow(x1 + inset * Math.cos(angle), y1 + inset * Math.sin(angle), x2 - inset * Math.cos(angle), y2 - inset * Math.sin(angle));
  }
  for (const [reg, [cx, cy]] of at) drawing.box(cx - boxSize / 2, cy - boxSize / 2, boxSize, boxSize, cycleName(reg), '', { accent: cyclic.includes(reg) });
  drawing.text(listX, 18, 'sequence (one at a time)', { anchor: 'start', bold: true, size: 13 });
  sequence.forEach((move, i) => {
    const y = 50 + i * lineHeight;
    drawing.text(listX, y, `${i + 1}.`, { anchor: 'start', size: 12, muted: true });
    drawing.text(listX + 24, y, moveText(move), { anchor: 'start', mono: true, size: 13, bold: move.includes(CYCLE_SCRATCH) });
    const note = move[1] === CYCLE_SCRATCH ? `only the cycle is left: save ${cycleName(move[0])}` : move[0] === CYCLE_SCRATCH ? 'the saved value' : `nobody still reads ${cycleName(move[1])}`;
    drawing.text(listX + 110, y, note, { anchor: 'start', size: 11, muted: true });
  });
  return drawing.render(
    `A parallel move with a cycle, sequenced by the reference <code>sequenceMoves</code>. Moves whose destination nobody still reads go first; when only the cycle is left, one register's value is copied to the scratch register <code>T</code>, the move that wanted to read it reads <code>T</code> instead, and the cycle unwinds. ` +
      `${CYCLE_MOVES.length} parallel moves become ${sequence.length} single ones.`,
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'intervalsRun');
registerReference(import.meta.url, 'cycleRun');

export const FIGURES_09: Readonly<Record<string, () => string>> = {
  'live-intervals': liveIntervals,
  'parallel-move-cycle': parallelMoveCycle,
};
