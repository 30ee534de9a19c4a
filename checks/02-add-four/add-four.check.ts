import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, thrownBy, type CheckContext } from '#harness/check.ts';
import { runCode, wordsToBytes } from '#harness/exec.ts';
import { ARCH_NAMES, type Arch } from '#native/arch.ts';
import { disassemble, hex } from '#native/disasm.ts';
import { flushInstructionCache } from '#native/icache.ts';
import { PROT, copyIn, copyOut, mprotect } from '#native/libc.ts';
import { trace } from '#native/libc-trace.ts';
import { preservingWrapper, withScratch } from './callee-saved.ts';

const ch02 = await learnerCode(import('#ch02/add-four.ts'));
const ch01 = await learnerCode(import('#ch01/code-region.ts'));

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const wrap = (value: bigint) => BigInt.asIntN(64, value);

const EDGE_K = [
  0n, 1n, -1n, 4n, 127n, 128n, -128n, -129n, 255n, 256n, 4095n, 4096n, -4095n, -4096n, 65535n, 65536n,
  2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), -(2n ** 31n) - 1n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n),
  0x1234_5678_9abc_def0n, -0x1234_5678_9abc_def0n, 2n ** 48n, 0xffff_0000_ffff_0000n - 2n ** 64n, INT64_MIN, INT64_MAX,
];
const EDGE_X = [0n, 1n, -1n, 42n, INT64_MIN, INT64_MAX, 2n ** 32n, -(2n ** 31n)];

/** A listing of `code`, for failure messages. */
function listing(code: Uint8Array, t: CheckContext): string {
  return disassemble(code, t.arch)
    .map((i) => `    ${hex(i.bytes).padEnd(30)} ${i.text}`)
    .join('\n');
}

function randomInt64(t: CheckContext): bigint {
  const bits = 1 + Math.floor(t.random() * 64);
  let value = 0n;
  for (let i = 0; i < bits; i += 16) value = (value << 16n) | BigInt(Math.floor(t.random() * 65536));
  value &= (1n << BigInt(bits)) - 1n;
  return wrap(t.random() < 0.5 ? -value : value);
}

/** Places `code` in executable memory (chapter 01's CodeRegion) and calls it as f(x) for each x. */
function runEach(code: Uint8Array, xs: readonly bigint[]): bigint[] {
  const region = ch01.CodeRegion.allocate(Math.max(code.length, 1));
  try {
    region.write(0, code);
    region.seal();
    const f = region.function(0, 1);
    return xs.map((x) => f(x));
  } finally {
    region.dispose();
  }
}

const OTHER: Record<Arch, Arch> = { x64: 'arm64', arm64: 'x64' };

/** A ret instruction of `arch` ends the code, and every byte decodes as an instruction of `arch`. */
function assertWholeFunction(code: Uint8Array, arch: Arch, what: string): void {
  const lines = disassemble(code, arch);
  const decoded = lines.reduce((sum, line) => sum + line.bytes.length, 0);
  const text = lines.map((l) => `    ${hex(l.bytes).padEnd(30)} ${l.text}`).join('\n');
  // Reported for the runner: whether the bytes are one whole function of `arch` (what every correct solution gives; never the bytes, which may differ).
  const whole = decoded === code.length && lines.every((l) => !['.byte', '.inst', 'udf'].includes(l.mnemonic)) && lines.at(-1)?.mnemonic === 'ret';
  reportOutcome(`${what} is a whole ${arch} function`, { output: [String(whole)] });
  assert.ok(decoded === code.length && lines.every((l) => !['.byte', '.inst', 'udf'].includes(l.mnemonic)), `${what} does not decode as ${ARCH_NAMES[arch]} code from start to end:\n${text}`);
  assert.is(lines.at(-1)?.mnemonic, 'ret', `${what} must end with ret on ${ARCH_NAMES[arch]}:\n${text}`);
}

check(
  'x + 4, written by hand, runs',
  (t) => {
    const code = ch02.addFourCode(t.arch);
    const xs = [0n, 1n, -4n, -5n, 38n, 2n ** 40n, INT64_MIN, INT64_MAX];
    const results = xs.map((x) => runCode(code, x));
    // Graded work: the runner holds these to what the reference's code returned (verdicts.ts).
    reportOutcome('x + 4', { output: results.map(String) });
    xs.forEach((x, i) => assert.is(results[i], wrap(x + 4n), `f(${x}) returned ${results[i]}, expected ${wrap(x + 4n)}; your code:\n${listing(code, t)}`));
  },
  {
    hints: [
      'The argument arrives in rdi (x86-64) or x0 (AArch64); the result must be in rax or x0 when ret runs.',
      'x86-64: mov rax, rdi is 48 89 f8; add rax, imm8 is 48 83 c0 followed by the byte; ret is c3. AArch64: add (immediate) is 0x91000000 | imm12 << 10 | Rn << 5 | Rd.',
      'x86-64: [0x48, 0x89, 0xf8, 0x48, 0x83, 0xc0, 0x04, 0xc3]. AArch64: littleEndianWords([0x91001000, 0xd65f03c0]).',
    ],
  },
);

check(
  'adderCode(k) computes x + k for every edge value of k',
  (t) => {
    for (const k of EDGE_K) {
      const code = ch02.adderCode(k, t.arch);
      const results = runEach(code, EDGE_X);
      reportOutcome(`adderCode(${k})`, { output: results.map(String) });
      EDGE_X.forEach((x, i) => {
        if (results[i] !== wrap(x + k)) {
          assert.unreachable(`the bytes of adderCode(${k}, '${t.arch}'), run as f(${x}), returned ${results[i]}, expected ${wrap(x + k)}:\n${listing(code, t)}`);
        }
      });
    }
  },
  {
    hints: [
      'These are your bytes, run as they are: each must be a whole function that leaves x + k where the result goes and returns.',
      'Test the boundaries of each immediate form: 127/128 and ±2^31 on x86-64; 4095/4096 and negatives (sub) on AArch64; beyond that, build k in a scratch register.',
      'x86-64 beyond 32 bits: movabs rcx, imm64 (48 b9 + 8 bytes), add rax, rcx (48 01 c8). AArch64: movz x9 for the first non-zero 16-bit chunk, movk for the others, then add x0, x0, x9.',
    ],
  },
);

check(
  'adderCode(k, arch) emits the code of the architecture it is asked for',
  (t) => {
    const other = OTHER[t.arch];
    for (const k of [4n, 1000n, -4097n, 0x1234_5678_9abc_def0n]) {
      const own = ch02.adderCode(k, t.arch);
      const theirs = ch02.adderCode(k, other);
      const same = [...theirs].join() === [...own].join();
      reportOutcome(`adderCode(${k}) for ${other} and for ${t.arch}`, { output: [same ? 'the same bytes' : 'different bytes'] });
      assert.not.equal([...theirs], [...own], `adderCode(${k}, '${other}') returned the same bytes as adderCode(${k}, '${t.arch}'): the code must follow the arch argument, not the machine it runs on`);
      assertWholeFunction(theirs, other, `adderCode(${k}, '${other}')`);
      assertWholeFunction(own, t.arch, `adderCode(${k}, '${t.arch}')`);
    }
    const four = ch02.addFourCode(other);
    reportOutcome(`addFourCode for ${other} and for ${t.arch}`, { output: [[...four].join() === [...ch02.addFourCode(t.arch)].join() ? 'the same bytes' : 'different bytes'] });
    assert.not.equal([...four], [...ch02.addFourCode(t.arch)], `addFourCode('${other}') returned the same bytes as addFourCode('${t.arch}')`);
    assertWholeFunction(four, other, `addFourCode('${other}')`);
  },
  {
    hints: [
      'A JIT can emit code for a machine it does not run on (a cross compiler); the arch argument, not the host, decides the instruction set.',
      "Branch on the arch parameter (arch === 'x64'), not on hostArch(); only makeAdder asks which machine this is.",
      "if (arch === 'x64') return adderX64(k); return adderArm64(k);",
    ],
  },
);

/** The ranges made executable (with mprotect) since trace event number `since`, each once. */
function madeExecutable(since: number): { address: bigint; length: number }[] {
  const ranges = new Map<bigint, number>();
  for (const e of trace.events) {
    if (e.seq >= since && e.call === 'mprotect' && e.result === 0 && (e.prot & PROT.EXEC) !== 0) ranges.set(e.address, Math.max(e.length, ranges.get(e.address) ?? 0));
  }
  return [...ranges].map(([address, length]) => ({ address, length }));
}

/**
 * Code that computes x + k from wherever it is entered: a sled of no-ops filling `length`
 * bytes, ending in `x + k; ret`, so the function runs it at any entry offset it uses.
 */
function sledAdder(arch: Arch, length: number, k: number): Uint8Array {
  if (arch === 'x64') {
    const tail = [0x48, 0x89, 0xf8, 0x48, 0x83, 0xc0, k & 0x7f, 0xc3]; // mov rax, rdi; add rax, k; ret
    const code = new Uint8Array(length).fill(0x90); //                     nop
    code.set(tail, length - tail.length);
    return code;
  }
  const words = new Array<number>(Math.floor(length / 4)).fill(0xd503201f); // nop
  words[words.length - 2] = 0x91000000 | ((k & 0xfff) << 10); //              add x0, x0, #k
  words[words.length - 1] = 0xd65f03c0; //                                    ret
  return wordsToBytes(words);
}

/** Rewrites executable memory behind its owner's back, keeping W^X and the instruction cache right. */
function patchExecutable(address: bigint, bytes: Uint8Array): void {
  if (mprotect(address, bytes.length, PROT.READ | PROT.WRITE) !== 0) throw new Error(`the checks could not unprotect 0x${address.toString(16)}`);
  copyIn(address, bytes);
  if (mprotect(address, bytes.length, PROT.READ | PROT.EXEC) !== 0) throw new Error(`the checks could not protect 0x${address.toString(16)}`);
  flushInstructionCache(address, bytes.length);
}

check(
  "the code leaves the caller's registers as it found them",
  (t) => {
    const wrapper = preservingWrapper(t.arch);
    const cases: [string, Uint8Array, bigint][] = [
      [`addFourCode('${t.arch}')`, ch02.addFourCode(t.arch), 4n],
      ...EDGE_K.map((k): [string, Uint8Array, bigint] => [`adderCode(${k}, '${t.arch}')`, ch02.adderCode(k, t.arch), k]),
    ];
    withScratch((scratch, clobbered) => {
      for (const [what, code, k] of cases) {
        const region = ch01.CodeRegion.allocate(wrapper.length + code.length);
        try {
          region.write(0, wrapper);
          region.write(wrapper.length, code);
          region.seal();
          const x = 1000n;
          const result = region.function(0, 2)(x, scratch);
          const changed = clobbered();
          reportOutcome(what, { output: [String(result), ...changed.map((c) => `${c.register} changed`)] });
          if (changed.length) {
            const list = changed.map((c) => (c.register === 'x29' ? 'x29 (the frame pointer)' : `${c.register} (was 0x${c.before.toString(16)}, left 0x${c.after.toString(16)})`)).join(', ');
            const scratchHint = t.arch === 'x64' ? 'rax, rcx, rdx, rsi, rdi, r8-r11' : 'x0-x17';
            assert.unreachable(`${what} changes ${list}: the calling convention says the caller keeps these, so code that uses them must save and restore them; for a scratch register pick one the caller does not keep (${scratchHint}):\n${listing(code, t)}`);
          }
          assert.is(result, wrap(x + k), `${what}, called from a C-like caller, returned ${result} for x = ${x}`);
        } finally {
          region.dispose();
        }
      }
    }, t.arch);
  },
  {
    hints: [
      'A function shares the registers with its caller: the calling convention says which ones the caller may expect back unchanged (callee-saved).',
      'x86-64 keeps rbx, rbp and r12-r15 for the caller; AArch64 keeps x19-x28 and x29. Build a 64-bit constant in a register the caller does not keep.',
      'x86-64: movabs rcx, imm64 (48 b9) then add rax, rcx (48 01 c8). AArch64: movz/movk into x9, then add x0, x0, x9.',
    ],
  },
);

check(
  'makeAdder(k) runs the machine code it placed in memory',
  (t) => {
    const k = 5n;
    const since = trace.events.length;
    const add = ch02.makeAdder(k);
    assert.is(add(37n), 42n, `makeAdder(5)(37) returned ${add(37n)}`);
    const regions = madeExecutable(since);
    if (regions.length === 0) {
      assert.unreachable('makeAdder(5) made no memory executable: it must copy the bytes of adderCode into a CodeRegion, seal it, and return a function into it');
      return;
    }
    // Replace the code with a different adder (k = 77) at every possible entry: machine code follows, a JavaScript closure cannot.
    const originals = regions.map((r) => copyOut(r.address, r.length));
    for (const r of regions) patchExecutable(r.address, sledAdder(t.arch, r.length, 77));
    let patched: bigint;
    try {
      patched = add(100n);
    } finally {
      regions.forEach((r, i) => patchExecutable(r.address, originals[i]!));
    }
    const where = regions.map((r) => `0x${r.address.toString(16)}`).join(', ');
    reportOutcome('makeAdder(5)', { output: [String(patched), String(add(100n))] });
    assert.is(
      patched,
      177n,
      `the code makeAdder(5) sealed (at ${where}) was replaced by code for x + 77, yet the function returned ${patched} for x = 100: it does not call the machine code (is it a JavaScript closure?)`,
    );
    assert.is(add(100n), 105n, 'with the original code put back, makeAdder(5)(100) must return 105 again');
  },
  {
    hints: [
      'makeAdder is the JIT: the addition must happen in the machine code it generates, not in TypeScript.',
      'Allocate a CodeRegion (chapter 01) of the code\'s size, write adderCode(k, hostArch()) into it, seal it, and return region.function(0, 1).',
      'const code = adderCode(k, hostArch()); const region = CodeRegion.allocate(code.length); region.write(0, code); region.seal(); return region.function(0, 1);',
    ],
  },
);

check(
  'makeAdder(k) is right for every edge value of k',
  (t) => {
    for (const k of EDGE_K) {
      const add = ch02.makeAdder(k);
      reportOutcome(`makeAdder(${k})`, { output: EDGE_X.map((x) => String(add(x))) });
      for (const x of EDGE_X) {
        const result = add(x);
        if (result !== wrap(x + k)) {
          assert.unreachable(`makeAdder(${k})(${x}) returned ${result}, expected ${wrap(x + k)}; the code for k = ${k}:\n${listing(ch02.adderCode(k, t.arch), t)}`);
        }
      }
    }
  },
  {
    hints: [
      'Immediates come in sizes: an x86-64 imm8 or imm32 is sign-extended; an AArch64 add immediate holds only 0…4095.',
      'Test the boundaries: 127/128 and ±2^31 on x86-64; 4095/4096 and negatives (use sub) on AArch64; beyond that build k in a register.',
      'x86-64 beyond 32 bits: movabs rcx, imm64 (48 b9 + 8 bytes), add rax, rcx (48 01 c8). AArch64: movz x9 for the first non-zero 16-bit chunk, movk for the others, then add x0, x0, x9.',
    ],
  },
);

check(
  'makeAdder(k) is right for random k and x',
  (t) => {
    const returned: string[] = [];
    for (let round = 0; round < 150; round++) {
      const k = randomInt64(t);
      const add = ch02.makeAdder(k);
      for (const x of [randomInt64(t), randomInt64(t), INT64_MAX]) {
        const result = add(x);
        returned.push(`makeAdder(${k})(${x}) = ${result}`);
        if (result !== wrap(x + k)) {
          assert.unreachable(`makeAdder(${k})(${x}) returned ${result}, expected ${wrap(x + k)}; the code:\n${listing(ch02.adderCode(k, t.arch), t)}`);
        }
      }
    }
    reportOutcome('random adders', { output: returned });
  },
  {
    hints: [
      'Random constants hit chunks and signs your edge cases may not.',
      'Look at constants with zero 16-bit chunks in the middle, and negative constants that need all 64 bits.',
      'Compute the bits as BigInt.asUintN(64, k) before cutting them into bytes or 16-bit chunks.',
    ],
  },
);

check(
  'small constants use the short immediate forms',
  (t) => {
    const size = (k: bigint) => ch02.adderCode(k, t.arch).length;
    // Whether each size is within its bound is reported for the runner (the sizes themselves may differ between correct solutions).
    const within = (k: bigint, bound: number, exactly = false) => {
      const ok = exactly ? size(k) === bound : size(k) <= bound;
      reportOutcome(`adderCode(${k}) ${exactly ? 'is' : 'is at most'} ${bound} bytes`, { output: [String(ok)] });
      return ok;
    };
    if (t.arch === 'x64') {
      for (const k of [4n, 127n, -1n, -128n]) {
        assert.ok(within(k, 8), `k = ${k} fits an imm8 (sign-extended): expected at most 8 bytes (mov rax, rdi; add rax, imm8 = 48 83 c0 ib; ret), got ${size(k)}:\n${listing(ch02.adderCode(k, t.arch), t)}`);
      }
      for (const k of [128n, -129n, 1000n, 2n ** 31n - 1n, -(2n ** 31n)]) {
        assert.ok(
          within(k, 10),
          `k = ${k} fits an imm32 (sign-extended): expected at most 10 bytes (mov rax, rdi; add rax, imm32 = 48 05 id, the short form for rax; ret), got ${size(k)}:\n${listing(ch02.adderCode(k, t.arch), t)}`,
        );
      }
      const longer = size(1000n) > size(4n);
      reportOutcome('adderCode(1000) is longer than adderCode(4)', { output: [String(longer)] });
      assert.ok(longer, 'k = 1000 does not fit an imm8, so it needs a longer form than k = 4');
    } else {
      for (const k of [4n, 4095n, -4n, -4095n]) {
        assert.ok(within(k, 8, true), `k = ${k} fits a 12-bit add/sub immediate: expected 2 instructions (8 bytes), got ${size(k)}:\n${listing(ch02.adderCode(k, t.arch), t)}`);
      }
      for (const k of [4096n, 2n ** 16n, 2n ** 32n, 2n ** 48n]) {
        assert.ok(within(k, 12), `k = ${k} has one non-zero 16-bit chunk: expected movz, add, ret (12 bytes), got ${size(k)}:\n${listing(ch02.adderCode(k, t.arch), t)}`);
      }
      assert.ok(within(0x1_0000_0001n, 16), `k = 0x100000001 has two non-zero 16-bit chunks: expected movz, movk, add, ret (16 bytes), got ${size(0x1_0000_0001n)}`);
    }
  },
  {
    hints: [
      'A JIT picks the shortest encoding that holds the value: shorter code is faster to fetch.',
      'Check the range of k before choosing the form: imm8 is -128…127; imm32 is -2^31…2^31-1; AArch64 add/sub imm12 is 0…4095.',
      'x86-64: if (-128n <= k && k <= 127n) use 48 83 c0 ib, else if k fits 32 bits use 48 05 id (add rax, imm32 has a form without ModRM). AArch64: skip zero 16-bit chunks instead of emitting movk #0.',
    ],
  },
);

check(
  'adderCode rejects a k outside 64 bits',
  (t) => {
    const refusals: string[] = [];
    for (const k of [2n ** 63n, INT64_MIN - 1n, 2n ** 64n]) {
      const error = thrownBy(() => ch02.adderCode(k, t.arch));
      refusals.push(`adderCode(${k}) threw ${error instanceof RangeError ? 'a RangeError' : 'something else'}`);
      assert.ok(error instanceof RangeError, `adderCode(${k}) must throw a RangeError (k does not fit in a signed 64-bit integer), not emit wrapped bytes`);
    }
    reportOutcome('refusals', { output: refusals });
  },
  {
    hints: [
      'A bigint can be larger than any register; silently truncating it would compile the wrong program.',
      'Compare k with -(2n ** 63n) and 2n ** 63n - 1n first.',
      "if (k < -(2n ** 63n) || k > 2n ** 63n - 1n) throw new RangeError(`adderCode: k must be a signed 64-bit integer, got ${k}`)",
    ],
  },
);
