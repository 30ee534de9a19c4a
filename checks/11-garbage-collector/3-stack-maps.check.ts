/**
 * Chapter 11, third part: the compiler's stack maps at GC points. Every allocation has a map
 * like a call's, listing the live locals and the operand stack by type, so that the
 * collector finds exactly the references of a frame: a dead reference local is not a root,
 * and a record under construction on the operand stack is.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode } from '#harness/check.ts';
import { chapterModule, seen } from './support.ts';

type LanguageModule = typeof import('../../solutions/11-garbage-collector/language.ts');

const language = await learnerCode(chapterModule<LanguageModule>('language.ts'));
const compiler = await learnerCode(import('#ch06/compiler.ts'));

const SOURCE = `struct Pair { a: [int], b: [int] }

fn main() {
  let keep = new [int](1);
  let dead = new [int](2);
  let n = len(dead);
  let p = new Pair { a: keep, b: new [int](n) };
  return len(p.a) + len(keep);
}
`;

/** The offsets of the instructions named `name` in `fn`'s code. */
function offsetsOf(fn: { code: Uint8Array }, name: string): number[] {
  const opcodes = language.HEAP_LANGUAGE.opcodes;
  const found: number[] = [];
  for (let pc = 0; pc < fn.code.length; pc += opcodes.size(fn.code[pc]!)) {
    if (opcodes.byCode[fn.code[pc]!]?.name === name) found.push(pc);
  }
  return found;
}

check('every allocation has a stack map: the live reference locals and the operand stack, by type', () => {
  const program = compiler.compileSource(SOURCE, language.HEAP_LANGUAGE);
  const main = program.functions[program.main]!;
  const arrays = offsetsOf(main, 'new_array');
  const records = offsetsOf(main, 'new_record');
  assert.is(seen('arrays made by main', arrays.length), 3, 'main makes three arrays');
  assert.is(seen('records made by main', records.length), 1, 'main makes one record');
  const unmapped = [...arrays, ...records].filter((pc) => !main.stackMaps.has(pc));
  assert.ok(seen('every allocation has a stack map', unmapped.length === 0), `the allocation at offset ${unmapped[0]} has no stack map`);
  const inner = main.stackMaps.get(arrays[2]!)!;
  assert.equal(seen('the locals of the map at new [int](n)', inner.locals.map((l) => [l.slot, l.type])), [[0, '[int]']],
    'at `new [int](n)` only `keep` (slot 0) is live: `dead` and `n` are not read again, `p` is not declared yet');
  assert.equal(seen('the stack of the map at new [int](n)', inner.stack), ['Pair', 'int'], 'at `new [int](n)` the record under construction and the length are on the operand stack');
  const record = main.stackMaps.get(records[0]!)!;
  assert.equal(seen('the locals of the map at new Pair', record.locals.map((l) => [l.slot, l.type])), [[0, '[int]'], [2, 'int']], 'at `new Pair { … }` keep and n are live');
  assert.equal(seen('the stack of the map at new Pair', record.stack), [], 'nothing is on the operand stack under `new Pair`');
}, { hints: [
  'An allocation can collect, so it is a GC point like a call: the compiler records a stack map at it listing, by type, the locals live after it and every value on the operand stack as the instruction finds it.',
  'In `new Pair { a: keep, b: new [int](n) }` the record is already on the operand stack when the inner array is made: the collector moves it only if the map lists it. A call takes its arguments off the map; an allocation\'s operands stay in it, the length included.',
  'The locals are the ones read again on some path after the allocation, by the same liveness as at calls: `dead` and `n` are not read after `new [int](n)`, and `p` is not in scope yet.',
] });
