/**
 * Figures of chapter 07: the frame of a compiled function, its locals and operand-stack slots
 * at the offsets the reference template JIT uses, on both ISAs. The program is compiled by the
 * reference compilers (in a child process with every chapter's reference, see
 * run-reference.ts); the slot offsets come from the reference MacroAssembler and are checked
 * against the code the JIT emitted.
 */
import { disassemble } from '../../../native/disasm.ts';
import { Drawing } from '../svg.ts';
import { ARCHES, ARCH_TITLES, FRAME_POINTER, STACK_POINTER, checkLinkWords, drawFrame, frameOffset, frameSize, offsetNote, type FigureArch, type FrameWord } from './04-assembler.ts';
import { registerReference, runReference } from './run-reference.ts';

export const FRAME_SOURCE = `fn mix(a, b) {
  let c = a * b;
  return c + a - b;
}
fn main() {
  return mix(6, 7);
}`;

/** The function whose frame is drawn, and the bytecode instruction whose template is listed. */
const FUNCTION = 'mix';
const TEMPLATE = 'mul';

interface JitFrame {
  readonly locals: number;
  readonly maxStack: number;
  readonly names: string[];
  /** fp-relative offset of each slot, from the reference MacroAssembler. */
  readonly slotOffsets: number[];
  /** The function's code as the JIT emitted it: offset, capstone's text, the JIT's comment. */
  readonly code: { offset: number; text: string; comment?: string }[];
}

/** Run in the child: compile FRAME_SOURCE for both ISAs and read the frame of FUNCTION. */
export async function jitFrameRun(): Promise<Record<FigureArch, JitFrame>> {
  // Loaded here, in the child: the JIT brings koffi and the runtime, which the book build does not need.
  const { parse } = await import('../../../solutions/05-parser/parser.ts');
  const { compileSource } = await import('../../../solutions/06-interpreter/compiler.ts');
  const { compileProgram } = await import('../../../solutions/07-template-jit/jit.ts');
  const { createMacroAssembler } = await import('../../../solutions/04-assembler/masm.ts');
  const program = compileSource(FRAME_SOURCE);
  const index = program.functions.findIndex((fn) => fn.name === FUNCTION);
  const fn = program.functions[index]!;
  const declaration = parse(FRAME_SOURCE).functions.find((decl) => decl.name === FUNCTION)!;
  // Parameters take the first slots, then each top-level let the next one.
  const names = [
    ...declaration.params.map((param) => param.name),
    ...declaration.body.statements.flatMap((stmt) => (stmt.kind === 'let' ? [stmt.name] : [])),
  ];
  if (names.length !== fn.locals) throw new Error(`${FUNCTION} has ${fn.locals} locals, but the figure names ${names.length}: ${names.join(', ')}`);
  const out = {} as Record<FigureArch, JitFrame>;
  for (const arch of ARCHES) {
    const masm = createMacroAssembler(arch);
    masm.prologue(fn.locals + fn.maxStack);
    for (let slot = 0; slot < fn.locals + fn.maxStack; slot++) masm.storeSlot(masm.regs.result, slot);
    const slotOffsets = masm.listing().map((line) => frameOffset(arch, line.text)).filter((offset) => offset !== undefined);

    const jit = compileProgram(program, arch);
    const start = jit.functions[index]!.offset;
    const end = Math.min(...jit.functions.map((f) => f.offset).filter((offset) => offset > start), jit.code.length);
    const comments = new Map<number, string>();
    for (const row of jit.listing().split('\n')) {
      const match = /^([0-9a-f]{4,})  .*?  ; (.*)$/.exec(row);
      if (match) comments.set(parseInt(match[1]!, 16), match[2]!);
    }
    const code = disassemble(jit.code.subarray(start, end), arch, start).map((line) => {
      const offset = start + line.offset;
      const comment = comments.get(offset);
      return comment === undefined ? { offset, text: line.text } : { offset, text: line.text, comment };
    });
    out[arch] = { locals: fn.locals, maxStack: fn.maxStack, names, slotOffsets, code };
  }
  return out;
}

function compiledFrame(): string {
  const runs = runReference<Record<FigureArch, JitFrame>>(import.meta.url, 'jitFrameRun');
  const layouts = ARCHES.map((arch) => {
    const run = runs[arch];
    checkLinkWords(arch, run.code);
    const size = frameSize(arch, run.code.map((line) => ({ ...line, bytes: [] })));
    const words: FrameWord[] = run.slotOffsets.map((offset, slot) => ({
      offset,
      label: slot < run.locals ? `${run.names[slot]}   (slot ${slot})` : `stack ${slot - run.locals}   (slot ${slot})`,
      kind: slot < run.locals ? ('local' as const) : ('slot' as const),
    }));
    // Every fp-relative access of the compiled function hits one of those slots.
    const known = new Set(run.slotOffsets);
    for (const line of run.code) {
      const offset = frameOffset(arch, line.text);
      if (offset !== undefined && !known.has(offset)) throw new Error(`${arch}: ${line.text} uses a frame offset that is no slot of ${FUNCTION}`);
    }
    // The template of one instruction: from its commented line to the next commented line.
    const first = run.code.findIndex((line) => line.comment !== undefined && new RegExp(`^\\d{4} ${TEMPLATE}\\b`).test(line.comment));
    if (first < 0) throw new Error(`${arch}: no ${TEMPLATE} in the code of ${FUNCTION}`);
    const next = run.code.findIndex((line, i) => i > first && line.comment !== undefined);
    const template = run.code.slice(first, next < 0 ? undefined : next);
    const slotOf = (text: string) => {
      const offset = frameOffset(arch, text);
      return offset === undefined ? '' : words.find((word) => word.offset === offset)!.label.replace(/\s+\(.*/, '');
    };
    return { arch, run, size, words, template, slotOf };
  });
  const columnWidth = 420;
  const frameHeight = 26 + (3 + layouts[0]!.size / 8) * 24;
  const templateTop = frameHeight + 40;
  const templateRows = Math.max(...layouts.map((layout) => layout.template.length));
  const run0 = layouts[0]!.run;
  const drawing = new Drawing(2 * columnWidth + 40, templateTop + 24 + templateRows * 20 + 10,
    `The frame of the compiled function ${FUNCTION}, with ${run0.locals} locals (${run0.names.join(', ')}) and ${run0.maxStack} operand-stack slots, as the reference template JIT lays it out on both ISAs. ${layouts
      .map(({ arch, size, words, template, slotOf }) => `${ARCH_TITLES[arch]}: ${words.map((word) => `${word.label.replace(/\s+/g, ' ')} at ${offsetNote(arch, word.offset)}`).join(', ')}; ${STACK_POINTER[arch]} = ${FRAME_POINTER[arch]} − 0x${size.toString(16)}. The template of ${TEMPLATE}: ${template
        .map((line) => `${line.text}${slotOf(line.text) ? ` (${slotOf(line.text)})` : ''}`)
        .join('; ')}.`)
      .join(' ')}`);
  layouts.forEach(({ arch, size, words, template, slotOf }, i) => {
    const x = 110 + i * columnWidth;
    drawFrame(drawing, x, 8, arch, words, size, `${ARCH_TITLES[arch]}: ${FUNCTION}`);
    const left = 20 + i * columnWidth;
    drawing.text(left, templateTop, `the template of bytecode ${template[0]!.comment}:`, { anchor: 'start', bold: true, size: 13 });
    template.forEach((line, row) => {
      const y = templateTop + 22 + row * 20;
      drawing.text(left, y, line.text, { anchor: 'start', mono: true, size: 12 });
      const slot = slotOf(line.text);
      if (slot) drawing.text(left + 300, y, `← ${slot}`, { anchor: 'start', mono: true, size: 12, muted: true });
    });
  });
  return drawing.render(
    `The frame of <code>${FUNCTION}</code> compiled by the reference template JIT: the interpreter's frame moved to the machine stack. ` +
      `Slots 0 to ${run0.locals - 1} hold the locals (parameters first), slots ${run0.locals} to ${run0.locals + run0.maxStack - 1} the operand stack (shaded). ` +
      `Below, the template of <code>${TEMPLATE}</code>: the top of the stack is a slot number fixed at compile time, so the code addresses it as a constant offset from the frame pointer.`,
  );
}

// Every reference run this module's figures need, done together with the other chapters' in one child.
registerReference(import.meta.url, 'jitFrameRun');

export const FIGURES_07: Readonly<Record<string, () => string>> = {
  'compiled-frame': compiledFrame,
};
