/**
 * Chapter 10, last part: the shape of zero-cost exceptions, read from the machine code of
 * both compiled tiers on this worker's architecture (and the code run, to be sure it is the
 * code that works).
 *
 * - A program without try or throw compiles, function by function, to exactly the code of
 *   chapter 07 (or 09) except for two differences: the stack-limit check after each prologue
 *   (a load of the context's stack limit and a conditional branch), and the test after each
 *   call, which is gone. Nothing else is added at a call site, in a prologue or in an
 *   epilogue: no instruction there touches the exception state.
 * - A loop with a try in its body runs the same instructions as the same loop without it,
 *   but for the one jump over the catch block (which is placed inline, like an else branch).
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import { compareOutcome, programsUpTo } from '#harness/programs.ts';
import { bodyOf, branchTarget, diffCode, functionCode, isDirectCall, isJump, runsOf, showDiff, startsFrame, type Instruction, type Step } from './machine-code.ts';
import { JIT_TIERS, STACK_LIMIT_OFFSET, TIER_NAMES, level, writtenRun, type Tier } from './support.ts';

const compiler = await learnerCode(import('#ch06/compiler.ts'));
const baseline = await learnerCode(import('#ch07/jit.ts'));
const core = await learnerCode(import('#ch07/compiler.ts'));
const optimizing = await learnerCode(import('#ch09/jit.ts'));

/** Compiles `source` in `tier`, at chapter 10's level or at the chapter before's, and runs it when asked. */
function compiled(tier: Tier, source: string, exceptions: boolean, baselineOnly: readonly string[] = []) {
  const program = exceptions ? compiler.compileSource(source, level.EXCEPTIONS_LANGUAGE) : compiler.compileSource(source);
  const jitLevel = exceptions ? level.EXCEPTIONS_JIT : core.CORE_JIT;
  if (tier === 'baseline') return { program, jit: baseline.compileProgram(program, undefined, jitLevel), declined: [] as string[] };
  const optimized = optimizing.compileOptimized(program, undefined, { level: jitLevel, tierOf: (name) => (baselineOnly.includes(name) ? 'baseline' : 'opt') });
  return { program, jit: optimized.jit, declined: optimized.declined.map((d) => d.name) };
}

function isConditional(inst: Instruction): boolean {
  return branchTarget(inst) !== undefined && !isJump(inst) && !isDirectCall(inst);
}

/**
 * Holds one function's body at chapter 10 (`b`) against its body at chapter 07/09 (`a`);
 * returns the problems found.
 */
function problemsOf(name: string, a: readonly Instruction[], b: readonly Instruction[], stackLimitOffset: number): string[] {
  const steps = diffCode(a, b);
  const problems: string[] = [];
  const added = runsOf(steps, 'onlyB');
  const removed = runsOf(steps, 'onlyA');
  const limit = `0x${stackLimitOffset.toString(16)}`;
  // Added: the stack-limit check, in the straight-line code at the start, and nothing else.
  // Right after the prologue: after the instruction that starts the frame, before the first
  // call and before any bytecode instruction's template.
  const frameAt = steps.findIndex((s) => s.kind !== 'onlyA' && startsFrame(s.b));
  const inPrologue = (index: number) => frameAt >= 0 && frameAt < index && steps.slice(frameAt, index).every((s) => s.kind !== 'onlyA' && !isDirectCall(s.b) && !(s.b.comment !== undefined && /^[0-9a-f]{4} /.test(s.b.comment)));
  const limitChecks = added.filter((run) => inPrologue(run.from) && run.steps.length <= 4 &&
    run.steps.some((s) => s.kind === 'onlyB' && s.b.text.includes(limit)) && run.steps.some((s) => s.kind === 'onlyB' && isConditional(s.b)));
  const frames = frameAt >= 0 ? 1 : 0;
  if (limitChecks.length !== frames) problems.push(`${name}: expected ${frames === 1 ? 'one stack-limit check after the prologue (a load of the context\'s stack limit at ' + limit + ' and a conditional branch, at most 4 instructions)' : 'no stack-limit check in a function without a frame'}, found ${limitChecks.length}`);
  for (const run of added) {
    if (limitChecks.includes(run)) continue;
    const first = run.steps[0] as Extract<Step, { kind: 'onlyB' }>;
    problems.push(`${name}: instructions added at ${first.b.offset.toString(16).padStart(4, '0')} that the code without exceptions does not have (only the stack-limit check may be added)`);
  }
  // Removed: the test after each call, and nothing else.
  const calls = steps.filter((s) => s.kind === 'same' && isDirectCall(s.a)).length;
  for (const run of removed) {
    const lastCall = steps.slice(Math.max(0, run.from - 2), run.from).some((s) => s.kind === 'same' && isDirectCall(s.a));
    const tests = run.steps.some((s) => s.kind === 'onlyA' && isConditional(s.a));
    if (!lastCall || !tests) problems.push(`${name}: instructions of the code without exceptions left out that are not the test after a call:\n${run.steps.map((s) => (s.kind === 'onlyA' ? `      ${s.a.text}` : '')).join('\n')}`);
  }
  if (removed.length < calls) problems.push(`${name}: ${calls} calls, but only ${removed.length} lost the test after them: a call must not test anything when it returns`);
  if (problems.length > 0) problems.push(`the body of ${name}, without exceptions (-) and with them (+):\n${showDiff(steps)}`);
  return problems;
}

const SHAPE_PROGRAMS = programsUpTo(9).filter((p) => p.expectedError === undefined && ['fib', 'gcd', 'ackermann', 'primes', 'mutual_recursion', 'six_params', 'fizzbuzz'].includes(p.name));

for (const tier of JIT_TIERS) {
  check(`${TIER_NAMES[tier]}: zero cost without a try: the code is chapter ${tier === 'baseline' ? '07' : '09'}'s, minus the test after each call, plus the stack-limit check`, () => {
    assert.ok(SHAPE_PROGRAMS.length >= 5, `only ${SHAPE_PROGRAMS.length} programs to compare (a check bug)`);
    const problems: string[] = [];
    for (const program of SHAPE_PROGRAMS) {
      const before = compiled(tier, program.source, false);
      const after = compiled(tier, program.source, true);
      try {
        const output: string[] = [];
        const run = after.jit.run({ print: (text) => output.push(text) });
        const wrong = run.error !== undefined ? run.error.message : compareOutcome(program, { output });
        if (wrong !== null) {
          problems.push(`${program.name}.jot compiled at chapter 10's level does not run as it should: ${wrong}`);
          continue;
        }
        for (const fn of after.program.functions) {
          const a = bodyOf(functionCode(before.jit.listing(), fn.name));
          const b = bodyOf(functionCode(after.jit.listing(), fn.name));
          const found = problemsOf(`${program.name}.jot, ${fn.name}`, a, b, STACK_LIMIT_OFFSET);
          // The code may differ between correct solutions: whether it keeps the rule is reported.
          reportOutcome(`${program.name}.jot, ${fn.name}: the code with exceptions against the code without`, { output: [found.length === 0 ? 'the same but for the tests after calls and the stack-limit check' : 'other differences'] });
          problems.push(...found);
        }
      } finally {
        before.jit.dispose();
        after.jit.dispose();
      }
    }
    assert.ok(problems.length === 0, problems.slice(0, 4).join('\n\n'));
  }, { timeoutMs: 60000, hints: [
    'Zero cost means the path that does not throw runs the code it ran before exceptions existed: the unwinder finds everything it needs in tables, not in instructions.',
    'A call records its return offset in the unwind table while it is compiled; it tests nothing when it returns.',
  ] });
}

const WITHOUT_TRY = `fn work(i) {
  if i == -1 {
    throw 1;
  }
  return i * 2;
}

fn main() {
  let i = 0;
  let sum = 0;
  while i < 1000 {
    {
      let e = i;
      sum = sum + work(e);
    }
    i = i + 1;
  }
  print(sum);
  return 0;
}
`;

const WITH_TRY = `fn work(i) {
  if i == -1 {
    throw 1;
  }
  return i * 2;
}

fn main() {
  let i = 0;
  let sum = 0;
  while i < 1000 {
    try {
      let e = i;
      sum = sum + work(e);
    } catch e {
      sum = e * 7777;
    }
    i = i + 1;
  }
  print(sum);
  return 0;
}
`;

for (const tier of JIT_TIERS) {
  check(`${TIER_NAMES[tier]}: zero cost with a try: a loop runs the same code with a try in its body as without, but for one jump over the catch block`, () => {
    // The optimizing tier may leave a function with a try to the template compiler: then the
    // loop without a try is compiled by the template compiler too, and the two compared.
    const b = compiled(tier, WITH_TRY, true);
    const a = compiled(tier, WITHOUT_TRY, true, b.declined);
    try {
      const frame = (p: typeof a.program) => { const main = p.functions[p.main]!; return `${main.locals} locals, ${main.maxStack} stack slots`; };
      assert.is(frame(b.program), frame(a.program), 'the two mains should have the same frame (a check bug)');
      for (const jit of [a.jit, b.jit]) {
        const output: string[] = [];
        const run = jit.run({ print: (text) => output.push(text) });
        reportOutcome('the loop, with and without a try', { output: [...output, run.error?.message ?? '(ran to the end)'] });
        assert.is(run.error?.message, undefined, 'the loop should run to the end');
        const written = writtenRun('the loop, with and without a try');
        if (written !== undefined) assert.equal(output, written.output, `the loop should print ${written.output.join(', ')}`);
      }
      const steps = diffCode(bodyOf(functionCode(a.jit.listing(), 'main')), bodyOf(functionCode(b.jit.listing(), 'main')));
      const added = runsOf(steps, 'onlyB');
      const removed = runsOf(steps, 'onlyA');
      const problems: string[] = [];
      if (removed.length > 0) problems.push('instructions of the loop without a try are missing from the loop with one');
      if (added.length !== 1) problems.push(`${added.length} places where the try added instructions; expected one: a jump over the catch block, then the catch block`);
      for (const run of added) {
        const first = run.steps[0] as Extract<Step, { kind: 'onlyB' }>;
        const next = steps[run.from + run.steps.length];
        const after = next === undefined ? undefined : next.kind === 'onlyA' ? undefined : next.b.offset;
        if (!isJump(first.b) || branchTarget(first.b) !== after) {
          problems.push(`the instructions the try added at ${first.b.offset.toString(16).padStart(4, '0')} are on the path that does not throw: they do not start with a jump over them`);
        }
      }
      // The code itself may differ between correct solutions: which of the rules it breaks is reported.
      reportOutcome('what a try adds to the loop', { output: problems.length === 0 ? ['one jump over the catch block, nothing else changed'] : problems });
      assert.ok(problems.length === 0, `${problems.join('\n')}\nmain without the try (-) and with it (+):\n${showDiff(steps)}`);
    } finally {
      a.jit.dispose();
      b.jit.dispose();
    }
  }, { timeoutMs: 30000, hints: [
    'Entering and leaving a try runs no instruction: the try is a range of the handler table, and its handler a row of the unwind table for each call inside it.',
    'The catch block\'s entry (the landing pad that stores the payload) goes after the function\'s body, out of the way.',
  ] });
}
