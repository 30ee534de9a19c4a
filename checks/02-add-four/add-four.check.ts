import * as assert from 'uvu/assert';
import { check, learnerCode, thrownBy, type CheckContext } from '#harness/check.ts';
import { runCode } from '#harness/exec.ts';
import { disassemble, hex } from '#native/disasm.ts';

const ch02 = await learnerCode(import('#ch02/add-four.ts'));

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

check(
  'x + 4, written by hand, runs',
  (t) => {
    const code = ch02.addFourCode(t.arch);
    for (const x of [0n, 1n, -4n, -5n, 38n, 2n ** 40n, INT64_MIN, INT64_MAX]) {
      const result = runCode(code, x);
      assert.is(result, wrap(x + 4n), `f(${x}) returned ${result}, expected ${wrap(x + 4n)}; your code:\n${listing(code, t)}`);
    }
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
  'makeAdder(k) is right for every edge value of k',
  (t) => {
    for (const k of EDGE_K) {
      const add = ch02.makeAdder(k);
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
    for (let round = 0; round < 150; round++) {
      const k = randomInt64(t);
      const add = ch02.makeAdder(k);
      for (const x of [randomInt64(t), randomInt64(t), INT64_MAX]) {
        const result = add(x);
        if (result !== wrap(x + k)) {
          assert.unreachable(`makeAdder(${k})(${x}) returned ${result}, expected ${wrap(x + k)}; the code:\n${listing(ch02.adderCode(k, t.arch), t)}`);
        }
      }
    }
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
    if (t.arch === 'x64') {
      assert.ok(size(4n) <= 8, `k = 4 fits an imm8: expected at most 8 bytes (mov, add imm8, ret), got ${size(4n)}:\n${listing(ch02.adderCode(4n, t.arch), t)}`);
      assert.ok(size(-128n) <= 8, `k = -128 fits an imm8 (sign-extended): got ${size(-128n)} bytes`);
      assert.ok(size(1000n) <= 11, `k = 1000 fits an imm32: expected at most 11 bytes, got ${size(1000n)}`);
      assert.ok(size(1000n) > size(4n), 'k = 1000 does not fit an imm8, so it needs a longer form than k = 4');
    } else {
      for (const k of [4n, 4095n, -4n, -4095n]) {
        assert.ok(size(k) === 8, `k = ${k} fits a 12-bit add/sub immediate: expected 2 instructions (8 bytes), got ${size(k)}:\n${listing(ch02.adderCode(k, t.arch), t)}`);
      }
      assert.ok(size(2n ** 32n) <= 12, `k = 2^32 has one non-zero 16-bit chunk: expected movz, add, ret (12 bytes), got ${size(2n ** 32n)}`);
    }
  },
  {
    hints: [
      'A JIT picks the shortest encoding that holds the value: shorter code is faster to fetch.',
      'Check the range of k before choosing the form: imm8 is -128…127; imm32 is -2^31…2^31-1; AArch64 add/sub imm12 is 0…4095.',
      'x86-64: if (-128n <= k && k <= 127n) use 48 83 c0 ib. AArch64: skip zero 16-bit chunks instead of emitting movk #0.',
    ],
  },
);

check(
  'adderCode rejects a k outside 64 bits',
  (t) => {
    for (const k of [2n ** 63n, INT64_MIN - 1n, 2n ** 64n]) {
      const error = thrownBy(() => ch02.adderCode(k, t.arch));
      assert.ok(error instanceof RangeError, `adderCode(${k}) must throw a RangeError (k does not fit in a signed 64-bit integer), not emit wrapped bytes`);
    }
  },
  {
    hints: [
      'A bigint can be larger than any register; silently truncating it would compile the wrong program.',
      'Compare k with -(2n ** 63n) and 2n ** 63n - 1n first.',
      "if (k < -(2n ** 63n) || k > 2n ** 63n - 1n) throw new RangeError(`adderCode: k must be a signed 64-bit integer, got ${k}`)",
    ],
  },
);
