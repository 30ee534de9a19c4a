/**
 * Reading compiled code for the shape checks of chapter 10: a program's listing cut into
 * functions, each function's *body* (its code up to the first out-of-line stub), and a diff
 * of two bodies instruction by instruction, with branch targets (which move when code is
 * added anywhere) left out of the comparison.
 */

/** One instruction of a listing. */
export interface Instruction {
  readonly offset: number;
  /** Capstone's text: `mov rax, qword ptr [rbp - 8]`, `cbz x20, #0x21c`. */
  readonly text: string;
  /** The compiler's comment, if any: `0018 call 0 1 (f)`, `stack overflow in f at line 1`. */
  readonly comment: string | undefined;
}

const ROW = /^([0-9a-f]{4,})  (?:[0-9a-f]{2} )*[0-9a-f]{2}\s+(.*?)(?:\s+; (.*))?$/;
const BRANCH = /^(j[a-z]+|jmp|call|b|bl|b\.[a-z]+|cbn?z|tbn?z)\s+(?:.*,\s*)?#?0x([0-9a-f]+)$/;

/** The instructions of function `name` in `listing` (a `JitProgram.listing()`), in order. */
export function functionCode(listing: string, name: string): Instruction[] {
  const lines = listing.split('\n');
  const start = lines.indexOf(`== ${name} ==`);
  if (start < 0) throw new Error(`no function ${name} in the listing (a check bug)`);
  const code: Instruction[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('== ')) break;
    const match = ROW.exec(line);
    if (match) code.push({ offset: parseInt(match[1]!, 16), text: match[2]!.replace(/\s+/g, ' ').trim(), comment: match[3] });
  }
  return code;
}

/** Comments the compilers put on out-of-line code: error and throw stubs, landing pads, the exit. */
const OUT_OF_LINE = /^(stack overflow|division by zero|the stack limit|catch:|runtime error)|unwinding after/;

/**
 * The body of a function: its code up to the first out-of-line piece (an error or throw
 * stub, a landing pad, the exit after a runtime error), which the compilers mark with a
 * comment saying what it is.
 */
export function bodyOf(code: readonly Instruction[]): Instruction[] {
  const end = code.findIndex((inst) => inst.comment !== undefined && OUT_OF_LINE.test(inst.comment));
  return end < 0 ? [...code] : code.slice(0, end);
}

/** True for the instruction that starts a frame (`push rbp`, `stp x29, x30, [sp, #-0x10]!`). */
export function startsFrame(inst: Instruction): boolean {
  return /^push rbp$|^stp x29, x30, \[sp, #-0x10\]!$/.test(inst.text);
}

/** Where a direct branch or call goes, or undefined. */
export function branchTarget(inst: Instruction): number | undefined {
  const match = BRANCH.exec(inst.text);
  return match ? parseInt(match[2]!, 16) : undefined;
}

/** True for an unconditional direct jump (`jmp`, `b`). */
export function isJump(inst: Instruction): boolean {
  return /^(jmp|b)\s/.test(inst.text) && branchTarget(inst) !== undefined;
}

/** True for a direct call to compiled code (`call 0x…`, `bl #0x…`). */
export function isDirectCall(inst: Instruction): boolean {
  return /^(call|bl)\s/.test(inst.text) && branchTarget(inst) !== undefined;
}

/** The instruction as compared: its text with a direct branch's target left out. */
export function shape(inst: Instruction): string {
  const match = BRANCH.exec(inst.text);
  return match ? inst.text.replace(/#?0x[0-9a-f]+$/, '→') : inst.text;
}

/** One step of a diff: an instruction of both, of the first only, or of the second only. */
export type Step =
  | { readonly kind: 'same'; readonly a: Instruction; readonly b: Instruction }
  | { readonly kind: 'onlyA'; readonly a: Instruction }
  | { readonly kind: 'onlyB'; readonly b: Instruction };

/**
 * A diff of two instruction sequences by their shapes (longest common subsequence), matching
 * as early as possible, so that an insertion shows where it was made.
 */
export function diffCode(a: readonly Instruction[], b: readonly Instruction[]): Step[] {
  const n = a.length;
  const m = b.length;
  const sa = a.map(shape);
  const sb = b.map(shape);
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = sa[i] === sb[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && sa[i] === sb[j] && lcs[i]![j] === lcs[i + 1]![j + 1]! + 1) {
      steps.push({ kind: 'same', a: a[i]!, b: b[j]! });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      steps.push({ kind: 'onlyB', b: b[j]! });
      j++;
    } else {
      steps.push({ kind: 'onlyA', a: a[i]! });
      i++;
    }
  }
  return steps;
}

/** Consecutive steps of one kind: the runs a diff adds (`onlyB`) or removes (`onlyA`). */
export function runsOf(steps: readonly Step[], kind: 'onlyA' | 'onlyB'): { readonly from: number; readonly steps: readonly Step[] }[] {
  const runs: { from: number; steps: Step[] }[] = [];
  steps.forEach((step, index) => {
    if (step.kind !== kind) return;
    const last = runs.at(-1);
    if (last !== undefined && last.from + last.steps.length === index) last.steps.push(step);
    else runs.push({ from: index, steps: [step] });
  });
  return runs;
}

/** The diff as text, `  ` for kept, `- ` for the first only, `+ ` for the second only. */
export function showDiff(steps: readonly Step[]): string {
  return steps
    .map((s) => (s.kind === 'same' ? `    ${s.b.text}` : s.kind === 'onlyA' ? `  - ${s.a.text}` : `  + ${s.b.offset.toString(16).padStart(4, '0')}  ${s.b.text}${s.b.comment ? `   ; ${s.b.comment}` : ''}`))
    .join('\n');
}
