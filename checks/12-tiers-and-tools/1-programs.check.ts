/**
 * Chapter 12, first part: whole programs, tiered. With thresholds of one or two calls and back
 * edges, every function starts in the interpreter and changes tier while the program runs,
 * loops move to compiled code in their middle (on-stack replacement), and calls cross between
 * interpreted and compiled functions in both directions; every program of chapters 06–11 must
 * still print and end exactly as the interpreter makes it: output, result, error, payload and
 * the whole stack trace.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome } from '#harness/check.ts';
import { compareOutcome, mayCompile, programsUpTo, reportedCompileError } from '#harness/programs.ts';
import { randomProgram } from '#harness/random-programs.ts';
import { ENOUGH_REPORTS, compareWithExpectations, compareWithReference, errors, seen, tiered, wentWrong, type TieredOutcome, type TieredRunOptions } from './support.ts';

const programs = programsUpTo(11).filter(mayCompile);

/** Runs every program tiered with `options` (until ENOUGH_REPORTS went wrong); the reports of those that went wrong, how many ran, and the runs. */
function runAll(options: TieredRunOptions): { reports: string[]; ran: number; runs: Map<string, TieredOutcome> } {
  const reports: string[] = [];
  const runs = new Map<string, TieredOutcome>();
  let ran = 0;
  for (const program of programs) {
    if (reports.length >= ENOUGH_REPORTS) break;
    ran++;
    process.stderr.write(`running ${program.name}.jot\n`);
    let got: TieredOutcome;
    try {
      got = tiered.runTiered(program.source, options);
    } catch (error) {
      // Where a program may end with a compile error (in a staged copy, any), that is its outcome.
      if (reportedCompileError(program, error, errors.CompileError)) continue;
      if (error instanceof errors.CompileError) {
        reports.push(`${program.name}: compile error ${error.message}`);
        continue;
      }
      throw error;
    }
    runs.set(program.name, got);
    reportOutcome(program.name, { output: got.output, error: got.error === undefined ? undefined : { kind: 'runtime', message: got.error.message } });
    const report = compareOutcome(program, { output: got.output, ...(got.error === undefined ? {} : { error: { kind: 'runtime' as const, message: got.error.message } }) })
      ?? compareWithReference(program.name, program.source, got, options);
    if (report !== null) reports.push(report);
  }
  return { reports, ran, runs };
}

/** Calls or back edges in the interpreter before the baseline tier, then calls in the baseline tier before the optimizing tier. */
const THRESHOLDS = [
  { calls: 1, loops: 1, optimized: 1 },
  { calls: 2, loops: 2, optimized: 3 },
  { calls: 3, loops: 40, optimized: 50 },
];

for (const { calls, loops, optimized } of THRESHOLDS) {
  check(`promotion after ${calls} call${calls === 1 ? '' : 's'} or ${loops} back edge${loops === 1 ? '' : 's'}, and ${optimized} more call${optimized === 1 ? '' : 's'} to the optimizing tier: every program ends exactly as the interpreter ends it`, () => {
    const { reports, ran, runs } = runAll({ tierUpCalls: calls, tierUpLoops: loops, tierUpOptimizedCalls: optimized });
    assert.ok(reports.length === 0, `${wentWrong(reports.length, ran, programs.length, 'programs')}:\n\n${reports.slice(0, 3).join('\n\n')}`);
    // The runs must have mixed the tiers: promotions mid-run, loops entered in their middle,
    // and machine code calling functions still interpreted.
    let promoted = 0;
    let toOptimized = 0;
    let osr = 0;
    let fromMachine = 0;
    const stayed: string[] = [];
    for (const [name, run] of runs) {
      promoted += run.promotions.length;
      toOptimized += run.promotions.filter((p) => p.to === 'optimized').length;
      osr += run.stats.osrEntries;
      fromMachine += run.stats.interpreterEntries - 1;
      for (const [fn, counter] of Object.entries(run.counters)) {
        if ((counter.calls >= calls || counter.loops >= loops) && run.tiers[fn] === 'interpreter') stayed.push(`${name}: ${fn} (${counter.calls} calls, ${counter.loops} back edges)`);
      }
    }
    assert.ok(seen('no function past a threshold stayed in the interpreter', stayed.length === 0), `functions past a threshold stayed in the interpreter: ${stayed.slice(0, 5).join('; ')}`);
    assert.ok(seen('at least 60 promotions', promoted >= 60), `only ${promoted} promotions in ${runs.size} programs`);
    assert.ok(seen('at least 15 promotions to the optimizing tier', toOptimized >= 15), `only ${toOptimized} promotions to the optimizing tier in ${runs.size} programs: a baseline function's prologue counts its calls down to the optimizing tier`);
    // After one call, every function is compiled before it starts: no loop begins interpreted.
    if (calls > 1) assert.ok(seen('at least 15 on-stack replacements', osr >= 15), `on-stack replacement was taken ${osr} times in ${runs.size} programs: a hot loop in a function that was entered interpreted must move to compiled code at its header`);
    if (calls > 1) assert.ok(seen('machine code called interpreted functions at least 5 times', fromMachine >= 5), `machine code called an interpreted function ${fromMachine} times in all: calls from compiled code to functions not yet compiled go through the entry table to the interpreter`);
  }, { timeoutMs: 40000, emulatedTimeoutMs: 960000, hints: [
    'Run the program that went wrong with `--tier auto --tier-up-calls 1 --tier-up-loops 1 --trace-tiers` and see which promotion comes just before the output goes astray.',
    'A call from the interpreter to compiled code and a call from compiled code to the interpreter must both count every active call: the depth limit and the traces span the tiers.',
    'An exception leaving a machine segment is raised in the interpreter at the call that entered it, with the frames it left as the start of its trace; one leaving an interpreter run is rethrown at the machine caller\'s call.',
  ] });
}

check('under --gc-stress --verify-heap, with promotion after 2 calls or back edges, every heap program prints and ends as it expects', () => {
  const heapPrograms = programs.filter((p) => p.since === 11 && !p.name.includes('out_of_memory'));
  const reports: string[] = [];
  let collections = 0;
  let osr = 0;
  let ran = 0;
  for (const program of heapPrograms) {
    if (reports.length >= ENOUGH_REPORTS) break;
    ran++;
    process.stderr.write(`running ${program.name}.jot (--gc-stress --verify-heap)\n`);
    const options = { tierUpCalls: 2, tierUpLoops: 2, tierUpOptimizedCalls: 2, stress: true, verify: true };
    let got: TieredOutcome;
    try {
      got = tiered.runTiered(program.source, options);
    } catch (error) {
      if (reportedCompileError(program, error, errors.CompileError)) continue;
      throw error;
    }
    collections += got.heap.collections;
    osr += got.stats.osrEntries;
    reportOutcome(program.name, { output: got.output, error: got.error === undefined ? undefined : { kind: 'runtime', message: got.error.message } });
    const report = compareWithExpectations(program, got);
    if (report !== null) reports.push(report);
  }
  assert.ok(reports.length === 0, `${wentWrong(reports.length, ran, heapPrograms.length, 'programs')}:\n\n${reports.slice(0, 3).join('\n\n')}`);
  assert.ok(seen('at least 2000 collections', collections >= 2000), `only ${collections} collections under --gc-stress`);
  assert.ok(seen('at least 5 on-stack replacements', osr >= 5), `on-stack replacement was taken ${osr} times in the heap programs`);
}, { timeoutMs: 40000, emulatedTimeoutMs: 960000, hints: [
  'A collection walks every segment: the running one, and each suspended interpreter run (by its stack maps) and machine segment (from where it stopped to its entry record).',
  'On-stack replacement copies the interpreter\'s slots into the compiled frame: from then on the frame\'s references are found by the compiled code\'s stack maps, and the interpreter\'s own frame is gone from its roots.',
] });

check('random programs with exceptions, arrays and records, tiered after 2 calls or back edges on a small heap collecting at every allocation, end as the interpreter ends them', (t) => {
  const reports: string[] = [];
  let promotions = 0;
  let ran = 0;
  for (let i = 0; i < 40 && reports.length < ENOUGH_REPORTS; i++) {
    ran++;
    const source = randomProgram(t.random, 11);
    const options = { semispaceBytes: 64 * 1024, stress: true, verify: true };
    const got = tiered.runTiered(source, { ...options, tierUpCalls: 2, tierUpLoops: 2, tierUpOptimizedCalls: 2 });
    promotions += got.promotions.length;
    const report = compareWithReference(`random program ${i + 1}`, source, got, options);
    if (report !== null) reports.push(`${report}\n\n${source}`);
  }
  assert.ok(reports.length === 0, `${wentWrong(reports.length, ran, 40, 'random programs')}; the first:\n\n${reports[0]}`);
  assert.ok(seen('at least 40 promotions', promotions >= 40), `only ${promotions} promotions in 40 random programs`);
}, { timeoutMs: 40000, emulatedTimeoutMs: 960000, hints: [
  'Random programs keep arrays and records in locals across calls, allocations and caught exceptions, in functions that change tier while they run.',
] });
