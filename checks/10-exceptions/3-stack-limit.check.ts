/**
 * Chapter 10, third part: the machine stack. A function with a 12 KiB frame (the widest Jot
 * allows) recursing without end runs out of machine stack long before the limit of 10000
 * calls; the stack-limit check in each prologue must turn that into the catchable stack
 * overflow (in both compiled tiers, twice in a row), and afterwards the same function
 * recursing a little must still work.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { WIDE_DEPTH, wideCallLine, wideFrames, wideUncaught } from './programs.ts';
import { JIT_TIERS, errors, runIn, TIER_NAMES, writtenRun } from './support.ts';

for (const tier of JIT_TIERS) {
  check(`${TIER_NAMES[tier]}: 12 KiB frames recursing without end are caught as stack overflow, twice, then ${WIDE_DEPTH} deep works`, () => {
    const got = runIn(tier, wideFrames());
    const overflow = String(errors.RUNTIME_ERROR_PAYLOADS.stackOverflow.payload);
    assert.equal(got.error, undefined, `the program should end normally, but it ended with ${got.error?.message}`);
    // What wide(WIDE_DEPTH) returns is written out in expectations.json (not there in a copy staged for grading).
    const deep = writtenRun(`wide(${WIDE_DEPTH})`)?.output[0];
    if (deep !== undefined) assert.equal(got.output, [overflow, overflow, deep], 'printed lines');
    assert.ok(!got.declined.includes('wide'), 'the optimizing tier declined wide, which has no try: the check needs its frame optimized');

    // Uncaught, the overflow of the stack limit reads like the call-depth limit's: in the
    // calling function, at the line of the call, with the trace from there to main.
    const source = wideUncaught();
    const line = wideCallLine(source);
    const uncaught = runIn(tier, source);
    assert.equal(uncaught.output, ['1'], 'printed lines of the uncaught overflow');
    assert.is(uncaught.error?.message, `stack overflow in wide at line ${line}`, 'the uncaught overflow\'s message');
    const trace = uncaught.error?.trace ?? [];
    // How deep the machine stack lets the recursion go depends on each frame's size: only that it is hundreds is reported.
    reportOutcome(`wide frames in ${TIER_NAMES[tier]}`, {
      output: [
        ...got.output, got.error?.message ?? '(ran to the end)', `wide declined: ${got.declined.includes('wide')}`,
        ...uncaught.output, uncaught.error?.message ?? '(ran to the end)', `hundreds of frames: ${trace.length > 100 && trace.length < 10000}`,
        ...[trace[0], trace[1], trace.at(-1)].map((f) => `${f?.name} line ${f?.line}`),
      ],
    });
    assert.ok(trace.length > 100 && trace.length < 10000, `the trace should have hundreds of frames (the machine stack runs out first), found ${trace.length}`);
    assert.equal([trace[0], trace[1], trace.at(-1)], [{ name: 'wide', line }, { name: 'wide', line }, { name: 'main', line: source.split('\n').indexOf('  return wide(1000000);') + 1 }], 'the innermost two frames and the outermost of the trace');
  }, { timeoutMs: 120000, hints: [
    'The prologue compares the stack pointer, after the frame is reserved, with the limit kept in the context, and raises the stack overflow below it.',
    'The limit is the stack pointer at the outermost entry minus the stack budget, computed when TypeScript enters the code.',
    'Uncaught, the overflow is reported at the call in the caller: the first frame of the walk is the function whose prologue tripped, which had not started.',
  ] });
}
