import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome } from '#harness/check.ts';
import { diffLines } from '#harness/programs.ts';

const compiler = await learnerCode(import('#ch06/compiler.ts'));
const listing = await learnerCode(import('#ch06/listing.ts'));
const bytecode = await learnerCode(import('#ch06/bytecode.ts'));

const SOURCE = `fn positive(n): bool {
  if n < 0 {
    return false;
  }
  return n != 0 && n > -5;
}

fn main() {
  let i = 0;
  while i < 3 {
    print(positive(i - 1));
    i = i + 1;
  }
}
`;

const EXPECTED = [
  '== positive (params 1, locals 1, max stack 2) ==',
  '0000     2  load 0',
  '0002     |  const 0             ; 0',
  '0005     |  lt',
  '0006     |  jump_if_false 0013',
  '0009     3  const 0             ; 0',
  '0012     |  ret',
  '0013     5  load 0',
  '0015     |  const 0             ; 0',
  '0018     |  ne',
  '0019     |  jump_if_false 0031',
  '0022     |  load 0',
  '0024     |  const 1             ; -5',
  '0027     |  gt',
  '0028     |  jump 0034',
  '0031     |  const 0             ; 0',
  '0034     |  ret',
  '',
  '== main (params 0, locals 1, max stack 2) ==',
  '0000     9  const 0             ; 0',
  '0003     |  store 0',
  '0005    10  load 0',
  '0007     |  const 1             ; 3',
  '0010     |  lt',
  '0011     |  jump_if_false 0036',
  '0014    11  load 0',
  '0016     |  const 2             ; 1',
  '0019     |  sub',
  '0020     |  call 0 1            ; positive',
  '0024     |  print_bool',
  '0025    12  load 0',
  '0027     |  const 2             ; 1',
  '0030     |  add',
  '0031     |  store 0',
  '0033    13  jump 0005',
  '0036    14  const 0             ; 0',
  '0039     |  ret'
];

/** Asserts the listing is `expected` line for line; the listing is reported under `what` (it is exact, so every correct solution gives it). */
function sameText(actual: string, expected: readonly string[], what: string): void {
  const lines = actual.split('\n');
  reportOutcome(what, { output: lines });
  if (lines.length === expected.length && lines.every((line, i) => line === expected[i])) return;
  assert.unreachable(`${what} differs:\n${diffLines(expected, lines)}`);
}

check('listing: a hand-made function in the exact format', () => {
  const { Op } = bytecode;
  const code = Uint8Array.from([
    Op.load, 0,
    Op.const, 1, 0,
    Op.mul,
    Op.jump_if_false, 0x0c, 0x00,
    Op.call, 0, 0, 1,
    Op.jump, 0x10, 0x01,
    Op.ret,
  ]);
  const fn = {
    name: 'demo', index: 0, params: ['int', 'int'] as const, returnType: 'int' as const, locals: 3, maxStack: 2,
    code, constants: [5n, -9223372036854775808n], lines: [{ offset: 0, line: 7 }, { offset: 6, line: 8 }, { offset: 16, line: 12 }], line: 6, stackMaps: new Map(),
  };
  sameText(listing.listFunction(fn, [fn]), [
    '== demo (params 2, locals 3, max stack 2) ==',
    '0000     7  load 0',
    '0002     |  const 1             ; -9223372036854775808',
    '0005     |  mul',
    '0006     8  jump_if_false 0012',
    '0009     |  call 0 1            ; demo',
    '0013     |  jump 0272',
    '0016    12  ret',
  ], 'the listing');
}, { hints: [
  'Offsets are 4 decimal digits; the line column is 4 wide, or `   |` when the line repeats.',
  'const and call rows: pad the instruction text to 20 characters, then `; ` and the value or the callee name.',
  'u16 operands are little-endian: 0x10, 0x01 is 272.',
] });

check('listing: the compiled program matches, instruction for instruction', () => {
  sameText(listing.listProgram(compiler.compileSource(SOURCE)), EXPECTED, `the listing of\n${SOURCE}`);
}, { hints: [
  'Compare the first differing row: it is either your compiler (a different instruction) or your listing (a different format).',
  '`&&` compiles to: left; jump_if_false F; right; jump E; F: const false; E:',
  'A while loop: cond; jump_if_false End; body; jump Top (at the line of the closing brace). A function whose last statement is not a return ends with const 0; ret at its closing brace.',
] });
