/**
 * Chapter 08, first part: the IR itself and SSA from bytecode. The learner's builder turns
 * every shared program into SSA; the IR must be well-formed (the learner's verifier, and
 * the shapes below) and must run exactly as the chapter 06 interpreter runs the bytecode.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { mayCompile, programsUpTo, reportedCompileError, type Program } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { build, compiler, countOps, errors, observed, printer, runBytecode, runOracle, sameOutcome, text, verifyAll } from './support.ts';

const programs = programsUpTo(8).filter(mayCompile);

/**
 * The bytecode of `program` made by the learner's compiler, or undefined where the program
 * does not compile and that may be how it ends (in a copy staged for grading, any program):
 * its compile error is then reported as its outcome, for the runner to judge.
 */
function bytecodeOf(program: Program): ReturnType<typeof compiler.compileSource> | undefined {
  try {
    return compiler.compileSource(program.source);
  } catch (error) {
    if (reportedCompileError(program, error, errors.CompileError)) return undefined;
    throw error;
  }
}

check('IR text prints and parses back to the same IR', () => {
  const source = `function f(a: int, b: bool): int {
b0:
  v0 = param int 0
  v1 = param bool 1
  v2 = const int -9223372036854775808
  branch v1, b1, b2
b1:
  v3 = div v0, v2 @7
  jump b3
b2:
  v4 = call int f(v0, v1) @9
  print v4
  jump b3
b3:
  v5 = phi int [b1: v3], [b2: v4]
  return v5
}`;
  const fn = text.parseFunction(source);
  assert.is(observed('the parsed IR printed', printer.printFunction(fn)), source, 'printing what was parsed gives the text back');
  let printed = 0;
  for (const program of programs) {
    if (printed === 20) break;
    const bytecode = bytecodeOf(program);
    if (bytecode === undefined) continue;
    printed++;
    const ir = build.buildProgram(bytecode);
    for (const f of ir.functions.values()) {
      const printed = printer.printFunction(f);
      const again = printer.printFunction(text.parseFunction(printed));
      observed(`${program.name}.jot, function ${f.name}: print → parse → print gives the text back`, again === printed);
      assert.is(again, printed, `${program.name}.jot, function ${f.name}: print → parse → print changed the text`);
    }
  }
}, { hints: ['The text form is given code: if this fails, compare your ir.ts with the data structures printer.ts and text.ts expect.'] });

check('SSA from bytecode: every program gives well-formed IR that runs as the bytecode does', () => {
  const reports: string[] = [];
  for (const program of programs) {
    process.stderr.write(`building ${program.name}.jot\n`);
    const bytecode = bytecodeOf(program);
    if (bytecode === undefined) continue;
    const ir = build.buildProgram(bytecode);
    verifyAll(ir, `built from ${program.name}.jot`);
    const report = sameOutcome(runBytecode(program.source), runOracle(ir, undefined, `${program.name}.jot built into IR`));
    if (report) reports.push(`${program.name}.jot:\n${report}`);
  }
  assert.ok(reports.length === 0, `${reports.length} programs run differently as IR:\n\n${reports.join('\n\n')}`);
}, { timeoutMs: 30000, hints: [
  'Each bytecode slot (a local, or an operand-stack entry at a known depth) is a variable; every store or push writes it, every load or pop reads it.',
  'Blocks start at offset 0, at every jump target, and after every jump, jump_if_false and ret. jump_if_false goes to its target when the value is false: `branch v, fallthrough, target`.',
  'Seal a block once all its predecessors are filled; a read in an unsealed block makes an operandless phi that sealing completes.',
] });

check('SSA from bytecode: random programs run as the bytecode does', (t) => {
  for (let i = 0; i < 40; i++) {
    const source = randomProgram(t.random);
    const ir = build.buildProgram(compiler.compileSource(source));
    verifyAll(ir, `built from random program ${i + 1}:\n${source}`);
    const report = sameOutcome(runBytecode(source), runOracle(ir, undefined, `random program ${i + 1} built into IR`));
    assert.ok(report === null, `random program ${i + 1} runs differently as IR:\n${report}\n\nthe program:\n${source}`);
  }
}, { timeoutMs: 30000, hints: ['Save the failing program to a file and print its bytecode listing (chapter 06) next to your IR (printFunction).'] });

check('a loop variable gets a phi at the loop header; straight-line code gets none', () => {
  const loop = build.buildProgram(compiler.compileSource('fn main() { let k = 3; let i = 0; let s = 0; while i < 10 { s = s + i * k; i = i + 1; } print(s + k); return 0; }'));
  const main = loop.functions.get('main')!;
  const phis = main.blocks.flatMap((b) => b.insts.filter((i) => i.op === 'phi'));
  assert.is(observed('phis in the loop', phis.length), 2, `i and s each need one phi at the loop header, and k (never written in the loop) none; found ${phis.length}:\n${printer.printFunction(main)}`);
  const headers = new Set(main.blocks.filter((b) => b.insts.some((i) => i.op === 'phi')).map((b) => b.id));
  assert.is(observed('blocks holding the phis', headers.size), 1, 'both phis belong in the loop header');
  const straight = build.buildProgram(compiler.compileSource('fn main() { let a = 1; let b = a + 2; a = b * 3; print(a); return a; }')).functions.get('main')!;
  assert.is(observed('phis in straight-line code', countOps(straight, 'phi')), 0, `no control flow merges, so no phi:\n${printer.printFunction(straight)}`);
  const loads = build.buildProgram(compiler.compileSource('fn main() { let a = 5; print(a + a); return 0; }')).functions.get('main')!;
  assert.is(observed('copies made for loads', countOps(loads, 'copy')), 0, 'a load is not an instruction in SSA: it names the current value');
}, { hints: ['Braun et al. make a phi only where a variable is read and its predecessors disagree; a phi whose operands are all one value is removed.'] });

check('values keep their types: comparisons, booleans and bool functions are bool', () => {
  const ir = build.buildProgram(compiler.compileSource('fn odd(n: int): bool { return n % 2 != 0; }\nfn main() { let b = true; let c = odd(3) && b; print(c); print(!b); return 0; }'));
  verifyAll(ir, 'built');
  const main = ir.functions.get('main')!;
  const printed = main.blocks.flatMap((b) => b.insts.filter((i) => i.op === 'print'));
  const defs = new Map(main.blocks.flatMap((b) => b.insts.map((i) => [i.id, i] as const)));
  for (const p of printed) assert.is(observed('the type of a printed value', defs.get(p.args[0]!)?.type), 'bool', `the value printed by '${printer.printInst(p)}' is a bool`);
  assert.equal(runOracle(ir, undefined, 'true and false printed from IR').output, ['true', 'false'], 'prints true and false, not 1 and 0');
  assert.is(observed('the return type of odd', ir.functions.get('odd')!.returnType), 'bool');
}, { hints: ['The bytecode has no types on constants (`true` is `const 1`): recover them from how values are used (branch wants bool, print_bool prints a bool, a call its parameter types, == one type on both sides).'] });
