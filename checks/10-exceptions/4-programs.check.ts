/**
 * Chapter 10, fourth part: whole programs in every tier. Every shared program up to chapter
 * 10 prints and ends as its expectations say (the programs of chapters 06–09 keep their exact
 * output and messages), and random programs with throws and catches do what the reference
 * interpreter does, trace and payload included.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, diffLines, mayCompile, programsThatCompile, programsUpTo } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { compareRuns, compiler, expectedRun, level, runIn, TIER_NAMES, TIERS, traceText } from './support.ts';

const programs = programsUpTo(10).filter(mayCompile);
const errors = await learnerCode(import('#ch05/errors.ts'));

for (const tier of TIERS) {
  const name = TIER_NAMES[tier];
  check(`${name}: every shared program up to chapter 10 prints and ends as it expects, with the reference trace`, () => {
    const reports: string[] = [];
    // Where a program may end with a compile error (in a staged copy, any), it is reported so and left out.
    for (const program of programsThatCompile(programs, (source) => compiler.compileSource(source, level.EXCEPTIONS_LANGUAGE), errors.CompileError)) {
      process.stderr.write(`running ${program.name}.jot in ${name}\n`);
      const got = runIn(tier, program.source);
      const report = compareOutcome(program, { output: got.output, ...(got.error ? { error: { kind: 'runtime', message: got.error.message } } : {}) }) ??
        compareRuns(program.name, tier, expectedRun(program.source), got);
      if (report !== null) {
        reports.push(report);
        continue;
      }
      // The optimizing tier may leave a function with a try to the template compiler, no other.
      const withoutTry = got.declined.filter((fn) => !/\btry\b/.test(functionText(program.source, fn)));
      reportOutcome(`${program.name}.jot in ${name}: the functions the optimizing tier declined that have no try`, { output: withoutTry });
      if (withoutTry.length > 0) {
        reports.push(`${program.name}.jot in ${name}: the optimizing tier declined ${withoutTry.join(', ')}, which has no try (a throw, a call or a runtime error compiles in optimized code)`);
        continue;
      }
      // The trace a program writes out in `// expect trace:` lines, in the one format.
      const written = [...program.source.matchAll(/\/\/\s*expect trace:\s?(.*)$/gm)].map((m) => m[1]!.trimEnd());
      if (written.length > 0 && traceText(got.error?.trace ?? []) !== written.join('\n')) {
        reports.push(`${program.name}.jot in ${name}: the trace differs from its expect trace lines:\n${diffLines(written, traceText(got.error?.trace ?? []).split('\n'))}`);
      }
    }
    assert.ok(reports.length === 0, `${reports.length} of ${programs.length} programs went wrong:\n\n${reports.join('\n\n')}`);
  }, { timeoutMs: 240000, hints: [
    'A program without try or throw runs exactly as in chapter 06–09: only the end of an uncaught error gains a trace.',
  ] });

  check(`${name}: random programs with throws and catches do what the reference interpreter does`, (t) => {
    const reports: string[] = [];
    for (let i = 0; i < 30; i++) {
      const source = randomProgram(t.random, 10);
      const report = compareRuns(`random program ${i + 1}`, tier, expectedRun(source), runIn(tier, source));
      if (report !== null) reports.push(`${report}\n${source}`);
    }
    assert.ok(reports.length === 0, `${reports.length} of 30 random programs went wrong; the first:\n\n${reports.slice(0, 2).join('\n\n')}`);
  }, { timeoutMs: 180000, hints: [
    'Random programs throw from any depth and catch at any depth: a wrong handler, a wrong operand-stack depth or a register not restored shows as a wrong printed line.',
  ] });
}

/** The text of top-level function `name` in `source`: from its `fn name(` line to the next top-level `fn`. */
function functionText(source: string, name: string): string {
  const start = source.search(new RegExp(`^fn ${name}\\(`, 'm'));
  if (start < 0) return '';
  const next = source.slice(start + 1).search(/^fn /m);
  return next < 0 ? source.slice(start) : source.slice(start, start + 1 + next);
}
