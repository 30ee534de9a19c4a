/**
 * Chapter 10, first part: exceptions thrown and caught, in every tier on this worker's
 * architecture (the interpreter, the baseline tier and the optimizing tier, as machine code).
 * Each program is held to what is written out for it here and to the reference interpreter:
 * throw and catch across 1, 2 and 1000 frames, nested tries and rethrows, a try inside a hot
 * loop, throws from inside conditions and argument lists, every runtime error caught with its
 * payload, and values held in callee-saved registers across the throwing call intact after
 * the catch.
 */
import * as assert from 'uvu/assert';
import { check } from '#harness/check.ts';
import { ACROSS_FRAMES, CALLEE_SAVED, caughtRuntimeErrors, LOOP, MID_EXPRESSION, NESTED } from './programs.ts';
import { checkExpectations, compareRuns, expectedRun, JIT_TIERS, errors, runIn, TIER_NAMES, TIERS } from './support.ts';

const UNWIND_HINTS = [
  'A throw finds the innermost handler whose try range holds the pc of the throw in the throwing frame, or, in each caller, the pc of its call. In compiled code each call\'s row of the unwind table is keyed by its return offset: the return address its callee saved at [fp + 8], minus the code\'s base.',
  'Walk the frame-pointer chain: each frame\'s saved frame pointer is at [fp] and its return address at [fp + 8]; a frame without a handler is removed whole, and the segment ends where the saved fp is the entry record.',
  'At the handler: the frame pointer of the catching frame, the stack pointer at that frame\'s fixed depth (fp - frame size, no slot more or less), the payload where the landing pad reads it, and one call given back to the depth counter for every frame removed.',
];

for (const tier of TIERS) {
  const name = TIER_NAMES[tier];
  check(`${name}: throw and catch across 1, 2 and 1000 frames, 20 times in a loop, then exactly 10000 calls deep`, () => {
    checkExpectations(tier, [ACROSS_FRAMES]);
  }, { timeoutMs: 60000, hints: UNWIND_HINTS });

  check(`${name}: nested tries, a rethrow from a catch block, a throw inside a catch caught further out`, () => {
    checkExpectations(tier, [NESTED]);
  }, { timeoutMs: 30000, hints: [
    'Handlers are listed innermost first: the first whose range holds the pc wins.',
    'A catch block is not inside its own try\'s range: a throw from it goes to the next handler out, or to the caller.',
  ] });

  check(`${name}: a try inside a loop of 10000 iterations; variables assigned before the throw keep their values`, () => {
    checkExpectations(tier, [LOOP]);
  }, { timeoutMs: 60000, hints: [
    'The catch block runs in the same frame as the try: its locals are where the try left them.',
    'After a catch the loop goes on: the operand stack (or the stack pointer) must be exactly as deep as the handler table says.',
  ] });

  check(`${name}: throws from inside a condition and an argument list, with operands already pushed`, () => {
    checkExpectations(tier, [MID_EXPRESSION]);
  }, { timeoutMs: 30000, hints: [
    'At a handler the operand stack has the depth the handler records, whatever was pushed when the throw happened: values of the abandoned expression are dropped.',
  ] });

  check(`${name}: each runtime error caught with its payload (division, remainder, stack overflow twice), the depth limit unmoved`, () => {
    const source = caughtRuntimeErrors();
    const table = errors.RUNTIME_ERROR_PAYLOADS;
    const written = [table.divisionByZero.payload, table.divisionByZero.payload, table.divisionByZero.payload, table.stackOverflow.payload, table.stackOverflow.payload, 3n, 9998n, table.stackOverflow.payload].map(String);
    const reference = expectedRun(source);
    if (reference !== undefined) assert.equal(reference.output, written, 'the reference interpreter disagrees with the payload table (a check bug)');
    const report = compareRuns('caught_runtime_errors', tier, reference, runIn(tier, source));
    assert.ok(report === null, report ?? '');
  }, { timeoutMs: 60000, hints: [
    'A runtime error is a throw with the payload the table gives it: the same handler search, from the pc of the failing instruction.',
    'Catching a stack overflow unwinds nearly 10000 frames: the call depth must be counted back for each, or the second overflow comes early (or never).',
  ] });
}

for (const tier of JIT_TIERS) {
  check(`${TIER_NAMES[tier]}: values in callee-saved registers across the throwing call are intact after the catch`, () => {
    checkExpectations(tier, [CALLEE_SAVED]);
    if (tier === 'opt') {
      // Mixed tiers: the frame skipped or the catching frame in the other tier.
      for (const baseline of ['catcher', 'spin', 'twist', 'main']) {
        const got = runIn('opt', CALLEE_SAVED.source, { tierOf: (fn) => (fn === baseline ? 'baseline' : 'opt') });
        const report = compareRuns(CALLEE_SAVED.name, 'opt', expectedRun(CALLEE_SAVED.source), got);
        assert.ok(report === null, `${report}\n(with ${baseline} in the baseline tier, the other functions optimized)`);
      }
      // Only main optimized: no frame between the throw and the catch saved main's
      // callee-saved registers, so the values main keeps in them reach the catch as the
      // throw stub found them, and must come back from it untouched.
      const got = runIn('opt', CALLEE_SAVED.source, { tierOf: (fn) => (fn === 'main' ? 'opt' : 'baseline') });
      const report = compareRuns(CALLEE_SAVED.name, 'opt', expectedRun(CALLEE_SAVED.source), got);
      assert.ok(report === null, `${report}\n(with only main optimized: no skipped frame saved the registers main keeps its values in, so the throw stub must hand them back as it found them)`);
      for (const registers of [3, 4]) {
        const report = compareRuns(CALLEE_SAVED.name, 'opt', expectedRun(CALLEE_SAVED.source), runIn('opt', CALLEE_SAVED.source, { registers }));
        assert.ok(report === null, `${report}\n(with only ${registers} registers)`);
      }
    }
  }, { timeoutMs: 60000, hints: [
    'A frame that the unwinder skips never runs its epilogue: the callee-saved registers it saved in its prologue still hold its own values.',
    'For each skipped frame, read the registers it saved from its frame (the unwind table says where) and put them back, innermost frame first, so the outermost save wins.',
    'The stub that resumes at the handler loads the restored registers as its last act before the jump.',
    'The throw stub stores every callee-saved register before it uses any register but its one scratch register (jitRegisters(masm).t1): a register it overwrites first is lost to the frames that kept values in it.',
  ] });
}
