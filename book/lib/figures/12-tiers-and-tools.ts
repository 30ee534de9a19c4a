/**
 * Figures of chapter 12: the tiers and the promotions of a real run, the entry table between
 * a call and the code it reaches, and a frame moved by on-stack replacement.
 *
 * Everything drawn comes from the reference (in a child process with every chapter's
 * reference, see run-reference.ts): the promotions are those a tiered run of TIERS_SOURCE
 * made, the context offsets are chapter 12's context layout, each function's tier in the
 * entry-table figure is the one a run with those tiers fixed ended with, and the loop header,
 * its operand-stack depth and the frame's locals are what the reference's `loopHeaders` and
 * bytecode compiler give. The values in the moved frame are the ones the interpreter had
 * when the run's OSR happened, worked out from the back edges the promotion counted.
 */
import { Drawing } from '../svg.ts';
import { registerReference, runReference } from './run-reference.ts';

/** The program of the chapter's opening, as the page shows it. */
export const TIERS_SOURCE = `fn square(n) {
  return n * n;
}

fn sum_of_squares(n) {
  let s = 0;
  while n > 0 {
    s = s + square(n);
    n = n - 1;
  }
  return s;
}

fn main() {
  print(sum_of_squares(100));
  print(sum_of_squares(3000));
  return 0;
}
`;

/** The thresholds of the page's `--trace-tiers` run. */
const THRESHOLDS = { tierUpCalls: 3, tierUpLoops: 500, tierUpOptimizedCalls: 1000 } as const;

interface TiersJson {
  readonly defaults: { readonly calls: number; readonly loops: number; readonly optimized: number };
  readonly functions: readonly string[];
  readonly promotions: readonly { readonly function: string; readonly from: string; readonly to: string; readonly calls: number; readonly loops: number; readonly osrAt?: number }[];
  readonly finalTiers: Readonly<Record<string, string>>;
  readonly output: readonly string[];
  readonly osrEntries: number;
  /** Chapter 12's context: where the entry table's and the transfer buffer's addresses are. */
  readonly entryTableOffset: number;
  readonly transferOffset: number;
  /** A run with the tiers fixed: square optimized, sum_of_squares baseline, main interpreted. */
  readonly fixedTiers: Readonly<Record<string, string>>;
  /** sum_of_squares: its locals, and its loop headers with their depths. */
  readonly locals: number;
  readonly params: number;
  readonly headers: readonly (readonly [number, number])[];
}

/** Run in the child: the page's program, tiered, and what the figures need of the reference. */
export async function tiersRun(): Promise<TiersJson> {
  const { runTiered } = await import('../../../solutions/12-tiers-and-tools/run.ts');
  const options = await import('../../../solutions/12-tiers-and-tools/options.ts');
  const { TX } = await import('../../../solutions/12-tiers-and-tools/stubs.ts');
  const { loopHeaders } = await import('../../../solutions/12-tiers-and-tools/osr.ts');
  const { compileSource } = await import('#ch06/compiler.ts');
  const { HEAP_JIT } = await import('../../../solutions/11-garbage-collector/jit-run.ts');
  const run = runTiered(TIERS_SOURCE, { ...THRESHOLDS });
  const fixed: Record<string, 'interpreter' | 'baseline' | 'optimized'> = { square: 'optimized', sum_of_squares: 'baseline', main: 'interpreter' };
  const fixedRun = runTiered(TIERS_SOURCE, { tierOf: (name) => fixed[name] });
  if (JSON.stringify(fixedRun.output) !== JSON.stringify(run.output)) throw new Error('the run with fixed tiers printed something else');
  const program = compileSource(TIERS_SOURCE, HEAP_JIT);
  const sum = program.functions.find((fn) => fn.name === 'sum_of_squares')!;
  return {
    defaults: { calls: options.DEFAULT_TIER_UP_CALLS, loops: options.DEFAULT_TIER_UP_LOOPS, optimized: options.DEFAULT_TIER_UP_OPTIMIZED_CALLS },
    functions: program.functions.map((fn) => fn.name),
    promotions: run.promotions.map((p) => ({ function: p.function, from: p.from, to: p.to, calls: p.calls, loops: p.loops, ...(p.osrAt === undefined ? {} : { osrAt: p.osrAt }) })),
    finalTiers: run.tiers,
    output: run.output,
    osrEntries: run.stats.osrEntries,
    entryTableOffset: TX.entryTable!,
    transferOffset: TX.transfer!,
    fixedTiers: fixedRun.tiers,
    locals: sum.locals,
    params: sum.params.length,
    headers: [...loopHeaders(sum, HEAP_JIT.opcodes)],
  };
}

const TIER_NAMES = ['interpreter', 'baseline', 'optimized'] as const;
const pad4 = (n: number) => String(n).padStart(4, '0');

function tierLadder(): string {
  const run = runReference<TiersJson>(import.meta.url, 'tiersRun');
  const colWidth = 190;
  const left = 150;
  const top = 40;
  const boxHeight = 44;
  const rowHeight = 46;
  const rows = run.functions.filter((name) => name !== 'main').concat('main');
  const height = top + boxHeight + 60 + rowHeight * rows.length + 20;
  const width = left + colWidth * 3 + 40;
  const columnX = (tier: string) => left + colWidth * TIER_NAMES.indexOf(tier as (typeof TIER_NAMES)[number]) + colWidth / 2;
  const describe = (p: TiersJson['promotions'][number]) => `${p.function}: ${p.from} → ${p.to} after ${p.calls} calls and ${p.loops} back edges${p.osrAt === undefined ? '' : `, entering at the loop header ${pad4(p.osrAt)}`}`;
  const alt = `Three tiers side by side: the interpreter, the baseline tier and the optimizing tier. A function leaves the interpreter after ${run.defaults.calls} calls or ${run.defaults.loops} loop back edges by default (at a loop header, by on-stack replacement), and the baseline tier after ${run.defaults.optimized} more calls and back edges counted by its own code. ` +
    `Below, the promotions of the page's program run with --tier-up-calls ${THRESHOLDS.tierUpCalls} --tier-up-loops ${THRESHOLDS.tierUpLoops} --tier-up-opt-calls ${THRESHOLDS.tierUpOptimizedCalls}, one row per function: ` +
    rows.map((name) => {
      const own = run.promotions.filter((p) => p.function === name);
      return own.length === 0 ? `${name} stays in the ${run.finalTiers[name]}` : own.map(describe).join('; ');
    }).join('; ') + '.';
  const drawing = new Drawing(width, height, alt);
  TIER_NAMES.forEach((tier, i) => {
    const sub = ['bytecode, in TypeScript', 'one pass, templates', 'SSA, linear scan'][i]!;
    drawing.box(left + colWidth * i + 15, top, colWidth - 30, boxHeight, tier, sub, { accent: i === 2 });
  });
  const arrowY = top + boxHeight / 2;
  drawing.arrow(left + colWidth - 15, arrowY, left + colWidth + 15, arrowY);
  drawing.arrow(left + 2 * colWidth - 15, arrowY, left + 2 * colWidth + 15, arrowY);
  drawing.text(left + colWidth, top - 12, `${run.defaults.calls} calls or ${run.defaults.loops} back edges (OSR)`, { size: 11, mono: true });
  drawing.text(left + 2 * colWidth + 20, top + boxHeight + 16, `${run.defaults.optimized} more, counted down by the baseline code`, { size: 11, mono: true, anchor: 'middle' });
  drawing.text(10, top + boxHeight + 44, `a run with ${THRESHOLDS.tierUpCalls} / ${THRESHOLDS.tierUpLoops} / ${THRESHOLDS.tierUpOptimizedCalls}:`, { anchor: 'start', size: 11, muted: true });
  rows.forEach((name, r) => {
    const y = top + boxHeight + 60 + rowHeight * r + rowHeight / 2;
    drawing.text(left - 10, y + 4, name, { anchor: 'end', mono: true, size: 12, bold: true });
    drawing.line(left, y, left + colWidth * 3, y, { dashed: true, muted: true });
    const own = run.promotions.filter((p) => p.function === name);
    if (own.length === 0) {
      drawing.box(columnX(run.finalTiers[name]!) - 40, y - 11, 80, 22, '', '', {});
      drawing.text(columnX(run.finalTiers[name]!), y + 4, 'stays', { size: 11, muted: true });
      return;
    }
    for (const p of own) {
      const x1 = columnX(p.from) + 10;
      const x2 = columnX(p.to) - 10;
      drawing.arrow(x1, y, x2, y);
      const why = p.osrAt !== undefined ? `${p.loops} back edges: OSR at ${pad4(p.osrAt)}` : `${p.calls} calls, ${p.loops} back edges`;
      drawing.text((x1 + x2) / 2, y - 6, why, { size: 10, mono: true });
    }
  });
  return drawing.render(
    `The tier ladder. Each row is a function of the program at the top of the page, run with low thresholds; an arrow is one promotion, labelled with the counter that caused it, as <code>--trace-tiers</code> printed it. ` +
      `A promotion compiles the function and writes its address into the entry table: the next call takes the new code. The OSR arrow is different: the running frame itself moved, in the middle of its loop.`,
  );
}

function entryTable(): string {
  const run = runReference<TiersJson>(import.meta.url, 'tiersRun');
  const names = run.functions;
  const hex = (n: number) => `0x${n.toString(16)}`;
  const targetOf = (name: string, index: number) => {
    const tier = run.fixedTiers[name]!;
    return tier === 'interpreter' ? { label: `${name}.interpreted`, sub: `stub → jot_interpret(${index})` } : { label: `${name} [${tier}]`, sub: 'machine code' };
  };
  const alt = `A call from compiled code to a function goes to the function's dispatch stub, which loads the entry table's address from the context (offset ${hex(run.entryTableOffset)}), loads the function's word at 8 times its index, and jumps there. ` +
    names.map((name, i) => `Word ${i} (${hex(8 * i)}), ${name}, holds the address of ${targetOf(name, i).label}`).join('; ') +
    `. A promotion writes one word; no code is patched.`;
  const width = 990;
  const rowHeight = 56;
  const top = 60;
  const height = top + rowHeight * names.length + 70;
  const drawing = new Drawing(width, height, alt);
  drawing.text(20, 24, 'compiled caller', { anchor: 'start', bold: true, size: 12 });
  drawing.box(20, top, 150, 40, 'call f.dispatch', '', { square: true });
  drawing.text(230, 24, 'dispatch stubs (no frame)', { anchor: 'start', bold: true, size: 12 });
  drawing.text(530, 24, 'entry table (data memory)', { anchor: 'start', bold: true, size: 12 });
  drawing.text(740, 24, 'where f is entered now', { anchor: 'start', bold: true, size: 12 });
  names.forEach((name, i) => {
    const y = top + rowHeight * i;
    drawing.box(230, y, 260, 44, '', '', { square: true });
    drawing.text(240, y + 16, `${name}.dispatch:`, { anchor: 'start', mono: true, size: 11, bold: true });
    drawing.text(240, y + 32, `t1 = [ctx+${hex(run.entryTableOffset)}]; t1 = [t1+${hex(8 * i)}]; jump t1`, { anchor: 'start', mono: true, size: 10 });
    drawing.box(530, y + 6, 160, 32, '', '', { square: true, accent: true });
    drawing.text(540, y + 26, `+${hex(8 * i)}  ${name}`, { anchor: 'start', mono: true, size: 11 });
    drawing.arrow(490, y + 22, 530, y + 22);
    const target = targetOf(name, i);
    drawing.box(740, y + 2, 230, 40, target.label, target.sub, { square: run.fixedTiers[name] !== 'interpreter' });
    drawing.arrow(690, y + 22, 740, y + 22);
  });
  drawing.arrow(170, top + 20, 230, top + 20);
  drawing.text(20, top + rowHeight * names.length + 30, `the context holds the table's address at ${hex(run.entryTableOffset)}, the transfer buffer's at ${hex(run.transferOffset)}; a promotion writes one word of the table, so code stays W^X`, { anchor: 'start', size: 11, muted: true });
  return drawing.render(
    `The entry table of the page's program with <code>square</code> in the optimizing tier, <code>sum_of_squares</code> in the baseline tier and <code>main</code> interpreted (a run with those tiers fixed). ` +
      `Every call from compiled code goes through the callee's dispatch stub; an interpreted function's word holds its interpreter stub, which calls back into TypeScript. The offsets are chapter 12's context layout.`,
  );
}

function osrTransfer(): string {
  const run = runReference<TiersJson>(import.meta.url, 'tiersRun');
  const osr = run.promotions.find((p) => p.function === 'sum_of_squares' && p.osrAt !== undefined);
  if (osr === undefined || run.osrEntries < 1) throw new Error('the figure\'s run made no on-stack replacement of sum_of_squares');
  const header = run.headers.find(([offset]) => offset === osr.osrAt);
  if (header === undefined) throw new Error(`the OSR at ${osr.osrAt} is not at a loop header of the reference's loopHeaders: ${JSON.stringify(run.headers)}`);
  const depth = header[1];
  // Back edges are counted across calls: the first call, sum_of_squares(100), took 100 of them;
  // the second, sum_of_squares(3000), moved at its (threshold - 100)th.
  const inSecondCall = osr.loops - 100;
  const n = 3000 - inSecondCall;
  let s = 0n;
  for (let k = 3000; k > n; k--) s += BigInt(k) * BigInt(k);
  const names = ['n', 's'];
  const values = [String(n), String(s)];
  if (run.locals !== names.length || run.params !== 1) throw new Error(`sum_of_squares has ${run.locals} locals and ${run.params} parameters; the figure names 2 and 1`);
  const slotCount = run.locals + depth;
  const alt = `On-stack replacement of sum_of_squares at the loop header ${pad4(osr.osrAt!)} (operand stack depth ${depth}), after ${osr.loops} back edges. ` +
    `The interpreter's frame holds ${slotCount} slots from bp: ${names.map((name, i) => `local ${i} ${name} = ${values[i]}`).join(', ')}. ` +
    `The VM copies them to the transfer buffer, words 0 to ${slotCount - 1}, and calls the OSR entry through the tiered entry stub; the entry runs the function's prologue and stores each word into the same slot of its machine frame, then jumps to the header's code.`;
  const width = 960;
  const top = 70;
  const slot = 32;
  const height = top + slot * (slotCount + 2) + 80;
  const drawing = new Drawing(width, height, alt);
  const columns = [
    { x: 40, title: 'interpreter frame', sub: 'TypeScript array, from bp' },
    { x: 340, title: 'transfer buffer', sub: `address at [ctx + 0x${run.transferOffset.toString(16)}]` },
    { x: 640, title: 'baseline frame', sub: 'slots below fp, after the prologue' },
  ];
  for (const c of columns) {
    drawing.text(c.x, 30, c.title, { anchor: 'start', bold: true, size: 13 });
    drawing.text(c.x, 48, c.sub, { anchor: 'start', size: 11, muted: true });
  }
  for (let i = 0; i < slotCount; i++) {
    const y = top + slot * i;
    const label = i < run.locals ? `${names[i]} = ${values[i]}` : `stack ${i - run.locals}`;
    drawing.box(columns[0]!.x, y, 220, slot, '', '', { square: true });
    drawing.text(columns[0]!.x + 10, y + 21, `bp+${i}  ${i < run.params ? 'param' : 'local'} ${i}: ${label}`, { anchor: 'start', mono: true, size: 11 });
    drawing.box(columns[1]!.x, y, 220, slot, '', '', { square: true, accent: true });
    drawing.text(columns[1]!.x + 10, y + 21, `word ${i}  (+${8 * i})`, { anchor: 'start', mono: true, size: 11 });
    drawing.box(columns[2]!.x, y, 220, slot, '', '', { square: true });
    drawing.text(columns[2]!.x + 10, y + 21, `slot ${i}: ${label}`, { anchor: 'start', mono: true, size: 11 });
    drawing.arrow(columns[0]!.x + 220, y + slot / 2, columns[1]!.x, y + slot / 2);
    drawing.arrow(columns[1]!.x + 220, y + slot / 2, columns[2]!.x, y + slot / 2);
  }
  const below = top + slot * slotCount + 30;
  drawing.text(columns[0]!.x + 110, below, 'copied by the VM', { size: 11, muted: true });
  drawing.text(columns[1]!.x + 110, below, 'loaded by the OSR entry', { size: 11, muted: true });
  drawing.text(columns[2]!.x + 110, below, `then: jump to ${pad4(osr.osrAt!)}'s code`, { size: 11, muted: true });
  drawing.text(40, below + 34, `tier_loop at the back edge, ${osr.loops} back edges counted (${THRESHOLDS.tierUpLoops} the threshold): promote, copy, enter; when the machine code returns, the function has returned`, { anchor: 'start', size: 11 });
  return drawing.render(
    `A frame moved by on-stack replacement, from the page's run: <code>sum_of_squares(3000)</code> reaches the loop-back-edge threshold in the middle of its loop, and its frame moves to baseline code at the loop header ${pad4(osr.osrAt!)}. ` +
      `The operand stack is empty at the header (depth ${depth}, from <code>loopHeaders</code>), so only the locals move. The slots need no types: the body's stack maps type them from the header on.`,
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'tiersRun');

export const FIGURES_12: Readonly<Record<string, () => string>> = {
  'tier-ladder': tierLadder,
  'entry-table': entryTable,
  'osr-transfer': osrTransfer,
};
