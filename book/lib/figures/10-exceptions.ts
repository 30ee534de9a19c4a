/**
 * Figure of chapter 10: a stack of compiled frames being unwound to a handler. The program is
 * compiled by the reference tiers (in a child process with every chapter's reference, see
 * run-reference.ts) and run once, to be sure it catches; the frames' sizes and saved
 * registers, the call and throw sites and the handler's landing pad come from the reference
 * unwind table, and the walk drawn is the one its unwinder makes: innermost frame first, one
 * table row per return address.
 */
import { Drawing } from '../svg.ts';
import { registerReference, runReference } from './run-reference.ts';

export const UNWIND_SOURCE = `fn leaf(n) {
  if n > 2 {
    throw n;
  }
  return n;
}

fn spin(n) {
  let a = n * 3;
  let b = n + 5;
  let r = leaf(n);
  return a + b + r;
}

fn catcher(n) {
  try {
    return spin(n) + 1;
  } catch e {
    return e * 10;
  }
}

fn main() {
  return catcher(7);
}`;

/** What `main` returns: leaf throws 7, catcher catches it. */
const EXPECTED_RESULT = 70;

/** The active calls at the throw, outermost first. */
const CHAIN = ['main', 'catcher', 'spin', 'leaf'];

interface FrameJson {
  readonly name: string;
  readonly tier: string;
  readonly frameSize: number;
  /** Saved callee-saved registers and their fp-relative offsets. */
  readonly saved: { register: string; offset: number }[];
  /** The site this frame is at when the throw happens: its code offset, kind, line and handler landing pad. */
  readonly site: { at: number; kind: string; line: number; handler?: number };
  /** Where the function's code starts. */
  readonly start: number;
}

interface UnwindJson {
  readonly arch: string;
  readonly result: number;
  /** Innermost first: leaf, spin, catcher, main. */
  readonly frames: FrameJson[];
}

/** Run in the child: compile UNWIND_SOURCE with the optimizing tier (which leaves a function with a try to the template compiler), run it, and read the unwind table. */
export async function unwindRun(): Promise<UnwindJson> {
  const { compileSource } = await import('../../../solutions/06-interpreter/compiler.ts');
  const { compileOptimized } = await import('../../../solutions/09-register-allocator/jit.ts');
  const { EXCEPTIONS_JIT } = await import('../../../solutions/10-exceptions/jit-language.ts');
  const { unwindTable } = await import('../../../solutions/10-exceptions/stubs.ts');
  const { offsetOf } = await import('../../../solutions/10-exceptions/unwind-table.ts');
  const { hostArch } = await import('../../../native/arch.ts');
  const { REG_NAMES } = await import('../../../solutions/03-encoders/x64.ts');
  const { regName } = await import('../../../solutions/03-encoders/arm64.ts');
  const arch = hostArch();
  // One level, seen through two import paths (#ch06 and solutions/06): the same object at run time.
  const program = compileSource(UNWIND_SOURCE, EXCEPTIONS_JIT as unknown as Parameters<typeof compileSource>[1]);
  const { jit } = compileOptimized(program, arch, { level: EXCEPTIONS_JIT.jit });
  try {
    const run = jit.run({ print: () => {} });
    if (run.error !== undefined) throw new Error(`the figure's program failed: ${run.error.message}`);
    const table = unwindTable(jit.tables);
    const name = (reg: number) => (arch === 'x64' ? REG_NAMES[reg]! : regName(reg));
    const frames = [...CHAIN].reverse().map((fnName, i, inner) => {
      const fn = table.functions.find((f) => f.name === fnName);
      if (fn === undefined) throw new Error(`no unwind entry for ${fnName}`);
      // The innermost frame is at its throw; every other at its call of the next frame in.
      const callee = inner[i - 1];
      const line = callee === undefined ? 3 : UNWIND_SOURCE.split('\n').findIndex((l) => l.includes(`${callee}(`) && !l.startsWith('fn')) + 1;
      const site = fn.sites.find((s) => (callee === undefined ? s.kind === 'throw' && s.line === line : s.kind === 'call' && s.line === line));
      if (site === undefined) throw new Error(`no ${callee === undefined ? 'throw' : 'call'} site at line ${line} in ${fnName}`);
      return {
        name: fnName,
        tier: fn.tier,
        frameSize: fn.frameSize,
        saved: fn.saved.map((s) => ({ register: name(s.register), offset: s.offset })),
        site: { at: offsetOf(site.at), kind: site.kind, line: site.line, ...(site.handler ? { handler: offsetOf(site.handler.landing) } : {}) },
        start: offsetOf(fn.start),
      };
    });
    return { arch, result: Number(run.result), frames };
  } finally {
    jit.dispose();
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;
const fpOffset = (offset: number) => (offset < 0 ? `fp - ${-offset}` : `fp + ${offset}`);

function unwindWalk(): string {
  const { arch, result, frames } = runReference<UnwindJson>(import.meta.url, 'unwindRun');
  if (result !== EXPECTED_RESULT) throw new Error(`the figure's program returned ${result}, expected ${EXPECTED_RESULT}`);
  const catching = frames.findIndex((f) => f.site.handler !== undefined);
  if (catching !== 2) throw new Error(`expected the handler in catcher (the third frame from the throw), found it in frame ${catching}`);
  const removed = frames.slice(0, catching);
  const restored = removed.flatMap((f) => f.saved.map((s) => `${s.register} from ${f.name}'s [${fpOffset(s.offset)}]`));

  // Left: the stack, the outermost frame on top (the stack grows down the page).
  const stackX = 150;
  const stackWidth = 220;
  const rowHeight = 22;
  const outermostFirst = [...frames].reverse();
  const rowsOf = (f: FrameJson) => [
    { label: `return address`, note: '[fp + 8]' },
    { label: `caller's fp`, note: '[fp]' },
    ...f.saved.map((s) => ({ label: `saved ${s.register}`, note: `[${fpOffset(s.offset)}]`, accent: removed.includes(f) })),
    { label: `${(f.frameSize - 8 * f.saved.length) / 8} slots`, note: '' },
  ];
  const tableX = stackX + stackWidth + 86;
  const tops: number[] = [];
  let y = 40;
  for (const f of outermostFirst) {
    tops.push(y);
    y += 18 + rowsOf(f).length * rowHeight + 14;
  }
  const height = y + 20;
  const width = tableX + 450;
  const step = (f: FrameJson, i: number) => {
    const key = i === 0 ? `the throw's pc ${hex(f.site.at)}` : `return address ${hex(f.site.at)}`;
    const row = `${f.site.kind} at line ${f.site.line}, ${f.site.handler === undefined ? 'no handler' : `handler at ${hex(f.site.handler)}`}`;
    const then = f.site.handler !== undefined
      ? `resume in ${f.name}: fp is its frame pointer, sp = fp - ${f.frameSize}, jump to ${hex(f.site.handler)}`
      : `remove ${f.name}${f.saved.length ? `, restoring ${f.saved.map((s) => s.register).join(' and ')} from its frame` : ''}`;
    return { key, row, then };
  };
  const steps = frames.slice(0, catching + 1).map(step);
  const drawing = new Drawing(width, height,
    `A stack of four compiled frames on ${arch === 'x64' ? 'x86-64' : 'AArch64'}, outermost at the top: ${outermostFirst.map((f) => `${f.name} (${f.tier}, frame ${f.frameSize} bytes${f.saved.length ? `, saves ${f.saved.map((s) => s.register).join(', ')}` : ''})`).join(', ')}. ` +
      `Each frame holds the return address into its caller at fp + 8 and its caller's frame pointer at fp, so the frames form a chain. ` +
      `leaf throws. The unwinder looks up, innermost first: ${steps.map((s, i) => `${i + 1}. ${s.key}: ${s.row}; ${s.then}`).join('. ')}. ` +
      `Registers restored: ${restored.length ? restored.join(', ') : 'none'}.`);

  drawing.text(stackX + stackWidth / 2, 22, 'the machine stack (grows down)', { bold: true, size: 13 });
  drawing.text(stackX + stackWidth + 40, 22, 'fp chain', { size: 11, muted: true });
  outermostFirst.forEach((f, i) => {
    const top = tops[i]!;
    const state = f === frames[catching] ? 'catches' : removed.includes(f) ? 'removed' : 'untouched';
    drawing.box(stackX, top, stackWidth, 18, '', '', { square: true, accent: state === 'catches' });
    drawing.text(stackX + stackWidth / 2, top + 13, `${f.name} (${f.tier}) — ${state}`, { bold: true, size: 12 });
    drawing.slots(stackX, top + 18, stackWidth, rowsOf(f), rowHeight);
    // The saved fp points at the caller's saved fp: the chain, drawn on the right edge.
    if (i > 0) {
      const fromY = top + 18 + rowHeight * 1.5;
      const toY = tops[i - 1]! + 18 + rowHeight * 1.5;
      const x = stackX + stackWidth + 10 + 10 * (outermostFirst.length - i);
      drawing.route([[stackX + stackWidth, fromY], [x, fromY], [x, toY], [stackX + stackWidth + 4, toY]], '', { dashed: true });
    }
  });

  drawing.text(tableX, 22, 'the unwinder, innermost frame first', { anchor: 'start', bold: true, size: 13 });
  steps.forEach((s, i) => {
    const f = frames[i]!;
    const frameTop = tops[outermostFirst.indexOf(f)]!;
    const rowY = frameTop + 18 + rowHeight / 2 + 4;
    drawing.text(tableX, rowY - 8, `${i + 1}. ${s.key}`, { anchor: 'start', mono: true, size: 11, bold: true });
    drawing.text(tableX, rowY + 7, `   ${s.row}`, { anchor: 'start', mono: true, size: 11 });
    drawing.text(tableX, rowY + 22, `   → ${s.then}`, { anchor: 'start', size: 11, muted: true });
    drawing.arrow(stackX + stackWidth + 60, rowY, tableX - 8, rowY);
  });

  return drawing.render(
    `The reference unwinder on the figure's program: <code>leaf</code> throws 7, and <code>catcher</code> catches it (main returns ${result}). ` +
      `Each step reads one frame's return address (the throw's own pc for the innermost), finds its row in the unwind table, and either removes the frame or resumes in it. ` +
      `Removing a frame puts back the callee-saved registers its prologue saved (shaded), because its epilogue will never run: here ${restored.length ? restored.join(', ') : 'none'}. ` +
      `${arch === 'x64' ? 'On AArch64' : 'On x86-64'} the frames have the same shape; only the register names differ.`,
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'unwindRun');

export const FIGURES_10: Readonly<Record<string, () => string>> = {
  'unwind-walk': unwindWalk,
};
