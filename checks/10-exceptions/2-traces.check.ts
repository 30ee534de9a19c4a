/**
 * Chapter 10, second part: uncaught exceptions. In every tier, a program that does not catch
 * ends with the message (a runtime error's message exactly as in chapter 06, or
 * `uncaught exception P`), its payload, and a stack trace of function names and source lines,
 * innermost first, the same as the reference interpreter's; a trace 10000 frames deep is
 * shortened by the one rule, to the same text in every tier.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { DEEP_OVERFLOW, DEEP_UNCAUGHT, UNCAUGHT } from './programs.ts';
import { checkExpectations, referenceTraceText, runIn, TIER_NAMES, TIERS, trace, traceText, writtenRun, type Frame } from './support.ts';

check('formatTrace: traces of 0 to 25 frames and of 10000 follow the one rule, line for line', () => {
  for (const length of [...Array.from({ length: 26 }, (_, i) => i), 10000]) {
    const frames: Frame[] = Array.from({ length }, (_, i) => ({ name: i === length - 1 ? 'main' : `f${i}`, line: 100 + i }));
    const expected = traceText(frames);
    const byReference = referenceTraceText(frames);
    if (byReference !== undefined) assert.fixture(byReference, expected, `${length} frames: the reference formats the trace differently from the rule (a check bug)`);
    const formatted = trace.formatTrace(frames);
    reportOutcome(`a trace of ${length} frames`, { output: formatted.split('\n') });
    assert.fixture(formatted, expected, `a trace of ${length} frames (innermost f0 at line 100 ... main last): the text differs from the rule's`);
  }
}, { hints: [
  'Up to 20 frames: every frame, innermost first, one `at NAME (line N)` per line, joined by newlines, none at the end (no frames: the empty string).',
  'Past 20: the 10 innermost, `... K more frames ...` where K counts the frames not shown, then the 10 outermost.',
] });

for (const tier of TIERS) {
  const name = TIER_NAMES[tier];
  check(`${name}: uncaught exceptions and runtime errors end with their message, payload and a trace of names and lines`, () => {
    checkExpectations(tier, UNCAUGHT);
  }, { timeoutMs: 30000, hints: [
    'One line per active frame, innermost first: the function\'s name, and the line of the throw in the innermost frame, of the call in each caller.',
    'A caller\'s line is its call\'s: the unwind table\'s row for the return address records the line of the call, made when the call was compiled.',
  ] });

  check(`${name}: traces 10000 frames deep (a throw and a stack overflow) are shortened by the one rule, the same in every tier`, () => {
    checkExpectations(tier, [DEEP_UNCAUGHT, DEEP_OVERFLOW]);
    for (const program of [DEEP_UNCAUGHT, DEEP_OVERFLOW]) {
      const got = runIn(tier, program.source);
      const text = trace.formatTrace(got.error?.trace ?? []);
      reportOutcome(`${program.name}: its trace formatted, in ${TIER_NAMES[tier]}`, { output: text.split('\n') });
      // In a copy staged for grading nothing is written out here: the runner judges the text reported.
      const written = writtenRun(program.name)?.error?.trace;
      if (written === undefined) continue;
      const expected = traceText(written);
      assert.fixture(text, expected, `${program.name}: the formatted trace differs from the rule's`);
      const byReference = referenceTraceText(written);
      if (byReference !== undefined) assert.fixture(byReference, expected, 'the reference formats the trace differently from the rule (a check bug)');
    }
  }, { timeoutMs: 60000, hints: [
    'Collect every frame; shorten only when formatting, by the one rule.',
  ] });
}
