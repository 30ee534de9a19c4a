/**
 * Chapter 08, fourth part: no pass changes what a program does. Every pass runs alone and
 * in the whole pipeline on every shared program and on random programs; the IR oracle runs
 * the IR before and after and the outcomes must agree, and the learner's verifier must
 * accept the IR after every pass.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { loadPrograms } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { build, compiler, optimizer, printer, runOracle, sameOutcome, verifyAll, type IrProgram } from './support.ts';

const programs = loadPrograms().filter((p) => p.expectedError?.kind !== 'compile');
const PASS_NAMES = ['sccp', 'copies', 'gvn', 'dce', 'cfg', 'licm', 'strength'];

/** Runs `name` over every function of `program`. */
function runPass(program: IrProgram, name: string): IrProgram {
  const functions = new Map([...program.functions].map(([n, fn]) => [n, optimizer.PASSES[name]!.run(fn, undefined as never)]));
  return { functions, main: program.main };
}

/** Programs that run longer than this many IR instructions get the whole pipeline only. */
const PER_PASS_BUDGET = 200_000;

function checkSource(source: string, label: string): void {
  const built = build.buildProgram(compiler.compileSource(source));
  const counter = { steps: 0 };
  const expected = runOracle(built, counter);
  for (const name of counter.steps <= PER_PASS_BUDGET ? PASS_NAMES : []) {
    const after = runPass(built, name);
    verifyAll(after, `after ${name} on ${label}`);
    const report = sameOutcome(expected, runOracle(after));
    assert.ok(report === null, `${name} changed what ${label} does:\n${report}\n\nbefore:\n${[...built.functions.values()].map(printer.printFunction).join('\n')}\n\nafter:\n${[...after.functions.values()].map(printer.printFunction).join('\n')}`);
  }
  const all = optimizer.optimizeProgram(built, { verifyEach: true });
  const report = sameOutcome(expected, runOracle(all));
  assert.ok(report === null, `the whole pipeline changed what ${label} does:\n${report}`);
}

check('every pass keeps every shared program\'s output and errors', () => {
  for (const program of programs) {
    process.stderr.write(`optimizing ${program.name}.jot\n`);
    checkSource(program.source, `${program.name}.jot`);
  }
}, { timeoutMs: 60000, hints: ['The failure names the pass and prints the IR before and after it: find the instruction that changed meaning.'] });

check('every pass keeps random programs\' output and errors', (t) => {
  for (let i = 0; i < 30; i++) {
    const source = randomProgram(t.random);
    checkSource(source, `random program ${i + 1}:\n${source}\n`);
  }
}, { timeoutMs: 60000, hints: ['Random programs divide by zero now and then, on purpose: the error and its line must survive every pass.'] });
