import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, mayEndWith, programsUpTo, type Outcome, type Program } from '#harness/programs.ts';
import { assertWritten } from '#harness/written.ts';

const compiler = await learnerCode(import('#ch06/compiler.ts'));
const interpreter = await learnerCode(import('#ch06/interpreter.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

/**
 * Compiles and runs a program with the learner's code, capturing what it prints and how it
 * ends. With `compileOnly`, a program that compiles is not run (its outcome: nothing printed).
 */
function runProgram(program: Program, compileOnly = false): Outcome {
  const output: string[] = [];
  try {
    const compiled = compiler.compileSource(program.source);
    if (compileOnly) return { output };
    interpreter.run(compiled, { print: (text) => output.push(text) });
    return { output };
  } catch (e) {
    if (e instanceof errors.CompileError) return { output, error: { kind: 'compile', message: e.message } };
    if (e instanceof interpreter.RuntimeError) return { output, error: { kind: 'runtime', message: e.message } };
    throw e; // NotImplemented (a TODO) or a crash: the check reports it as it is
  }
}

function checkAll(programs: readonly Program[], compileOnly = false): void {
  assert.ok(programs.length > 0, 'no programs in this group');
  const reports: string[] = [];
  for (const program of programs) {
    process.stderr.write(`running ${program.name}.jot\n`); // a hang or crash report shows the last one
    const report = compareOutcome(program, runProgram(program, compileOnly));
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
}

const programs = programsUpTo(6);
const usesCalls = (p: Program) => p.features.includes('calls') || p.features.includes('recursion');

check('programs without calls: arithmetic, wrapping, shifts, comparisons, loops, scopes', () => {
  checkAll(programs.filter((p) => mayEndWith(p, 'normal') && !usesCalls(p)));
}, { timeoutMs: 20000, hints: [
  'Each program in checks/programs carries its expected output in `// expect:` comments; run one by hand to see what it prints.',
  'Arithmetic wraps to 64 bits: storing into a BigInt64Array does that for you, or use BigInt.asIntN(64, …).',
  'Shift counts are masked with & 63; `>>>` shifts the unsigned pattern: BigInt.asUintN(64, a) >> n.',
] });

check('programs with calls: arguments, recursion, results, bool functions', () => {
  checkAll(programs.filter((p) => mayEndWith(p, 'normal') && usesCalls(p)));
}, { timeoutMs: 30000, hints: [
  'The arguments a caller pushed become the callee\'s first locals; the result replaces them on return.',
  'A function that falls off its end returns 0 (false).',
] });

check('programs that fail at run time: the error, its line, and the output before it', () => {
  checkAll(programs.filter((p) => mayEndWith(p, 'runtime')));
}, { timeoutMs: 30000, hints: [
  'A RuntimeError\'s message is `division by zero at line N` or `stack overflow in F at line N`.',
  'N comes from the line table: the line of the instruction that failed (the operator, or the call).',
  'The 10000th active call may run; the call that would be the 10001st fails, in the function making it.',
] });

check('programs that do not compile: the first error, at its line:column', () => {
  // In a copy staged for grading every program may fail to compile (mayEndWith): there the
  // programs are compiled, not run, and the runner judges the compile errors.
  checkAll(programs.filter((p) => mayEndWith(p, 'compile')), programs.some((p) => p.expectationsHidden));
}, { hints: [
  'compiler.ts lists every message; the position is the node\'s (an operator, a name, a keyword).',
  'Operands are compiled before their operator checks their types, left to right.',
] });

check('a chain of 3500 operators compiles and runs, without deep recursion', () => {
  const terms = 3500; // deep enough to exhaust a recursive compiler, small enough for 64 KiB of bytecode
  const source = `fn main() {\n  let x = 1;\n  print(x${' + x'.repeat(terms - 1)});\n  print(x${' - x'.repeat(terms - 1)} < 0 && true${' && true'.repeat(1499)});\n}\n`;
  const outcome = runProgram({ name: 'long_chain', path: 'long_chain.jot', source, expectedOutput: [], features: [] });
  reportOutcome('a chain of 3500 operators', { output: [...outcome.output, outcome.error ? `${outcome.error.kind} error` : '(ran to the end)'] });
  assertWritten(import.meta.url, 'a chain of 3500 operators', outcome, 'a long left-associative chain must compile (walk the left spine with a loop, not recursion) and run');
}, { hints: [
  'A chain `x + x + … + x` is a tree whose left spine is as deep as the chain is long: recursing down it can exhaust the JavaScript stack.',
  'Compile the leftmost operand, then walk back up the chain with a loop, emitting each operator after its right operand.',
  'Collect the left spine into an array while descending binary nodes with the same shape, then iterate over it in reverse.',
] });
