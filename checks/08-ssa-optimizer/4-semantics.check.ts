/**
 * Chapter 08, fourth part: no pass changes what a program does. Every pass runs alone and
 * in the whole pipeline on every shared program and on random programs; the IR oracle runs
 * the IR before and after and the outcomes must agree, and the learner's verifier must
 * accept the IR after every pass. What the IR printed and how it ended, before and after each
 * pass and the whole pipeline, is reported (support.ts runOracle): graded work is held to the
 * reference's run outside the process that ran the code.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { mayCompile, programsUpTo, reportedCompileError } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { build, compiler, errors, optimizer, printer, runOracle, sameOutcome, text, verifyAll, type IrProgram } from './support.ts';

const programs = programsUpTo(8).filter(mayCompile);
const PASS_NAMES = ['sccp', 'copies', 'gvn', 'dce', 'cfg', 'licm', 'strength'];

/** Runs `name` over every function of `program`. */
function runPass(program: IrProgram, name: string): IrProgram {
  const functions = new Map([...program.functions].map(([n, fn]) => [n, optimizer.PASSES[name]!.run(fn, undefined as never)]));
  return { functions, main: program.main };
}

/**
 * The shared programs that run longest under the IR oracle (over 200,000 IR instructions as the
 * reference builds them: fib about 210,000, deep_recursion_wide_frames about 910,000) get the
 * whole pipeline only, to keep the check quick. The list is fixed, never decided by how long
 * the code under test runs, so every run makes the same runs and reports the same outcomes.
 */
const WHOLE_PIPELINE_ONLY = new Set(['fib.jot', 'deep_recursion_wide_frames.jot']);

function checkSource(source: string, label: string, bytecode = compiler.compileSource(source)): void {
  const built = build.buildProgram(bytecode);
  const expected = runOracle(built, undefined, `${label} built into IR`);
  for (const name of WHOLE_PIPELINE_ONLY.has(label) ? [] : PASS_NAMES) {
    const after = runPass(built, name);
    verifyAll(after, `after ${name} on ${label}`);
    const report = sameOutcome(expected, runOracle(after, undefined, `${label} after ${name}`));
    assert.ok(report === null, `${name} changed what ${label} does:\n${report}\n\nbefore:\n${[...built.functions.values()].map(printer.printFunction).join('\n')}\n\nafter:\n${[...after.functions.values()].map(printer.printFunction).join('\n')}`);
  }
  const all = optimizer.optimizeProgram(built, { verifyEach: true });
  const report = sameOutcome(expected, runOracle(all, undefined, `${label} after the whole pipeline`));
  assert.ok(report === null, `the whole pipeline changed what ${label} does:\n${report}`);
}

check('every pass keeps every shared program\'s output and errors', () => {
  for (const program of programs) {
    process.stderr.write(`optimizing ${program.name}.jot\n`);
    let bytecode;
    try {
      bytecode = compiler.compileSource(program.source);
    } catch (error) {
      // Where a program may not compile (in a staged copy, any), its compile error is its outcome.
      if (reportedCompileError(program, error, errors.CompileError)) continue;
      throw error;
    }
    checkSource(program.source, `${program.name}.jot`, bytecode);
  }
}, { timeoutMs: 60000, hints: ['The failure names the pass and prints the IR before and after it: find the instruction that changed meaning.'] });

check('every pass keeps random programs\' output and errors', (t) => {
  for (let i = 0; i < 30; i++) {
    const source = randomProgram(t.random);
    checkSource(source, `random program ${i + 1}:\n${source}\n`);
  }
}, { timeoutMs: 60000, hints: ['Random programs divide by zero now and then, on purpose: the error and its line must survive every pass.'] });

/**
 * Control flow no Jot program makes, written as IR: a single-block loop that is its own
 * header, latch and exit, whose phis swap two values; a loop with two entries
 * (irreducible) with a division that fails on one path; critical edges, a branch with one
 * block as both targets, and phis of phis; nested loops whose phis only carry one value
 * around (phis of trivial phis); a loop entered from two blocks, whose header phi merges
 * two outside values.
 */
const ODD_SHAPES = `function swap(): int {
b0:
  v0 = const int 1
  v1 = const int 2
  v2 = const int 0
  v3 = const int 1
  v4 = const int 5
  jump b1
b1:
  v5 = phi int [b0: v0], [b1: v6]
  v6 = phi int [b0: v1], [b1: v5]
  v7 = phi int [b0: v2], [b1: v8]
  print v5
  v8 = add v7, v3
  v9 = lt v8, v4
  branch v9, b1, b2
b2:
  print v6
  return v7
}

function irreducible(n: int): int {
b0:
  v0 = param int 0
  v1 = const int 0
  v2 = const int 1
  v3 = const int 7
  v4 = lt v1, v0
  branch v4, b1, b2
b1:
  v5 = phi int [b0: v1], [b2: v8]
  v6 = add v5, v2
  print v6
  jump b2
b2:
  v7 = phi int [b0: v1], [b1: v6]
  v8 = add v7, v2
  v9 = mul v3, v3
  v10 = add v9, v8
  print v10
  v12 = div v8, v0 @9
  print v12
  v11 = lt v8, v0
  branch v11, b1, b3
b3:
  return v8
}

function critical(a: int, b: int): int {
b0:
  v0 = param int 0
  v1 = param int 1
  v2 = lt v0, v1
  branch v2, b1, b3
b1:
  v3 = sub v1, v0
  v4 = const int 3
  v5 = lt v3, v4
  branch v5, b3, b2
b2:
  v6 = eq v0, v1
  branch v6, b4, b4
b4:
  v7 = phi int [b2: v3]
  jump b3
b3:
  v8 = phi int [b0: v0], [b1: v1], [b4: v7]
  v9 = phi int [b0: v1], [b1: v0], [b4: v3]
  v10 = lt v8, v9
  branch v10, b5, b6
b5:
  jump b6
b6:
  v11 = phi int [b3: v8], [b5: v9]
  v12 = phi int [b3: v9], [b5: v8]
  v13 = mul v11, v12
  v14 = sub v11, v12
  print v14
  return v13
}

function nested(n: int): int {
b0:
  v0 = param int 0
  v1 = const int 0
  v2 = const int 1
  v20 = const int 3
  jump b1
b1:
  v3 = phi int [b0: v0], [b4: v7]
  v4 = phi int [b0: v1], [b4: v10]
  v5 = phi int [b0: v1], [b4: v9]
  v6 = lt v4, v20
  branch v6, b2, b5
b2:
  jump b3
b3:
  v7 = phi int [b2: v3], [b3: v7]
  v8 = phi int [b2: v1], [b3: v11]
  v9 = phi int [b2: v5], [b3: v12]
  v13 = mul v7, v20
  v12 = add v9, v13
  v11 = add v8, v2
  v14 = lt v11, v4
  branch v14, b3, b4
b4:
  v10 = add v4, v2
  jump b1
b5:
  print v5
  return v3
}

function twoWaysIn(): int {
b0:
  v0 = const int 4
  v1 = const int 6
  v2 = const int 0
  v3 = lt v0, v2
  branch v3, b1, b2
b1:
  jump b3
b2:
  jump b3
b3:
  v4 = phi int [b1: v0], [b2: v1], [b4: v7]
  v5 = lt v2, v4
  branch v5, b4, b5
b4:
  v6 = const int 1
  v8 = add v0, v1
  v9 = mul v8, v4
  print v9
  v7 = sub v4, v6
  jump b3
b5:
  return v4
}

function main(): int {
b0:
  v16 = call int twoWaysIn() @10
  v0 = call int swap() @1
  print v0
  v1 = const int 3
  v2 = call int irreducible(v1) @2
  print v2
  v3 = const int 1
  v4 = const int 2
  v5 = const int 10
  v6 = const int -3
  v7 = const int 5
  v8 = call int critical(v3, v4) @3
  v9 = call int critical(v4, v3) @4
  v10 = call int critical(v3, v5) @5
  v11 = call int critical(v6, v7) @6
  v12 = call int critical(v7, v7) @7
  v13 = call int nested(v7) @8
  print v13
  v14 = const int 0
  v15 = call int irreducible(v14) @9
  print v15
  return v14
}`;

check('every pass keeps the behaviour of IR with irreducible loops, critical edges, swapping phis and phis of phis', () => {
  const program = text.parseProgram(ODD_SHAPES);
  const expected = runOracle(program, undefined, 'the IR of odd shapes');
  for (const name of PASS_NAMES) {
    const after = runPass(program, name);
    verifyAll(after, `after ${name}`);
    const report = sameOutcome(expected, runOracle(after, undefined, `the IR of odd shapes after ${name}`));
    assert.ok(report === null, `${name} changed what this IR does:\n${report}\n\nbefore:\n${ODD_SHAPES}\n\nafter:\n${[...after.functions.values()].map(printer.printFunction).join('\n\n')}`);
  }
  const all = optimizer.optimizeProgram(program, { verifyEach: true });
  const report = sameOutcome(expected, runOracle(all, undefined, 'the IR of odd shapes after the whole pipeline'));
  assert.ok(report === null, `the whole pipeline changed what this IR does:\n${report}\n\nafter:\n${[...all.functions.values()].map(printer.printFunction).join('\n\n')}`);
}, { hints: [
  'Phis read their operands all at once, at the end of the predecessor: `v5 = phi [b1: v6]` and `v6 = phi [b1: v5]` swap, they do not copy one into the other.',
  'A loop reached from two places has no preheader and no natural loop header: nothing that relies on dominance may assume one.',
] });
