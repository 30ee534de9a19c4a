/**
 * Chapter 12, fifth part: on-stack replacement into the optimizing tier. A loop that runs in
 * a baseline frame moves to the optimized code at its header when the back edge takes the
 * countdown to zero (the frame replaced by the optimized one), and a loop still running in an
 * interpreter frame of a function that has been optimized meanwhile moves there at its next
 * back edge. The runs' statistics say that it happened; every run must end exactly as the
 * interpreter ends it, also when an exception, a collection or a stack overflow happens in
 * the frame that moved. What each check finds is reported (how each run ended, and yes or no
 * for each fact it requires of the statistics, tiers and trace), for graded work to be held to
 * the reference's run outside the process that ran the code.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { compareOutcome, programsUpTo } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { compareWithReference, errors, seen, tiered, type TieredOutcome, type TieredRunOptions } from './support.ts';

/**
 * Programs with a loop somewhere (the others have no loop header to enter at), chosen by their
 * text alone: one that fails to compile is run too, and its compile error is its outcome.
 */
const looping = programsUpTo(11).filter((p) => /\bwhile\b/.test(p.source));

/** Runs `source` tiered and compares its ending with the interpreter's; the report, or null. */
function runAndCompare(name: string, source: string, options: TieredRunOptions & { readonly stress?: boolean; readonly semispaceBytes?: number }): { got: TieredOutcome; report: string | null } {
  const got = tiered.runTiered(source, options);
  reportOutcome(name, { output: got.output, error: got.error === undefined ? undefined : { kind: 'runtime', message: got.error.message } });
  return { got, report: compareWithReference(name, source, got, options) };
}

check('every program\'s main, compiled at its first call, moves from its baseline frame to the optimized code at the first back edge of a loop, and ends as the interpreter ends it', () => {
  // main is compiled at its one call; its prologue takes the countdown from 2 to 1, and the
  // first back edge it takes, to 0: the frame moves to the optimized code at that loop header.
  const options = { tierUpCalls: 1, tierUpLoops: 1, tierUpOptimizedCalls: 2 };
  const reports: string[] = [];
  const missed: string[] = [];
  let moved = 0;
  for (const program of looping) {
    process.stderr.write(`running ${program.name}.jot\n`);
    let ran: ReturnType<typeof runAndCompare>;
    try {
      ran = runAndCompare(program.name, program.source, options);
    } catch (error) {
      if (!(error instanceof errors.CompileError)) throw error;
      // Its outcome, held to the program's expectation (by the runner, when it is hidden here).
      const report = compareOutcome(program, { output: [], error: { kind: 'compile', message: error.message } });
      if (report !== null) reports.push(report);
      continue;
    }
    const { got, report } = ran;
    const expected = compareOutcome(program, { output: got.output, ...(got.error === undefined ? {} : { error: { kind: 'runtime' as const, message: got.error.message } }) });
    if (expected !== null || report !== null) reports.push((expected ?? report)!);
    if (got.stats.osrOptimizedFromBaseline > 0) moved++;
    // A back edge of main ran in its baseline code (2 or more counted there) and the optimizing
    // tier does not decline main: that back edge must have moved the frame.
    else if (got.counters.main!.baselineCalls >= 2 && !got.declined.includes('main')) missed.push(`${program.name}: main counted ${got.counters.main!.baselineCalls} calls and back edges in its baseline code, the optimizing tier does not decline it, and no frame moved`);
  }
  assert.ok(reports.length === 0, `${reports.length} of ${looping.length} programs went wrong:\n\n${reports.slice(0, 3).join('\n\n')}`);
  assert.ok(seen('no main kept its loop in baseline code past the countdown', missed.length === 0), `${missed.length} programs kept main's loop in baseline code past the countdown:\n${missed.slice(0, 5).join('\n')}`);
  assert.ok(seen('a baseline frame moved to the optimized code in at least 20 programs', moved >= 20), `a baseline frame moved to the optimized code in only ${moved} of ${looping.length} programs with loops`);
}, { timeoutMs: 40000, emulatedTimeoutMs: 960000, hints: [
  'At a back edge whose countdown reaches zero, jot_tier_up(f, header) compiles f and returns the address of the header\'s OSR variant: the back edge copies its locals to the transfer buffer, removes its frame and jumps there.',
  'The OSR variant is the function with one more way in: an entry block that reads every local from the transfer buffer and jumps to the loop header; the header\'s phis give those values their types.',
] });

const REENTERED = `fn walk(n, depth) {
  let i = 0;
  let s = 0;
  while i < n {
    if depth > 0 && i == 1 {
      s = s + walk(n, depth - 1);
    }
    s = s + i % 5;
    i = i + 1;
  }
  return s;
}

fn main() {
  print(walk(300, 6));
  return 0;
}
`;

check('a loop still running in an interpreter frame moves to the optimized code at its next back edge once its function has been optimized by later calls', () => {
  // The outer calls of walk start in the interpreter and, at their second iteration, call walk
  // again: the inner calls promote it to baseline and then to the optimizing tier. When the
  // interpreted calls resume their loops, their back edges move them to the optimized code.
  const lines: string[] = [];
  const { got, report } = runAndCompare('walk', REENTERED, { tierUpCalls: 3, tierUpLoops: 50, tierUpOptimizedCalls: 2, traceTiers: (line) => lines.push(line) });
  assert.ok(report === null, report ?? '');
  assert.equal(seen('tier of walk', got.tiers.walk), 'optimized');
  assert.ok(seen('interpreter frames of walk moved to the optimized code at least twice', got.stats.osrOptimizedFromInterpreter >= 2), `interpreter frames of walk moved to the optimized code ${got.stats.osrOptimizedFromInterpreter} times: the two outer calls, interpreted, should each move at a back edge\n${lines.join('\n')}`);
  assert.ok(seen('a trace line says where the interpreter frame of walk moved', lines.some((line) => /walk/.test(line) && /interpreter frame/.test(line) && /loop header/.test(line))), `--trace-tiers says where the interpreter frame moved:\n${lines.join('\n')}`);
}, { hints: [
  'When a back edge in the interpreter finds its function optimized, it enters the function\'s OSR variant at that loop header (through the tiered entry stub, the frame\'s locals in the transfer buffer) rather than the baseline code.',
] });

const THROWS = `fn scan(n, limit) {
  let i = 0;
  let s = 0;
  while i < n {
    s = s + i;
    if i == limit {
      throw s;
    }
    if i == n - 7 {
      s = s / (i - i);
    }
    i = i + 1;
  }
  return s;
}

fn guarded(n, limit) {
  try {
    return scan(n, limit);
  } catch e {
    print(e);
    return -1;
  }
}

fn main() {
  print(guarded(5000, 4000));
  print(guarded(5000, 9000));
  print(scan(3000, -5));
  return 0;
}
`;

check('an exception thrown in a frame that moved to the optimized code is caught by its caller, and an uncaught runtime error there has the interpreter\'s trace', () => {
  for (const options of [{ tierUpCalls: 1, tierUpLoops: 1, tierUpOptimizedCalls: 100 }, { tierUpCalls: 100, tierUpLoops: 10, tierUpOptimizedCalls: 100 }]) {
    const { got, report } = runAndCompare('scan', THROWS, options);
    assert.ok(report === null, `with ${JSON.stringify(options)}: ${report}`);
    assert.ok(seen(`with ${JSON.stringify(options)}: a frame of scan moved to the optimized code`, got.stats.osrOptimizedFromBaseline >= 1), `with ${JSON.stringify(options)}: no frame of scan moved to the optimized code (${JSON.stringify(got.stats)})`);
    assert.ok(seen(`with ${JSON.stringify(options)}: the run ends in a division by zero`, got.error !== undefined && /division by zero/.test(got.error.message)), `with ${JSON.stringify(options)}: the run should end in scan's division by zero: ${got.error?.message ?? `it printed ${got.output.join(", ")} and returned`}`);
  }
}, { hints: [
  'The OSR variant is an optimized function of scan\'s own index: its unwind rows name scan, and the frame it replaced is gone, so the trace has scan once.',
] });

const COLLECTS = `fn fill(n, depth) {
  let keep = new [int](3);
  keep[1] = 7;
  keep[2] = 11;
  let i = 0;
  let s = 0;
  while i < n {
    if depth > 0 && i == 1 {
      s = s + fill(n, depth - 1);
    }
    let a = new [int](4);
    a[0] = i;
    s = s + a[0] + keep[1];
    i = i + 1;
  }
  return s + keep[2] + len(keep);
}

fn main() {
  print(fill(1500, 2));
  print(fill(10, 0));
  return 0;
}
`;

check('collections made in a frame that moved to the optimized code find the references it brought along', () => {
  const ways = [
    { from: 'a baseline frame', options: { tierUpCalls: 1, tierUpLoops: 1, tierUpOptimizedCalls: 50 } },
    { from: 'an interpreter frame moved to baseline code first', options: { tierUpCalls: 100, tierUpLoops: 20, tierUpOptimizedCalls: 30 } },
    { from: 'an interpreter frame', options: { tierUpCalls: 2, tierUpLoops: 50, tierUpOptimizedCalls: 2 } },
  ];
  for (const { from, options } of ways) {
    const heap = { semispaceBytes: 16 * 1024, stress: true, verify: true };
    const { got, report } = runAndCompare('fill', COLLECTS, { ...options, ...heap });
    assert.ok(report === null, `from ${from}: ${report}`);
    const moved = from === 'an interpreter frame' ? got.stats.osrOptimizedFromInterpreter : got.stats.osrOptimizedFromBaseline;
    assert.ok(seen(`from ${from}: a frame of fill moved to the optimized code that way`, moved >= 1), `from ${from}: no frame of fill moved to the optimized code that way (${JSON.stringify(got.stats)})`);
    assert.ok(seen(`from ${from}: at least 1000 collections`, got.heap.collections >= 1000), `only ${got.heap.collections} collections under --gc-stress`);
  }
}, { timeoutMs: 30000, emulatedTimeoutMs: 480000, hints: [
  'The locals reach the OSR variant typed as the function\'s ordinary build types them at the loop header: an array local is a reference, kept where the stack maps of its GC points say.',
] });

const OVERFLOWS = `fn down(d) {
  let i = 0;
  let s = 0;
  while i < 40 {
    s = s + i;
    i = i + 1;
  }
  return s + down(d + 1);
}

fn main() {
  print(down(0));
  return 0;
}
`;

check('a recursion that overflows inside a frame that moved to the optimized code fails as the interpreter\'s does, at the same call', () => {
  const { got, report } = runAndCompare('down', OVERFLOWS, { tierUpCalls: 1, tierUpLoops: 1, tierUpOptimizedCalls: 30 });
  assert.ok(report === null, report ?? '');
  assert.ok(seen('a frame of down moved to the optimized code', got.stats.osrOptimizedFromBaseline >= 1), `no frame of down moved to the optimized code (${JSON.stringify(got.stats)})`);
  assert.ok(seen('the run ends in a stack overflow', got.error !== undefined && /stack overflow/.test(got.error.message)), `the run should end in a stack overflow: ${JSON.stringify(got.error?.message)}`);
}, { timeoutMs: 30000, emulatedTimeoutMs: 480000, hints: [
  'A frame that moves replaces the baseline frame: callsLeft stays as it is (one frame goes, one comes), so the depth limit trips at the same call as in every other tier.',
] });

check('random programs under thresholds that move loops to the optimized code mid-run end as the interpreter ends them', (t) => {
  const reports: string[] = [];
  let moved = 0;
  for (let i = 0; i < 15; i++) {
    const source = randomProgram(t.random, 11);
    const options = { semispaceBytes: 64 * 1024, stress: true, verify: true };
    const { got, report } = runAndCompare(`random program ${i + 1}`, source, { ...options, tierUpCalls: 1, tierUpLoops: 1, tierUpOptimizedCalls: 2 });
    moved += got.stats.osrOptimizedFromBaseline + got.stats.osrOptimizedFromInterpreter;
    if (report !== null) reports.push(`${report}\n\n${source}`);
  }
  assert.ok(reports.length === 0, `${reports.length} of 15 random programs went wrong; the first:\n\n${reports[0]}`);
  assert.ok(seen('frames moved to the optimized code at least 5 times', moved >= 5), `frames moved to the optimized code only ${moved} times in 15 random programs`);
}, { timeoutMs: 40000, emulatedTimeoutMs: 960000 });
