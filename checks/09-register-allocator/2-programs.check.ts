/**
 * Chapter 09, second part: the optimizing tier runs real programs as machine code on this
 * worker's architecture. Every shared program and random programs must print and end as
 * the reference interpreter of chapter 06 does, with every register and with the allocator
 * held to 2, 3 and 4 registers (spills and move cycles forced); the independent allocation
 * checker must accept every allocation; optimized and template-compiled functions call
 * each other; a simple loop keeps its values in registers; and a leaf, and a recursion's
 * base case, run without building a frame.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { compareOutcome, mayCompile, mayEndWith, programsThatCompile, programsUpTo, type Program } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { assertWritten } from '#harness/written.ts';
import { checkAllocation } from './allocation-checker.ts';
import { checkPrograms, compiler, errors, masmModule, opt, referenceOutcome, runOptimized } from './support.ts';

const programs = programsUpTo(9).filter(mayCompile);

/** `programs` without those that do not compile where that may be how they end (programsThatCompile). */
const compiling = (programs: readonly Program[]) => programsThatCompile(programs, (source) => compiler.compileSource(source), errors.CompileError);

check('shared programs run as the interpreter does, optimized with every register', () => {
  checkPrograms(compiling(programs));
}, { timeoutMs: 120000, hints: [
  'Calls follow chapter 07\'s protocol: test callsLeft, decrement it, move the arguments, call, increment it, leave the frame if `failed` is set.',
  'A value live across a call must not be in a caller-saved register.',
] });

for (const registers of [2, 3, 4]) {
  check(`shared programs run as the interpreter does with only ${registers} registers (spills, move cycles)`, () => {
    checkPrograms(compiling(programs), { registers });
  }, { timeoutMs: 180000, hints: [
    'With few registers most values are spilled: a spilled operand is loaded into a scratch register first, a spilled result stored from one.',
    'Phi moves between stack slots go through the memory scratch register; cycles through the cycle scratch register.',
  ] });
}

check('random programs run as the interpreter does, with every register and with 2', (t) => {
  const reports: string[] = [];
  for (let i = 0; i < 25; i++) {
    const source = randomProgram(t.random);
    const expected = referenceOutcome(source);
    for (const registers of [undefined, 2]) {
      const got = runOptimized(source, registers === undefined ? {} : { registers });
      // Without the reference's run (in a copy staged for grading) the outcome is only reported, and the runner judges it.
      const program = { name: `random ${i + 1}`, path: '', source, expectedOutput: expected?.output ?? [], ...(expected?.error ? { expectedError: expected.error } : {}), features: [], ...(expected === undefined ? { expectationsHidden: true as const } : {}) };
      const report = compareOutcome(program, got);
      reportOutcome(`random ${i + 1} (main's result, ${registers ?? 'every'} registers)`, { output: [got.error === undefined ? String(got.result) : 'none: a runtime error'] });
      if (got.declined.length > 0) reports.push(`the optimizing tier declined ${got.declined.join('; ')}`);
      else if (report !== null) reports.push(`${report}\n(${registers ?? 'every'} registers)\n${source}`);
      else if (expected !== undefined && expected.error === undefined && expected.result !== got.result) reports.push(`main returned ${got.result}, the interpreter ${expected.result}\n${source}`);
    }
  }
  assert.ok(reports.length === 0, reports.slice(0, 3).join('\n\n'));
}, { timeoutMs: 180000, hints: ['Random programs divide by zero now and then, on purpose: the error and its line must be the interpreter\'s.'] });

check('the allocation checker accepts every allocation, with every register and with 2, 3 and 4', (t) => {
  const args = masmModule.createMacroAssembler(process.arch === 'arm64' ? 'arm64' : 'x64').regs.args;
  const sources = [...compiling(programs).map((p) => ({ name: `${p.name}.jot`, source: p.source })), ...Array.from({ length: 15 }, (_, i) => ({ name: `random program ${i + 1}`, source: randomProgram(t.random) }))];
  const problems: string[] = [];
  for (const { name, source } of sources) {
    const program = compiler.compileSource(source);
    for (const registers of [undefined, 2, 3, 4]) {
      let checked = 0;
      const compiled = opt.compileOptimized(program, undefined, {
        ...(registers === undefined ? {} : { registers }),
        onAllocated: (ir, details) => {
          checked++;
          problems.push(...checkAllocation(ir, details.allocated, args).map((p) => `${name} (${registers ?? 'every'} registers): ${p}`));
        },
      });
      compiled.jit.dispose();
      reportOutcome(`${name} allocated with ${registers ?? 'every'} registers`, { output: [`${checked} functions checked`, `${problems.length} problems so far`] });
      if (checked !== program.functions.length) problems.push(`${name}: ${checked} of ${program.functions.length} functions were allocated (declined: ${compiled.declined.map((d) => d.name).join(', ') || 'none'})`);
    }
  }
  assert.ok(problems.length === 0, `${problems.length} problems, the first:\n  ${problems.slice(0, 6).join('\n  ')}`);
}, { timeoutMs: 180000, hints: [
  'The checker re-executes the allocation: a read that finds another value in its location means two live values shared it, or a move went wrong.',
  'Calls destroy every caller-saved register; code generation may use the scratch registers at any instruction.',
] });

check('optimized and template-compiled functions call each other, errors and all', () => {
  const reports: string[] = [];
  const mixed = compiling(programs).filter((p) => p.features.includes('calls') || p.features.includes('recursion') || mayEndWith(p, 'runtime'));
  for (const program of mixed) {
    for (const parity of [0, 1]) {
      const names = [...program.source.matchAll(/\bfn\s+(\w+)/g)].map((m) => m[1]!);
      const tierOf = (name: string) => ((names.indexOf(name) + parity) % 2 === 0 ? 'opt' : 'baseline') as 'opt' | 'baseline';
      const got = runOptimized(program.source, { tierOf });
      const report = got.declined.length > 0 ? `the optimizing tier declined ${got.declined.join('; ')}` : compareOutcome(program, got);
      if (report !== null) reports.push(`${report}\n(functions alternating between tiers, the ${parity === 0 ? 'first' : 'second'} optimized)`);
    }
  }
  assert.ok(reports.length === 0, reports.slice(0, 3).join('\n\n'));
}, { timeoutMs: 120000, hints: ['Both tiers keep the context and the run state in the same callee-saved registers and call with the same registers: keep chapter 07\'s protocol exactly.'] });

const DIVISIONS = `fn quotient(a, b) { return a / b; }
fn remainder(a, b) { return a % b; }
fn main() {
  let min = -9223372036854775808;
  print(quotient(min, -1));
  print(remainder(min, -1));
  print(quotient(-7, 2));
  print(remainder(-7, 2));
  print(quotient(7, -1));
  print(remainder(min, 0));
  print(1);
}`;

check('division with divisors the compiler cannot see: INT64_MIN / -1, % -1, signs, and / 0 at its line', () => {
  const got = runOptimized(DIVISIONS);
  const expected = referenceOutcome(DIVISIONS);
  reportOutcome('divisions by values the compiler cannot see', { output: [...got.output, got.error?.message ?? '(ran to the end)', `${got.declined.length} functions declined`] });
  assert.ok(got.declined.length === 0, `the optimizing tier declined ${got.declined.join('; ')}`);
  if (expected === undefined) return; // a copy staged for grading: the runner judges what was reported
  assert.equal(got.output, expected.output, 'printed lines');
  assert.is(got.error?.message, expected.error?.message, 'the runtime error');
}, { hints: ['Test a register divisor for 0 (the error stub) and for -1 (negate, or 0 for %) before dividing: x86-64\'s idiv faults on INT64_MIN / -1.'] });

const LOOP = `fn main() {
  let i = 0;
  let sum = 0;
  while i < 100000 {
    sum = sum + i * 3;
    i = i + 1;
  }
  print(sum);
}`;

check('a loop keeps its induction variable and sum in registers: no load or store in its body', () => {
  const compiled = opt.compileOptimized(compiler.compileSource(LOOP));
  const output: string[] = [];
  compiled.jit.run({ print: (t) => output.push(t) });
  assertWritten(import.meta.url, 'a counting loop', output, 'the loop prints the wrong sum');
  const listing = compiled.jit.listing();
  const lines = listing.slice(listing.indexOf('== main ==')).split('\n').filter((l) => /^[0-9a-f]{4}  /.test(l));
  const offsetOf = (l: string) => parseInt(l.slice(0, 4), 16);
  // The loop is the code between a backward branch and its target.
  const back = lines.map((l) => ({ l, target: /(?:jmp|j[a-z]+|b(?:\.[a-z]+)?|cbn?z\s+\w+,)\s+#?0x([0-9a-f]+)\s*(?:;|$)/.exec(l.slice(6).replace(/^[0-9a-f ]+ {2}/, '')) })).find(({ l, target }) => target !== null && parseInt(target[1]!, 16) <= offsetOf(l));
  assert.ok(back !== undefined, `no backward branch found in main:\n${lines.join('\n')}`);
  const from = parseInt(back.target![1]!, 16);
  const body = lines.filter((l) => offsetOf(l) >= from && offsetOf(l) <= offsetOf(back.l));
  const memory = body.filter((l) => /\bptr\b|\b(ldr|str|ldp|stp|ldur|stur)\b/.test(l));
  reportOutcome('a counting loop, optimized', { output: [...output, `a backward branch: ${back !== undefined}`, `loads and stores in its body: ${memory.length}`] });
  assert.ok(memory.length === 0, `the loop's body loads or stores:\n${body.join('\n')}`);
}, { hints: ['Nothing in this loop is live across a call, so nothing needs a stack slot: check that no interval of the loop is spilled.'] });

const SHRINK_WRAPPED = `
fn sq(x) { return x * x; }
fn fib(n) {
  if n < 2 { return n; }
  return fib(n - 1) + fib(n - 2);
}
fn main() {
  print(fib(20) + sq(3));
}`;

check('a leaf makes no frame, and a recursion\'s base case returns before the prologue', () => {
  const compiled = opt.compileOptimized(compiler.compileSource(SHRINK_WRAPPED));
  const output: string[] = [];
  compiled.jit.run({ print: (t) => output.push(t) });
  assertWritten(import.meta.url, 'fib(20) + sq(3)', output, 'fib(20) + sq(3) prints the wrong number');
  const listing = compiled.jit.listing();
  const codeOf = (name: string) => {
    const from = listing.indexOf(`== ${name} ==`);
    const to = listing.indexOf('\n== ', from + 1);
    return listing.slice(from, to < 0 ? undefined : to).split('\n').filter((l) => /^[0-9a-f]{4}  /.test(l));
  };
  const frame = /\bpush\s+rbp\b|\bstp\s+x29,\s*x30/;
  const sq = codeOf('sq');
  assert.ok(sq.some((l) => /\bret\b/.test(l)) && !sq.some((l) => frame.test(l)), `sq calls nothing and cannot fail, so it needs no frame:\n${sq.join('\n')}`);
  const fib = codeOf('fib');
  const firstRet = fib.findIndex((l) => /\bret\b/.test(l));
  const firstFrame = fib.findIndex((l) => frame.test(l));
  reportOutcome('a leaf and a recursion, optimized', {
    output: [...output, `sq returns without a frame: ${sq.some((l) => /\bret\b/.test(l)) && !sq.some((l) => frame.test(l))}`, `fib returns before its prologue: ${firstRet >= 0 && firstFrame > firstRet}`],
  });
  assert.ok(firstRet >= 0 && firstFrame > firstRet, `fib's base case (n < 2: return n) should return before the prologue builds the frame:\n${fib.join('\n')}`);
}, { hints: ['Code generation emits both (FunctionEmitter.emit: needsNoFrame and #earlyReturn), on the allocation your linear scan made: sq must keep x in a caller-saved register and spill nothing.'] });
