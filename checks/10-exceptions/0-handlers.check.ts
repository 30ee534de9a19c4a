/**
 * Chapter 10, the bytecode side: where an exception goes. For every pc of functions with
 * nested tries and a rethrow in a catch block, the handler lookup must find the innermost try
 * whose range holds the pc, and no handler at a pc outside every range (a range's end is
 * outside it); then the example runs, in the interpreter and as machine code.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import { handlersOf, type HandlerEntry } from '../../solutions/10-exceptions/handlers.ts';
import { NESTED } from './programs.ts';
import { checkExpectations, compiler, errors, level } from './support.ts';
import type { RaiseState } from '#ch06/interpreter.ts';

const handlers = await learnerCode(import('#ch10/handlers.ts'));
const jitLevel = await learnerCode(import('#ch10/jit-level.ts'));
const interpreterUnwind = await learnerCode(import('#ch10/unwind.ts'));

/** The book's example, with one more call in the inner try: two nested tries, a rethrow from the inner catch block. */
export const SAFE = `fn risky(x) {
  if x > 3 {
    throw x;
  }
  return x;
}

fn safe(x) {
  try {
    try {
      print(risky(x));
      risky(x + 1);
    } catch inner {
      throw inner + 1;
    }
  } catch outer {
    return outer;
  }
  return 0;
}

fn main() {
  return safe(3);
}
`;

/** A handler entry in words, for reports. */
function show(h: HandlerEntry | undefined): string {
  return h === undefined ? 'no handler' : `the try [${h.start}, ${h.end}) with its catch at ${h.target}`;
}

/** The innermost entry holding pc, found without relying on the table's order: the narrowest range. */
function innermost(table: readonly HandlerEntry[], pc: number): HandlerEntry | undefined {
  const holding = table.filter((h) => h.start <= pc && pc < h.end);
  return holding.sort((a, b) => a.end - a.start - (b.end - b.start))[0];
}

check('handler lookup: every pc finds the innermost try holding it, and none outside every try', () => {
  let tried = 0;
  const reports: string[] = [];
  for (const source of [SAFE, NESTED.source]) {
    const program = compiler.compileSource(source, level.EXCEPTIONS_LANGUAGE);
    for (const fn of program.functions) {
      const table = handlersOf(fn);
      const found: string[] = [];
      for (let pc = 0; pc <= fn.code.length; pc++) {
        const expected = innermost(table, pc);
        // findHandler for the interpreter, handlerAt for the compiled tiers: the same rule.
        for (const [what, got] of [['findHandler', handlers.findHandler(fn, pc)], ['handlerAt', jitLevel.handlerAt(table, pc)]] as const) {
          tried++;
          found.push(`${what} at ${pc}: ${show(got)}`);
          if (got !== expected && !(got && expected && got.start === expected.start && got.end === expected.end && got.target === expected.target)) {
            reports.push(`${what}: ${fn.name}, pc ${pc}: expected ${show(expected)}, found ${show(got)}`);
          }
        }
      }
      // The handler each lookup found at every pc, for the runner to hold to the reference's.
      reportOutcome(`the handlers found in ${fn.name}`, { output: found });
    }
  }
  assert.ok(tried > 100, `only ${tried} pcs tried (a check bug)`);
  assert.ok(reports.length === 0, `${reports.length} pcs went to the wrong handler; the first:\n  ${reports.slice(0, 8).join('\n  ')}\n(the table lists the innermost try first; a range [start, end) holds start but not end)`);
  // And the same lookups at work: the example run by the interpreter and as machine code.
  for (const tier of ['interpreter', 'baseline'] as const) checkExpectations(tier, [{ name: 'safe', source: SAFE }]);
}, { hints: [
  'The table is innermost first: the first entry whose range holds the pc is the answer.',
  'A range is [start, end): end is the first pc after the try body, outside it. handlerAt (jit-level.ts) follows the same rule as findHandler.',
] });

/** A made-up interpreter state in `safe` of SAFE (called from main), for the interpreter's unwind on its own. */
function raiseState(inRisky: boolean) {
  const program = compiler.compileSource(SAFE, level.EXCEPTIONS_LANGUAGE);
  const safe = program.functions.find((f) => f.name === 'safe')!;
  const risky = program.functions.find((f) => f.name === 'risky')!;
  const inner = handlersOf(safe)[0]!;
  const bp = 7;
  const stack = new BigInt64Array(128).fill(0x55n);
  let pops = 0;
  const state: RaiseState = {
    stack,
    // Three operands of the abandoned expression above the handler's depth (in risky: two, then risky's frame).
    sp: inRisky ? bp + safe.locals + inner.depth + 2 + risky.locals + 1 : bp + safe.locals + inner.depth + 3,
    bp: inRisky ? bp + safe.locals + inner.depth + 2 : bp,
    fn: inRisky ? risky : safe,
    pc: inRisky ? 0 : inner.start,
    depth: inRisky ? 3 : 2,
    popFrame() {
      pops++;
      if (state.fn !== risky) throw new Error('popFrame was called with safe running, whose try holds the pc: the handler is in this frame');
      state.fn = safe;
      state.pc = inner.start;
      state.bp = bp;
      state.depth = 2;
    },
  };
  return { state, safe, inner, bp, pops: () => pops };
}

check('the interpreter\'s unwind on its own: at the handler the operand stack is cut to the handler\'s depth over the locals, the payload on top', () => {
  for (const inRisky of [false, true]) {
    const { state, safe, inner, bp, pops } = raiseState(inRisky);
    const where = inRisky ? 'a throw in risky, called from inside safe\'s inner try' : 'a throw inside safe\'s inner try';
    const before = state.sp;
    interpreterUnwind.unwind(new errors.ThrownException(42n, 3), state);
    const want = bp + safe.locals + inner.depth + 1;
    reportOutcome(where, {
      output: [`in safe: ${state.fn === safe}`, `frames popped: ${pops()}`, `at the catch block: ${state.pc === inner.target}`, `sp as the rule says: ${state.sp === want}`, `on top: ${state.stack[state.sp - 1]}`],
    });
    assert.is(state.fn, safe, `${where}: the handler is in safe, but the running function is ${state.fn.name}`);
    assert.is(pops(), inRisky ? 1 : 0, `${where}: popFrame should be called ${inRisky ? 'once (risky has no handler)' : 'never'}, it was called ${pops()} times`);
    assert.is(state.pc, inner.target, `${where}: the loop should go on at the catch block, pc ${inner.target}; pc is ${state.pc}`);
    assert.is(state.sp, want, `${where}: sp should be ${want} (bp ${bp} + ${safe.locals} locals + the handler's depth ${inner.depth} + the payload), found ${state.sp} (it was ${before} at the throw)`);
    assert.is(state.stack[state.sp - 1], 42n, `${where}: the payload 42 should be on top of the operand stack (slot ${state.sp - 1}), found ${state.stack[state.sp - 1]}`);
  }
}, { hints: [
  'The handler\'s depth counts operand slots from the first one after the locals: sp = bp + locals + depth, then push the payload.',
  'Values of the abandoned expression above that depth are dropped: after a catch in a loop, nothing of the try body may stay on the operand stack.',
] });
