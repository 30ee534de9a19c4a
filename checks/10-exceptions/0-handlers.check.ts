/**
 * Chapter 10, the bytecode side: where an exception goes. For every pc of functions with
 * nested tries and a rethrow in a catch block, the handler lookup must find the innermost try
 * whose range holds the pc, and no handler at a pc outside every range (a range's end is
 * outside it); then the example runs, in the interpreter and as machine code.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import { handlersOf, type HandlerEntry } from '../../solutions/10-exceptions/handlers.ts';
import { NESTED } from './programs.ts';
import { checkExpectations, compiler, level } from './support.ts';

const handlers = await learnerCode(import('#ch10/handlers.ts'));

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
      for (let pc = 0; pc <= fn.code.length; pc++) {
        const expected = innermost(table, pc);
        const got = handlers.findHandler(fn, pc);
        tried++;
        if (got !== expected && !(got && expected && got.start === expected.start && got.end === expected.end && got.target === expected.target)) {
          const show = (h: HandlerEntry | undefined) => (h === undefined ? 'no handler' : `the try [${h.start}, ${h.end}) with its catch at ${h.target}`);
          reports.push(`${fn.name}, pc ${pc}: expected ${show(expected)}, found ${show(got)}`);
        }
      }
    }
  }
  assert.ok(tried > 100, `only ${tried} pcs tried (a check bug)`);
  assert.ok(reports.length === 0, `${reports.length} pcs went to the wrong handler; the first:\n  ${reports.slice(0, 8).join('\n  ')}\n(the table lists the innermost try first; a range [start, end) holds start but not end)`);
  // And the same lookups at work: the example run by the interpreter and as machine code.
  for (const tier of ['interpreter', 'baseline'] as const) checkExpectations(tier, [{ name: 'safe', source: SAFE, output: ['3'], ends: 5n }]);
}, { hints: [
  'The table is innermost first: the first entry whose range holds the pc is the answer.',
  'A range is [start, end): end is the first pc after the try body, outside it.',
] });
