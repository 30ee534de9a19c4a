/**
 * Random programs: seeded, small, terminating Jot programs (expressions over variables and
 * edge values, if/else, loops bounded by constants, calls to earlier functions), compiled
 * by your chapters 05–06 and run by your JIT, compared with what the reference interpreter
 * of chapter 06 does with the same bytecode.
 *
 * Why the reference interpreter and not yours: the oracle must be right. Your interpreter
 * and your JIT were written by the same person from the same understanding, and a shared
 * misreading (of `>>>`, of `%` with negative operands) would pass unnoticed. Running the
 * same bytecode through both isolates what this chapter adds: the translation to machine code.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { compareOutcome } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { expectationsHidden } from '#harness/written.ts';
import { againstReference, compareResult, compiler, jit, type JitOutcome } from './support.ts';

check('random programs: the JIT prints and returns what the interpreter does, and fails where it fails', (t) => {
  const PROGRAMS = 40;
  let errors = 0;
  for (let i = 0; i < PROGRAMS; i++) {
    const source = randomProgram(t.random);
    const program = compiler.compileSource(source);
    const name = `random program ${i + 1}`;
    const expected = againstReference(name, source, program);
    if (expected.program.expectedError) errors++;

    const output: string[] = [];
    const compiled = jit.compileProgram(program);
    let actual: JitOutcome;
    try {
      const outcome = compiled.run({ print: (text) => output.push(text) });
      actual = outcome.error ? { output, error: { kind: 'runtime', message: outcome.error.message } } : { output, result: outcome.result! };
    } finally {
      compiled.dispose();
    }
    const report = compareOutcome(expected.program, actual) ?? compareResult(name, expected.result, actual);
    assert.ok(report === null, `${report}\n\nthe program:\n${source}`);
  }
  assert.ok(expectationsHidden() || errors < PROGRAMS, 'every random program failed at run time (a check bug)');
}, { timeoutMs: 10000, emulatedTimeoutMs: 80000, hints: [
  'The failing program is printed in full: save it to a .jot file and compare `npm run jit -- --mine FILE` with `npm run jit -- --mine --interp FILE`.',
  'Look at its bytecode listing and your machine code side by side: `npm run jit -- --mine --emit-asm FILE`.',
] });
