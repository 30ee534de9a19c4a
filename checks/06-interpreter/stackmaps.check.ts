/**
 * Stack maps and the limits of the bytecode format.
 *
 * The maps are checked against a liveness this file computes on its own from the bytecode
 * (a backward dataflow over the instructions), so a compiler that records every slot it ever
 * used, or forgets one a later instruction reads, fails here whatever its own analysis says.
 * What each check finds is reported (check.ts reportOutcome: the maps' text, how many calls of
 * each function agree with the liveness computed apart, the errors at the limits), for graded
 * work to be held to the reference's run outside the process that ran the code.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, thrownBy } from '#harness/check.ts';
import { mayCompile, programsUpTo, reportedCompileError } from '#harness/programs.ts';
import type { StackMap } from '#ch06/bytecode.ts';

const compiler = await learnerCode(import('#ch06/compiler.ts'));
const bytecode = await learnerCode(import('#ch06/bytecode.ts'));
const errors = await learnerCode(import('#ch05/errors.ts'));

type Compiled = ReturnType<typeof compiler.compileSource>;
type Fn = Compiled['functions'][number];

interface Instruction {
  readonly pc: number;
  readonly name: string;
  readonly operands: readonly number[];
  readonly pops: number;
  readonly pushes: number;
}

/** The instructions of `fn`, decoded with the opcode table. */
function instructions(fn: Fn): Instruction[] {
  const list: Instruction[] = [];
  let pc = 0;
  while (pc < fn.code.length) {
    const info = bytecode.OPCODES[fn.code[pc]!];
    assert.ok(info, `${fn.name}: no opcode 0x${fn.code[pc]!.toString(16)} at offset ${pc}`);
    const operands: number[] = [];
    let at = pc + 1;
    for (const kind of info!.operands) {
      operands.push(kind === 'u8' ? fn.code[at]! : fn.code[at]! | (fn.code[at + 1]! << 8));
      at += kind === 'u8' ? 1 : 2;
    }
    list.push({ pc, name: info!.name, operands, pops: info!.name === 'call' ? operands[1]! : info!.pops, pushes: info!.pushes });
    pc = at;
  }
  return list;
}

/** Slots live after each instruction: read on some path onward before being written. */
function liveAfter(list: readonly Instruction[]): Map<number, ReadonlySet<number>> {
  const at = new Map(list.map((ins, i) => [ins.pc, i]));
  const successors = (i: number): number[] => {
    const ins = list[i]!;
    if (ins.name === 'ret') return [];
    if (ins.name === 'jump') return [at.get(ins.operands[0]!)!];
    const next = i + 1 < list.length ? [i + 1] : [];
    return ins.name === 'jump_if_false' ? [...next, at.get(ins.operands[0]!)!] : next;
  };
  const predecessors: number[][] = list.map(() => []);
  list.forEach((_, i) => successors(i).forEach((s) => predecessors[s]!.push(i)));
  const before: Set<number>[] = list.map(() => new Set());
  const after: Set<number>[] = list.map(() => new Set());
  const work = list.map((_, i) => i);
  const queued = new Set(work);
  while (work.length > 0) {
    const i = work.pop()!;
    queued.delete(i);
    const out = new Set<number>();
    for (const s of successors(i)) for (const slot of before[s]!) out.add(slot);
    after[i] = out;
    const ins = list[i]!;
    const into = new Set(out);
    if (ins.name === 'store') into.delete(ins.operands[0]!);
    if (ins.name === 'load') into.add(ins.operands[0]!);
    if ([...into].some((slot) => !before[i]!.has(slot))) {
      before[i] = into;
      for (const p of predecessors[i]!) {
        if (!queued.has(p)) {
          queued.add(p);
          work.push(p);
        }
      }
    }
  }
  return new Map(list.map((ins, i) => [ins.pc, after[i]!]));
}

/** The operand stack depth before each instruction, by walking the code forward. */
function depthBefore(list: readonly Instruction[]): Map<number, number> {
  const depth = new Map<number, number>();
  const index = new Map(list.map((ins, i) => [ins.pc, i]));
  const work: [number, number][] = [[0, 0]];
  while (work.length > 0) {
    const [i, d] = work.pop()!;
    if (i >= list.length || depth.has(list[i]!.pc)) continue;
    const ins = list[i]!;
    depth.set(ins.pc, d);
    const next = d - ins.pops + ins.pushes;
    if (ins.name === 'ret') continue;
    if (ins.name === 'jump' || ins.name === 'jump_if_false') work.push([index.get(ins.operands[0]!)!, next]);
    if (ins.name !== 'jump') work.push([i + 1, next]);
  }
  return depth;
}

/** Every call of every function has a map of exactly the live slots and the stack under its arguments. */
function checkMaps(program: Compiled, where: string): number {
  let calls = 0;
  for (const fn of program.functions) {
    assert.ok(typeof fn.stackMaps?.get === 'function', `${where}: ${fn.name}.stackMaps must be a Map from call offset to map`);
    const list = instructions(fn);
    const live = liveAfter(list);
    const depth = depthBefore(list);
    const callOffsets = list.filter((ins) => ins.name === 'call').map((ins) => ins.pc);
    // What the maps are, judged apart from the asserts below: how many calls have a map that
    // names its offset, exactly the live slots and the stack under the arguments.
    const keyed = [...fn.stackMaps.keys()].sort((a, b) => a - b).join() === callOffsets.join();
    const agreeing = list.filter((ins) => {
      const map = ins.name === 'call' ? fn.stackMaps.get(ins.pc) : undefined;
      return map !== undefined && map.offset === ins.pc && map.stack.length === depth.get(ins.pc)! - ins.operands[1]! &&
        map.locals.map((l) => l.slot).join() === [...live.get(ins.pc)!].sort((a, b) => a - b).join();
    }).length;
    reportOutcome(`${where}: the stack maps of ${fn.name}`, { output: [`${callOffsets.length} calls`, `one map per call, keyed by its offset: ${keyed ? 'yes' : 'no'}`, `${agreeing} maps as the liveness computed apart says`] });
    assert.equal([...fn.stackMaps.keys()].sort((a, b) => a - b), callOffsets, `${where}: ${fn.name} has one stack map per call, keyed by the call's offset`);
    for (const ins of list.filter((i) => i.name === 'call')) {
      calls++;
      const map = fn.stackMaps.get(ins.pc)!;
      assert.is(map.offset, ins.pc, `${where}: ${fn.name}: the map of the call at ${ins.pc} names its offset`);
      const slots = map.locals.map((l) => l.slot);
      assert.equal(slots, [...live.get(ins.pc)!].sort((a, b) => a - b),
        `${where}: ${fn.name}: the locals of the map at ${ins.pc} are exactly the slots read later before they are written (in slot order)`);
      assert.is(map.stack.length, depth.get(ins.pc)! - ins.operands[1]!, `${where}: ${fn.name}: the map at ${ins.pc} types the operand stack under the arguments`);
    }
  }
  return calls;
}

const show = (map: StackMap | undefined) =>
  map === undefined ? 'no map' : `locals ${map.locals.map((l) => `${l.slot}:${l.type}`).join(' ') || '-'} | stack ${map.stack.join(' ') || '-'}`;

check('stack maps: the type of every live local and stack value at each call, and nothing stale', () => {
  const source = [
    'fn g(x) { return x; }',
    'fn h(b: bool): bool { return b; }',
    'fn main() {',
    '  { let a = 1; let t = true; print(g(a)); print(t); }', //  4: a is dead after its read, t (bool) is live
    '  print(g(7));', //                                          5: slots 0 and 1 are stale
    '  { let c = false; let d = 5; print(1 + g(d) + d); if c { print(1); } }', // 6: c, d live; 1 on the stack
    '  let n = 3;',
    '  while n > 0 { n = n - g(1); }', //                          8: n on the stack, but not live: the store writes it first
    '  print(h(true) == h(n > 1));', //                            9: the first h's bool on the stack for the second
    '  return 0;',
    '}',
  ].join('\n');
  const program = compiler.compileSource(source);
  const main = program.functions.find((f) => f.name === 'main')!;
  const maps = [...main.stackMaps.entries()].sort(([a], [b]) => a - b).map(([, m]) => show(m));
  reportOutcome('the maps of main\'s calls', { output: maps });
  assert.equal(maps, [
    'locals 1:bool | stack -',
    'locals - | stack -',
    'locals 0:bool 1:int | stack int',
    'locals - | stack int',
    'locals 0:int | stack -',
    'locals - | stack bool',
  ], `the maps of main's calls, in order:\n${source}`);
  checkMaps(program, 'this program');
}, { hints: [
  'At each call, record the types of the locals in scope and of the values on the operand stack under the arguments; keep the map under the call\'s offset.',
  'A slot is live after a call if some path from there reads it before writing it: a backward pass over the code finds them. A slot of a finished block is never read again before a new `let` writes it.',
  '`true` is `const 1` at run time, but the map says bool: keep the types beside the code.',
] });

check('stack maps: every call of every test program agrees with a liveness computed apart', () => {
  let calls = 0;
  for (const program of programsUpTo(6).filter(mayCompile)) {
    let compiled;
    try {
      compiled = compiler.compileSource(program.source);
    } catch (error) {
      if (reportedCompileError(program, error, errors.CompileError)) continue;
      throw error;
    }
    calls += checkMaps(compiled, `${program.name}.jot`);
  }
  assert.ok(calls > 50, `only ${calls} calls in the programs (a check bug)`);
}, { hints: [
  'A map lists only the locals that are live after the call: a slot some path from the call reads before it writes it. A local in scope that is never read again is dead, and a map that names it keeps a stale value alive (chapter 11\'s collector would treat it as a root).',
  'Compute liveness backwards over the function\'s instructions until nothing changes: live-in of an instruction = (live-out minus the slot it writes) plus the slots it reads; live-out = the union of its successors\' live-in (a jump has its target as successor, a conditional jump both).',
  'Then filter each map\'s locals by the live set right after its call, and keep them in slot order.',
] });

check('limits of the format are compile errors at the offending line, never wrap-around', () => {
  const expectError = (source: string, message: string, why: string) => {
    const error = thrownBy(() => compiler.compileSource(source));
    reportOutcome(why, { output: [error instanceof errors.CompileError ? error.message : 'no compile error'] });
    assert.ok(error instanceof errors.CompileError, `${why}: expected the compile error '${message}', but ${error === undefined ? 'it compiled' : `got ${String(error)}`}`);
    assert.is((error as Error).message, message, why);
  };
  // 65536 functions are the most a call's u16 can name; the 65537th is an error at its name.
  const many = (n: number) => Array.from({ length: n }, (_, i) => `fn f${i}() { return ${i}; }`).join('\n') + `\nfn main() { return f${n - 1}(); }`;
  const fits = compiler.compileSource(many(65535));
  assert.is(seen('functions of 65535 and main', fits.functions.length), 65536, '65535 functions and main compile');
  expectError(many(65536), '65537:4: too many functions (at most 65536)', 'the 65537th function');

  // 256 locals fit a u8 slot number; the 257th is an error at its `let`.
  const lets = (n: number) => `fn main() {\n${Array.from({ length: n }, (_, i) => `  let v${i} = ${i};`).join('\n')}\n  return v${n - 1};\n}`;
  const wide = compiler.compileSource(lets(256));
  assert.is(seen('locals of 256 lets', wide.functions[0]!.locals), 256, '256 locals fit');
  assert.ok(seen('slot 255 stored to', decodeStores(wide.functions[0]!).includes(255)), 'the 256th local is slot 255');
  expectError(lets(257), "258:3: too many local variables in 'main' (at most 256)", 'the 257th local');

  // Six parameters, and slots in nested blocks at the limit.
  const six = compiler.compileSource('fn f(a, b, c, d, e, g) { return g; }\nfn main() { return f(1, 2, 3, 4, 5, 6); }');
  assert.is(seen('locals of six parameters', six.functions[0]!.locals), 6);
  expectError('fn f(a, b, c, d, e, g, h) { return h; }\nfn main() { return 0; }', "1:4: 'f' has 7 parameters, at most 6 are allowed", 'seven parameters');
  const nested = `fn main() {\n${Array.from({ length: 250 }, (_, i) => `  let v${i} = ${i};`).join('\n')}\n  { let a = 1; { let b = 2; { let c = 3; { let d = 4; { let e = 5; { let f = 6; print(f); } } } } } }\n  { let x = 7; print(x); }\n  return 0;\n}`;
  assert.is(seen('locals of six nested blocks on 250', compiler.compileSource(nested).functions[0]!.locals), 256, 'six nested blocks on top of 250 locals reach 256 exactly');
}, { timeoutMs: 60000, hints: [
  'A call names its function in a u16: more than 65536 functions cannot be named. Check the count where the signatures are collected, at the name of the function that is one too many.',
  'A u8 slot holds 0…255: the 257th local must be an error, not slot 0 again.',
] });

/** Reports `value` under `name` and returns it. */
function seen<T>(name: string, value: T): T {
  reportOutcome(name, { output: [String(value)] });
  return value;
}

function decodeStores(fn: Fn): number[] {
  return instructions(fn).filter((i) => i.name === 'store').map((i) => i.operands[0]!);
}
