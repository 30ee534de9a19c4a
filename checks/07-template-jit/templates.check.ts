/**
 * Checks of particular templates and of the runtime: the division corner cases, shift
 * masking, the depth limit, unwinding after an error, calls that stay in machine code,
 * and the listing.
 */
import * as assert from 'uvu/assert';
import koffi from 'koffi';
import { check, reportOutcome } from '#harness/check.ts';
import { compareOutcome } from '#harness/programs.ts';
import { ARCHES, hostArch } from '#native/arch.ts';
import { learnerCode } from '#harness/check.ts';
import { againstReference, assertWritten, compareResult, compiler, inline, jit, runJit } from './support.ts';

const masmModule = await learnerCode(import('#ch04/masm.ts'));
const jitCompiler = await learnerCode(import('#ch07/compiler.ts'));
const bytecode = await learnerCode(import('#ch06/bytecode.ts'));
const { CONTEXT: contextOffsets } = await learnerCode(import('#ch07/runtime.ts'));

const MIN = -(1n << 63n);
const MAX = (1n << 63n) - 1n;

/** Runs `source` with the JIT and holds it to what expectations.json writes out for `name`. */
function expectProgram(name: string, source: string): void {
  const report = compareOutcome(inline(name, source), runJit(source));
  assert.ok(report === null, `${report}\n\nthe program:\n${source}`);
}

check('INT64_MIN / -1 is INT64_MIN and INT64_MIN % -1 is 0, without a trap, on both ISAs', () => {
  const pairs: [bigint, bigint][] = [
    [MIN, -1n], [MIN, 1n], [MIN, 2n], [MIN, -2n], [MIN, MIN], [MAX, MIN], [MAX, -1n],
    [-7n, 2n], [7n, -2n], [-7n, -2n], [0n, -1n], [5n, -1n], [-1n, -1n], [1n, MAX],
  ];
  const source = `
fn divide(a, b) {
  print(a / b);
  print(a % b);
  return 0;
}
fn main() {
${pairs.map(([a, b]) => `  divide(${a}, ${b});`).join('\n')}
  return 0;
}`;
  expectProgram('min-division', source);
}, { hints: [
  'x86-64\'s idiv raises SIGFPE for INT64_MIN / -1 (the quotient does not fit), so that input must never reach it.',
  'Test the divisor for -1 before dividing: a / -1 is just -a (neg wraps INT64_MIN to itself) and a % -1 is 0.',
  'On AArch64, sdiv gives INT64_MIN for INT64_MIN / -1 already, but the remainder computed as a - (a / b) * b must still come out 0: one path for both ISAs is simplest.',
] });

check('shift counts are masked to 6 bits: << >> >>> by 64, 65, 127, -1 and 1000', () => {
  const counts = [0n, 1n, 3n, 63n, 64n, 65n, 127n, -1n, -64n, 1000n];
  const values = [1n, -16n, MIN, 0x123456789abcdefn];
  const source = `
fn shifts(a, n) {
  print(a << n);
  print(a >> n);
  print(a >>> n);
  return 0;
}
fn main() {
${values.flatMap((a) => counts.map((n) => `  shifts(${a}, ${n});`)).join('\n')}
  return 0;
}`;
  expectProgram('shift-masking', source);
}, { hints: [
  'Both machines mask a 64-bit shift count to its low 6 bits themselves (x86-64 shl/sar/shr by cl, AArch64 lslv/asrv/lsrv).',
  'So the count must reach the shift instruction unchanged; masking with 127 or not at all on one ISA gives the wrong answer for 64…127.',
] });

check('a runtime error deep in the calls unwinds every frame; the program can run again', () => {
  const source = `
fn inner(n, d) {
  if n == 0 {
    print(100 / d);
    print(-1);
    return 1;
  }
  let r = inner(n - 1, d) + 1;
  print(-2);
  return r;
}
fn main() {
  print(1);
  print(inner(50, 4));
  print(2);
  print(inner(50, 0));
  print(3);
  return 0;
}`;
  const program = compiler.compileSource(source);
  const compiled = jit.compileProgram(program);
  try {
    for (let run = 1; run <= 2; run++) {
      const printed: string[] = [];
      const outcome = compiled.run({ print: (text) => printed.push(text) });
      const actual = outcome.error ? { output: printed, error: { kind: 'runtime' as const, message: outcome.error.message } } : { output: printed };
      const report = compareOutcome(inline(`unwind (run ${run})`, source, 'unwind'), actual);
      assert.ok(report === null, `run ${run} of the same compiled program: ${report}`);
    }
  } finally {
    compiled.dispose();
  }
}, { hints: [
  'After the error callback returns, the generated code must not continue: jump to the function\'s exit and return.',
  'Each caller checks, right after every call, whether its callee failed, and returns at once too: nothing after the failing call may print.',
  'A second run starts from a clean state: the entry stub must reset the failed flag and the call budget each time.',
] });

check('the 10000th active call runs, the 10001st is a stack overflow; calls in a loop give their depth back', () => {
  const source = `
fn down(n) {
  let a = n + 1;
  let b = a * 2;
  if n == 0 {
    return b;
  }
  return down(n - 1) + 1;
}
fn main() {
  let i = 0;
  let sum = 0;
  while i < 30000 {
    sum = sum + down(0);
    i = i + 1;
  }
  print(sum);
  print(down(9998));
  print(down(9999));
  return 0;
}`;
  expectProgram('depth-limit', source);
}, { timeoutMs: 10000, hints: [
  'main is the first active call. Before each call, test the call budget; if none is left, report `stack overflow in <caller> at line <line of the call>`.',
  'Give the budget back when the call returns: 30000 calls one after the other never have more than 2 active at once.',
  'Use a callee-saved register for the budget (set by the entry stub), so a callback into TypeScript cannot clobber it.',
] });

check('calls between compiled functions stay in machine code: TypeScript enters once per run', () => {
  const source = `
fn fib(n) {
  if n < 2 {
    return n;
  }
  return fib(n - 1) + fib(n - 2);
}
fn twice(x) {
  return x + x;
}
fn main() {
  print(twice(fib(15)));
  return 0;
}`;
  const program = compiler.compileSource(source);
  const compiled = jit.compileProgram(program);
  // A first run loads the code (on AArch64 the instruction-cache flush is a koffi call too);
  // the second run is the one counted.
  compiled.run({ print: () => {} });
  const k = koffi as unknown as Record<string, unknown>;
  const realCall = k.call as (...args: unknown[]) => unknown;
  const realRegister = k.register as (...args: unknown[]) => unknown;
  let entries = 0;
  let callbacks = 0;
  k.call = (...args: unknown[]) => {
    entries++;
    return realCall(...args);
  };
  k.register = (...args: unknown[]) => {
    const at = typeof args[0] === 'function' ? 0 : 1;
    const fn = args[at] as (...a: unknown[]) => unknown;
    args[at] = (...a: unknown[]) => {
      callbacks++;
      return fn(...a);
    };
    return realRegister(...args);
  };
  const printed: string[] = [];
  try {
    compiled.run({ print: (text) => printed.push(text) });
  } finally {
    k.call = realCall;
    k.register = realRegister;
    compiled.dispose();
  }
  reportOutcome('twice(fib(15)): printed, entries into machine code, callbacks', { output: [...printed, `${entries} entries`, `${callbacks} callbacks`] });
  assertWritten('twice(fib(15))', printed, 'the program prints twice(fib(15))');
  assert.ok(entries === 1, `TypeScript called into machine code ${entries} times during one run; expected exactly 1 (the entry stub, which calls main). fib(15) makes 1973 calls: they must be machine calls to the callee's label, not round trips through koffi.`);
  assert.ok(callbacks === 1, `machine code called back into TypeScript ${callbacks} times; expected 1 (the one print). Calls between Jot functions must not go through callbacks.`);
}, { hints: [
  'Compile every function into one MacroAssembler, each at its own label, and emit `masm.call(label)` for the call opcode.',
  'Only the entry stub is called from TypeScript (region.function(0, 1)); print and runtime errors are the only callbacks.',
] });

check('the listing names the bytecode instruction of each piece of machine code, for both ISAs', () => {
  const source = `
fn add(a, b) {
  return a + b;
}
fn main() {
  let x = add(1, 2);
  while x < 10 {
    x = x * 2;
  }
  print(x);
  return 0;
}`;
  const program = compiler.compileSource(source);
  for (const arch of ARCHES) {
    const compiled = jit.compileProgram(program, arch);
    const listing = compiled.listing();
    compiled.dispose();
    const lines = listing.split('\n');
    for (const fn of program.functions) {
      assert.ok(lines.some((l) => l.includes(fn.name)), `${arch}: the listing never names function ${fn.name}:\n${listing}`);
    }
    for (const text of ['0000 load 0', 'add', 'call', 'jump_if_false', 'jump', 'mul', 'print', 'ret']) {
      assert.ok(lines.some((l) => l.includes(';') && l.slice(l.indexOf(';')).includes(text)), `${arch}: no comment in the listing mentions '${text}':\n${listing}`);
    }
    const mnemonic = arch === 'x64' ? /\bcall\b/ : /\bbl\b/;
    // What the listing names (never its text, which may differ): each function, each bytecode instruction, a direct call.
    reportOutcome(`the ${arch} listing names`, {
      output: [
        ...program.functions.map((fn) => `${fn.name}: ${lines.some((l) => l.includes(fn.name))}`),
        ...['0000 load 0', 'add', 'call', 'jump_if_false', 'jump', 'mul', 'print', 'ret'].map((text) => `${text}: ${lines.some((l) => l.includes(';') && l.slice(l.indexOf(';')).includes(text))}`),
        `a direct call: ${lines.some((l) => mnemonic.test(l))}`,
      ],
    });
    assert.ok(lines.some((l) => mnemonic.test(l)), `${arch}: no direct ${arch === 'x64' ? 'call' : 'bl'} instruction in the listing:\n${listing}`);
  }
}, { timeoutMs: 10000, emulatedTimeoutMs: 60000, hints: [
  'Before each instruction\'s template, masm.comment(`${offset} ${name} …`) attaches the bytecode to the first machine instruction of the template.',
  'compileProgram(program, arch) compiles for either ISA; only run() needs the machine to be that ISA.',
] });

check('the entry stub preserves every callee-saved register for its caller', () => {
  // A wrapper at offset 0 takes the entry stub's place: it fills every callee-saved register
  // with its own sentinel, calls your entry stub (with the context, as TypeScript would),
  // and returns how many registers came back changed. Your functions follow, compiled by you.
  const program = compiler.compileSource(`
fn deep(n) {
  if n == 0 { return 1; }
  return deep(n - 1) + 1;
}
fn main() {
  print(deep(100));
  return 7;
}`);
  const masm = masmModule.createMacroAssembler(hostArch());
  const { args, result, scratch, calleeSaved } = masm.regs;
  const sentinel = (i: number) => 0x5a17_0000_0000_0000n + BigInt(i) * 0x0101_0101_0101n;
  const entry = masm.newLabel('entry');
  masm.prologue(0, calleeSaved);
  calleeSaved.forEach((reg, i) => masm.moveImmediate(reg, sentinel(i)));
  masm.call(entry); // the context is still in the first argument register
  masm.moveImmediate(result, 0n);
  calleeSaved.forEach((reg, i) => {
    masm.moveImmediate(scratch[0]!, sentinel(i));
    masm.setIf('ne', args[1]!, reg, scratch[0]!);
    masm.add(result, result, args[1]!);
  });
  masm.epilogue();
  const entries = program.functions.map((fn) => masm.newLabel(fn.name));
  masm.bind(entry);
  jit.emitEntry(masm, entries[program.main]!);
  const registers = jitCompiler.jitRegisters(masm);
  for (const fn of program.functions) new jitCompiler.BaselineCompiler(masm, fn, program, entries, registers).compile();
  const code = masm.finish();
  const offsets = program.functions.map((fn, i) => ({ name: fn.name, offset: entries[i]!.offset! }));
  const compiled = new jit.JitProgram(program, hostArch(), code, offsets, () => masm.listing());
  const printed: string[] = [];
  try {
    const outcome = compiled.run({ print: (text) => printed.push(text) });
    reportOutcome('callee-saved registers changed across the entry stub', { output: [...printed, outcome.error === undefined ? '(ran to the end)' : '(a runtime error)', String(outcome.result)] });
    assertWritten('deep(100) through the entry stub', printed, 'the program ran through your entry stub');
    assert.ok(outcome.error === undefined, `no runtime error expected, got ${outcome.error?.message}`);
    assert.is(outcome.result, 0n, `${outcome.result} of the ${calleeSaved.length} callee-saved registers came back changed from your entry stub: it must save every callee-saved register it (or the code it calls) writes, and restore them before it returns`);
  } finally {
    compiled.dispose();
  }
}, { hints: [
  'The entry stub gives ctx and callsLeft their values: those are callee-saved registers of its caller, so it saves them in its prologue and restores them in its epilogue.',
  'masm.prologue(slots, saved) saves the registers in `saved`; masm.epilogue() restores exactly those.',
] });

check('the level\'s hooks and templates are used: afterCall at every call, prologue in every function, overrides', () => {
  const source = `
fn twice(x) {
  return x + x;
}
fn main() {
  print(twice(3) + twice(4));
  return 5;
}`;
  const program = compiler.compileSource(source);
  let afterCalls = 0;
  let prologues = 0;
  const level = jitCompiler.extendJit(jitCompiler.CORE_JIT, {
    afterCall: (t) => {
      afterCalls++;
      jitCompiler.CORE_JIT.afterCall(t);
    },
    prologue: () => {
      prologues++;
    },
    // `print` replaced: the value printed is doubled first.
    templates: new Map([[bytecode.Op.print, (t) => {
      const { masm } = t;
      masm.loadSlot(masm.regs.args[0]!, t.slot(t.depth - 1));
      masm.add(masm.regs.args[0]!, masm.regs.args[0]!, masm.regs.args[0]!);
      t.callRuntime(contextOffsets.print);
      t.depth--;
    }]]),
  });
  const compiled = jit.compileProgram(program, hostArch(), level);
  const printed: string[] = [];
  let result: bigint | undefined;
  try {
    result = compiled.run({ print: (text) => printed.push(text) }).result;
  } finally {
    compiled.dispose();
  }
  reportOutcome('a level\'s hooks and templates', { output: [...printed, `main returned ${result}`, `${afterCalls} afterCall hooks`, `${prologues} prologue hooks`] });
  assert.is(afterCalls, 2, 'the level\'s afterCall hook runs once per call instruction (this.#level.afterCall in #call)');
  assert.is(prologues, 2, 'the level\'s prologue hook runs once per function');
  assertWritten('a level\'s hooks and templates', printed, 'the level\'s template for print replaces the core one', result);
}, { hints: [
  'In #call, the test after the call is the level\'s: this.#level.afterCall(this.#context(pc)), not a test written inline, so that a later chapter can replace it.',
] });

check('functions at the limits of the format: 256 locals, six parameters, a deep operand stack, nested blocks', () => {
  const lets = Array.from({ length: 244 }, (_, i) => `  let v${i} = p${i % 6} * ${i + 1} - ${i};`).join('\n');
  const sum = Array.from({ length: 244 }, (_, i) => `v${i}`).join(' + ');
  const nested = Array.from({ length: 40 }, (_, i) => `(${i + 1} - `).join('') + 'p5' + ')'.repeat(40);
  const source = `
fn wide(p0, p1, p2, p3, p4, p5) {
${lets}
  {
    let a = v243 + 1; {
      let b = a * 2; {
        let c = b - v0; {
          let d = c + v1; {
            let e = d ^ v2; {
              let f = e + ${nested};
              print(f);
              v0 = f;
            }
          }
        }
      }
    }
  }
  return ${sum};
}
fn six(a, b, c, d, e, f) {
  return a * 100000 + b * 10000 + c * 1000 + d * 100 + e * 10 + f + wide(f, e, d, c, b, a);
}
fn main() {
  print(six(1, 2, 3, 4, 5, 6));
  print(wide(-1, 7, 0, 3, 1000000007, 9223372036854775807));
  return six(6, 5, 4, 3, 2, 1) % 1000003;
}`;
  const program = compiler.compileSource(source);
  const wide = program.functions.find((f) => f.name === 'wide')!;
  assert.is(wide.locals, 256, 'a check bug: wide has 256 local slots');
  assert.ok(wide.maxStack >= 40, `a check bug: wide's operand stack is ${wide.maxStack} deep`);
  const expected = againstReference('limits', source, program);
  const outcome = runJit(source);
  const report = compareOutcome(expected.program, outcome) ?? compareResult('limits', expected.result, outcome);
  assert.ok(report === null, `${report}\n\nthe program:\n${source}`);
}, { timeoutMs: 10000, emulatedTimeoutMs: 80000, hints: [
  'A frame needs locals + maxStack slots: with 256 locals the deepest slots are more than 2 KiB below the frame pointer, beyond the short displacement forms.',
  'All six parameters arrive in argument registers and go to locals 0…5 in order.',
] });
