/**
 * Chapter 03, AArch64: the learner's encoders word for word against GNU as (one check per
 * encoding family), sp versus xzr, bitmask immediates, and the RangeErrors for operands
 * that do not fit. Pure functions, so these run on both architectures.
 */
import * as assert from 'uvu/assert';
import { check, learnerCode, reportOutcome, thrownBy } from '#harness/check.ts';
import { expectBytes } from '#harness/expect.ts';
import { bytesText, expectRangeErrors, loadVectors, replay, vectorsOf } from './vectors.ts';

const a64 = await learnerCode(import('#ch03/arm64.ts'));
const FILE = 'chapters/03-encoders/arm64.ts';
const vectors = loadVectors('arm64');

function family(group: string, name: string, hints: string[]): void {
  const chosen = vectorsOf(vectors, group);
  check(`arm64 encodes ${name} like GNU as (${chosen.length} vectors)`, () => replay(a64, FILE, 'arm64', chosen), { hints });
}

family('arm64 add/sub immediate', 'add/sub/adds/subs/cmp/cmn with imm12', [
  'Add/subtract (immediate): sf op S 100010 sh imm12 Rn Rd. A value above 4095 that is a multiple of 4096 is encoded as value/4096 with sh = 1 (lsl #12).',
  'In this class register 31 is SP for Rn, and for Rd of add/sub; adds/subs/cmp/cmn write flags and their Rd 31 is XZR. sp and xzr are different values in Reg (32 and 31) but both encode as 31.',
  'cmp rn, #imm is subs xzr, rn, #imm; cmn is adds xzr.',
]);

family('arm64 mov and move wide', 'mov (orr or add #0) and movz/movk/movn', [
  'Move wide: sf opc 100101 hw imm16 Rd, with opc 00 movn, 10 movz, 11 movk and hw = shift / 16.',
  'mov rd, rm is orr rd, xzr, rm, unless rd or rm is sp: then it is add rd, rm, #0 (in orr, 31 means xzr).',
  'movz x0, #1, lsl #16 → 0xd2a00020.',
]);

family('arm64 add/sub register', 'add/sub/adds/subs/cmp/cmn/neg with shifted registers', [
  'Add/subtract (shifted register): sf op S 01011 shift 0 Rm imm6 Rn Rd; shift 00 lsl, 01 lsr, 10 asr (11 is reserved).',
  'Here register 31 is XZR in every field; sp is refused (RangeError).',
  'neg rd, rm is sub rd, xzr, rm; cmp rn, rm is subs xzr, rn, rm.',
]);

family('arm64 logical register', 'and/orr/eor/ands/bic/mvn/tst with shifted registers', [
  'Logical (shifted register): sf opc 01010 shift N Rm imm6 Rn Rd; opc 00 and, 01 orr, 10 eor, 11 ands; N = 1 inverts Rm (bic, orn).',
  'ror is allowed here (shift 11), unlike add/sub.',
  'mvn rd, rm is orn rd, xzr, rm; tst rn, rm is ands xzr, rn, rm.',
]);

family('arm64 logical immediate', 'and/orr/eor/ands/tst with bitmask immediates', [
  'A bitmask immediate is an element of 2, 4, 8, 16, 32 or 64 bits, repeated to fill 64 bits; the element is a run of ones rotated right. N:imms encode the element size and the number of ones, immr the rotation.',
  'Find the smallest element size whose copies make the value, count its ones, then find the rotation r with ror(ones-run, r) == element. imms = (~(2*size - 1) & 0x3f) | (ones - 1), N = size == 64 ? 1 : 0.',
  'and/orr/eor may write sp (Rd 31 = sp), ands/tst may not (Rd 31 = xzr); Rn 31 is always xzr.',
]);

family('arm64 multiply and divide', 'madd/msub/mul/smulh/sdiv/udiv and variable shifts', [
  'Data-processing (3 source): sf 00 11011 op31 Rm o0 Ra Rn Rd; mul is madd with Ra = xzr, smulh has op31 = 010.',
  'Data-processing (2 source): sf 0 0 11010110 Rm opcode Rn Rd; opcode 000010 udiv, 000011 sdiv, 001000 lslv, 001001 lsrv, 001010 asrv.',
  'mul x0, x1, x2 → 0x9b027c20.',
]);

family('arm64 shifts', 'ubfm/sbfm and shifts by an immediate', [
  'Shifts by a constant are aliases of the bitfield moves: lsl is ubfm, lsr is ubfm, asr is sbfm (Bitfield: sf opc 100110 N immr imms Rn Rd, N = 1 for 64-bit).',
  'lsr/asr #s: immr = s, imms = 63. lsl #s: immr = (64 - s) % 64, imms = 63 - s.',
  'lsl x0, x1, #3 → ubfm x0, x1, #61, #60 → 0xd37df020.',
]);

family('arm64 load/store', 'ldr/str (scaled, unscaled, pre- and post-index)', [
  'Three classes: unsigned scaled offset (imm12 = offset / 8, so offsets 0..32760 in steps of 8), unscaled ldur/stur (imm9 = any byte offset -256..255), and pre/post-index (imm9, and bits 11:10 = 11 pre, 01 post).',
  'The base Rn is SP when it is 31; the data register Rt is XZR when it is 31.',
  'ldr x0, [sp, #8] → 0xf94007e0; ldur x0, [x1, #-8] → 0xf85f8020.',
]);

family('arm64 load/store pair', 'ldp/stp (signed offset, pre- and post-index)', [
  'Load/store pair: opc 101 V mode L imm7 Rt2 Rn Rt; opc 10 for 64-bit; mode 010 signed offset, 011 pre-index, 001 post-index; imm7 = offset / 8, signed.',
  'Offsets -512..504 in steps of 8. Rn 31 is sp.',
  'stp x29, x30, [sp, #-16]! → 0xa9bf7bfd; ldp x29, x30, [sp], #16 → 0xa8c17bfd.',
]);

family('arm64 register offset and adr', 'ldr/str [xn, xm, lsl #3] and adr', [
  'Load/store (register offset): 0xf8600800 for ldr, 0xf8200800 for str, then Rm << 16, option << 13 (011: the whole 64-bit Rm), S << 12 (1: scale Rm by 8), Rn << 5, Rt.',
  'Rn, the base, may be sp (register 31 means sp there); Rm, the index, may not: in the Rm field 31 means xzr.',
  'adr: bit 31 is 0, bits 28..24 are 10000; the byte offset is split: its low two bits (immlo) go to bits 30..29, the other 19 (immhi) to bits 23..5.',
]);

family('arm64 branches', 'b/bl/b.cond/cbz/cbnz/tbz/tbnz/br/blr/ret', [
  'AArch64 branch offsets count from the branch instruction itself (not its end), in units of 4 bytes: imm26 for b/bl, imm19 for b.cond and cbz/cbnz, imm14 for tbz/tbnz.',
  'Store the offset as two\'s complement in its field: (offset / 4) & ((1 << bits) - 1). tbz splits the bit number into b5 (bit 31) and b40 (bits 23:19).',
  'br/blr/ret: 1101011 opc 11111 000000 Rn 00000 with opc 0000, 0001, 0010; ret without operands uses x30.',
]);

family('arm64 conditional select', 'csel/csinc/csinv/csneg/cset', [
  'Conditional select: sf op S 11010100 Rm cond o2 Rn Rd; (op, o2) = (0,0) csel, (0,1) csinc, (1,0) csinv, (1,1) csneg.',
  'cset rd, cond is csinc rd, xzr, xzr, with the INVERTED condition (cond ^ 1).',
  'cset x0, eq → 0x9a9f17e0.',
]);

family('arm64 traps and nop', 'udf, brk, nop', [
  'udf #imm16 is the word imm16 itself (the top 16 bits are zero).',
  'brk: 11010100 001 imm16 000 00. nop is the fixed word 0xd503201f.',
  'brk #1 → 0xd4200020.',
]);

family('arm64 random', 'random operand combinations', [
  'These mix all the families above with random registers, immediates and offsets.',
  'The failure names the field of the word that differs.',
  'A wrong field position usually shows up as two fields differing at once.',
]);

check(
  'arm64 keeps sp and xzr apart',
  () => {
    const { Reg } = a64;
    // The same register number, two different registers: the encoders must not mix them up.
    expectRangeErrors(
      [
        { text: 'add_imm(x0, xzr, 1)', run: () => a64.add_imm(Reg.x0, Reg.xzr, 1), mentions: ['add', 'Rn', 'xzr'] },
        { text: 'add_imm(xzr, x0, 1)', run: () => a64.add_imm(Reg.xzr, Reg.x0, 1), mentions: ['add', 'Rd'] },
        { text: 'adds_imm(sp, x0, 1)', run: () => a64.adds_imm(Reg.sp, Reg.x0, 1), mentions: ['adds', 'Rd', 'sp'] },
        { text: 'add_reg(x0, sp, x1)', run: () => a64.add_reg(Reg.x0, Reg.sp, Reg.x1), mentions: ['add', 'Rn', 'sp'] },
        { text: 'orr_reg(sp, x0, x1)', run: () => a64.orr_reg(Reg.sp, Reg.x0, Reg.x1), mentions: ['orr', 'Rd', 'sp'] },
        { text: 'ldr_imm(x0, xzr, 8)', run: () => a64.ldr_imm(Reg.x0, Reg.xzr, 8), mentions: ['ldr', 'Rn', 'xzr'] },
        { text: 'ldr_reg(x0, x1, sp)', run: () => a64.ldr_reg(Reg.x0, Reg.x1, Reg.sp), mentions: ['ldr', 'Rm', 'sp'] },
        { text: 'str_reg(x0, xzr, x1)', run: () => a64.str_reg(Reg.x0, Reg.xzr, Reg.x1), mentions: ['str', 'Rn', 'xzr'] },
        { text: 'adr(sp, 0)', run: () => a64.adr(Reg.sp, 0), mentions: ['adr', 'Rd', 'sp'] },
        { text: 'str_imm(sp, x1, 8)', run: () => a64.str_imm(Reg.sp, Reg.x1, 8), mentions: ['str', 'Rt', 'sp'] },
        { text: 'mul(x0, sp, x1)', run: () => a64.mul(Reg.x0, Reg.sp, Reg.x1), mentions: ['Rn', 'sp'] },
        { text: 'cbz(sp, 8)', run: () => a64.cbz(Reg.sp, 8), mentions: ['cbz', 'Rt', 'sp'] },
        { text: 'movz(sp, 1)', run: () => a64.movz(Reg.sp, 1), mentions: ['movz', 'Rd', 'sp'] },
      ],
      thrownBy,
    );
    const encoded = (what: string, code: number): number => (reportOutcome(what, { output: [bytesText(code) ?? 'not a word'] }), code);
    expectBytes(encoded('mov_reg(x0, sp)', a64.mov_reg(Reg.x0, Reg.sp)), 0x910003e0, 'arm64', 'mov_reg(x0, sp) must be add x0, sp, #0');
    expectBytes(encoded('mov_reg(x0, xzr)', a64.mov_reg(Reg.x0, Reg.xzr)), 0xaa1f03e0, 'arm64', 'mov_reg(x0, xzr) must be orr x0, xzr, xzr');
    expectBytes(encoded('add_imm(sp, sp, 16)', a64.add_imm(Reg.sp, Reg.sp, 16)), 0x910043ff, 'arm64', 'add_imm(sp, sp, 16)');
    expectBytes(encoded('orr_reg(x1, xzr, xzr)', a64.orr_reg(Reg.x1, Reg.xzr, Reg.xzr)), 0xaa1f03e1, 'arm64', 'orr_reg(x1, xzr, xzr)');
  },
  {
    hints: [
      'Register number 31 is sp in some fields and xzr in others. Reg.sp (32) and Reg.xzr (31) are different values so that a caller cannot get the wrong one by accident.',
      'Give each register field a check: a field where 31 means sp accepts x0..x30 and sp and refuses xzr; a field where 31 means xzr does the opposite. Both then encode 31.',
      'sp fields: Rn and Rd of add/sub (immediate), Rn of adds/subs (immediate), Rd of and/orr/eor (immediate), the base Rn of every load and store. Everything else is xzr.',
    ],
  },
);

check(
  'arm64 encodes bitmask immediates and refuses the rest',
  () => {
    const { Reg } = a64;
    // Every valid bitmask immediate: each element size, run length and rotation; what each
    // encoding decodes to is reported once they all agree.
    const decoded: string[] = [];
    for (let size = 2; size <= 64; size *= 2) {
      const sizeMask = (1n << BigInt(size)) - 1n;
      for (let ones = 1; ones < size; ones++) {
        for (let rotation = 0; rotation < size; rotation++) {
          const run = (1n << BigInt(ones)) - 1n;
          const element = ((run >> BigInt(rotation)) | (run << BigInt(size - rotation))) & sizeMask;
          let value = 0n;
          for (let at = 0; at < 64; at += size) value |= element << BigInt(at);
          const word = a64.and_imm(Reg.x0, Reg.x1, value) >>> 0;
          const n = (word >>> 22) & 1;
          const immr = (word >>> 16) & 63;
          const imms = (word >>> 10) & 63;
          assert.is(decodeBitmask(n, immr, imms), value,
            `and x0, x1, #0x${value.toString(16)}: your N=${n} immr=${immr} imms=${imms} decode to 0x${decodeBitmask(n, immr, imms)?.toString(16)}`);
          decoded.push(`0x${decodeBitmask(n, immr, imms)?.toString(16)}`);
        }
      }
    }
    reportOutcome('every bitmask immediate, encoded and decoded', { output: decoded });
    expectRangeErrors(
      [
        { text: 'and_imm(x0, x1, 0n)', run: () => a64.and_imm(Reg.x0, Reg.x1, 0n), mentions: ['and', 'imm'] },
        { text: 'orr_imm(x0, x1, -1n)', run: () => a64.orr_imm(Reg.x0, Reg.x1, -1n), mentions: ['orr', 'imm'] },
        { text: 'eor_imm(x0, x1, 5n)', run: () => a64.eor_imm(Reg.x0, Reg.x1, 5n), mentions: ['eor', 'imm'] },
        { text: 'ands_imm(x0, x1, 0x1234n)', run: () => a64.ands_imm(Reg.x0, Reg.x1, 0x1234n), mentions: ['ands', 'imm'] },
        { text: 'tst_imm(x0, 0xff00ff00ff00ff01n)', run: () => a64.tst_imm(Reg.x0, 0xff00ff00ff00ff01n), mentions: ['imm'] },
      ],
      thrownBy,
    );
  },
  {
    hints: [
      'There are 5334 bitmask immediates. This check tries every one, and some that are not.',
      'Find the element size first: the smallest of 2, 4, …, 64 such that the value is that many low bits repeated. Then the element must be one run of ones, rotated.',
      'Zero and all-ones have no encoding (the run would be 0 or `size` ones); those and every non-pattern value must be a RangeError.',
    ],
  },
);

/** The Arm manual's DecodeBitMasks for 64-bit operations, written independently of the encoder. */
function decodeBitmask(n: number, immr: number, imms: number): bigint | undefined {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return undefined;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return undefined;
  const size = 1 << len;
  const levels = size - 1;
  const s = imms & levels;
  const r = immr & levels;
  if (s === levels) return undefined;
  const mask = (1n << BigInt(size)) - 1n;
  const welem = (1n << BigInt(s + 1)) - 1n;
  const element = ((welem >> BigInt(r)) | (welem << BigInt(size - r))) & mask;
  let value = 0n;
  for (let at = 0; at < 64; at += size) value |= element << BigInt(at);
  return value;
}

check(
  'arm64 encoders refuse operands that do not fit, naming the instruction and field',
  () => {
    const { Reg, Cond, Shift } = a64;
    expectRangeErrors(
      [
        { text: 'add_imm(x0, x1, 5000)', run: () => a64.add_imm(Reg.x0, Reg.x1, 5000), mentions: ['add', 'imm12'] },
        { text: 'add_imm(x0, x1, -1)', run: () => a64.add_imm(Reg.x0, Reg.x1, -1), mentions: ['add', 'imm12'] },
        { text: 'sub_imm(x0, x1, 4096 * 4096)', run: () => a64.sub_imm(Reg.x0, Reg.x1, 4096 * 4096), mentions: ['sub', 'imm12'] },
        { text: 'add_reg(x0, x1, x2, lsl, 64)', run: () => a64.add_reg(Reg.x0, Reg.x1, Reg.x2, Shift.lsl, 64), mentions: ['add', 'shift'] },
        { text: 'add_reg(x0, x1, x2, ror, 1)', run: () => a64.add_reg(Reg.x0, Reg.x1, Reg.x2, Shift.ror, 1), mentions: ['add', 'shift'] },
        { text: 'ldr_imm(x0, x1, 3)', run: () => a64.ldr_imm(Reg.x0, Reg.x1, 3), mentions: ['ldr', 'offset', 'multiple of 8'] },
        { text: 'ldr_imm(x0, x1, -8)', run: () => a64.ldr_imm(Reg.x0, Reg.x1, -8), mentions: ['ldr', 'offset'] },
        { text: 'str_imm(x0, x1, 32768)', run: () => a64.str_imm(Reg.x0, Reg.x1, 32768), mentions: ['str', 'offset'] },
        { text: 'ldur(x0, x1, 256)', run: () => a64.ldur(Reg.x0, Reg.x1, 256), mentions: ['ldur', 'offset'] },
        { text: 'str_pre(x0, sp, -257)', run: () => a64.str_pre(Reg.x0, Reg.sp, -257), mentions: ['str', 'offset'] },
        { text: 'ldr_post(x3, x3, 8)', run: () => a64.ldr_post(Reg.x3, Reg.x3, 8), mentions: ['ldr', 'Rn'] },
        { text: 'ldp(x0, x1, sp, 4)', run: () => a64.ldp(Reg.x0, Reg.x1, Reg.sp, 4), mentions: ['ldp', 'offset'] },
        { text: 'stp_pre(x29, x30, sp, 512)', run: () => a64.stp_pre(Reg.x29, Reg.x30, Reg.sp, 512), mentions: ['stp', 'offset'] },
        { text: 'ldp(x2, x2, sp, 0)', run: () => a64.ldp(Reg.x2, Reg.x2, Reg.sp, 0), mentions: ['ldp', 'Rt2'] },
        { text: 'movz(x0, 0x10000)', run: () => a64.movz(Reg.x0, 0x10000), mentions: ['movz', 'imm16'] },
        { text: 'movk(x0, 1, 8)', run: () => a64.movk(Reg.x0, 1, 8), mentions: ['movk', 'shift'] },
        { text: 'lsl_imm(x0, x1, 64)', run: () => a64.lsl_imm(Reg.x0, Reg.x1, 64), mentions: ['lsl', 'shift'] },
        { text: 'b(2)', run: () => a64.b(2), mentions: ['b', 'multiple of 4'] },
        { text: 'b(2**27)', run: () => a64.b(2 ** 27), mentions: ['b', 'imm26'] },
        { text: 'bl(-(2**27) - 4)', run: () => a64.bl(-(2 ** 27) - 4), mentions: ['bl', 'imm26'] },
        { text: 'b_cond(eq, 2**20)', run: () => a64.b_cond(Cond.eq, 2 ** 20), mentions: ['b.eq', 'imm19'] },
        { text: 'cbnz(x0, -(2**20) - 4)', run: () => a64.cbnz(Reg.x0, -(2 ** 20) - 4), mentions: ['cbnz', 'imm19'] },
        { text: 'tbz(x0, 64, 0)', run: () => a64.tbz(Reg.x0, 64, 0), mentions: ['tbz', 'bit'] },
        { text: 'tbnz(x0, 1, 2**15)', run: () => a64.tbnz(Reg.x0, 1, 2 ** 15), mentions: ['tbnz', 'imm14'] },
        { text: 'cset(x0, al)', run: () => a64.cset(Reg.x0, Cond.al), mentions: ['cset', 'cond'] },
        { text: 'ldr_reg(x0, x1, x2, 2)', run: () => a64.ldr_reg(Reg.x0, Reg.x1, Reg.x2, 2), mentions: ['ldr', 'shift'] },
        { text: 'adr(x0, 2**20)', run: () => a64.adr(Reg.x0, 2 ** 20), mentions: ['adr', 'imm21'] },
        { text: 'adr(x0, -(2**20) - 1)', run: () => a64.adr(Reg.x0, -(2 ** 20) - 1), mentions: ['adr', 'imm21'] },
        { text: 'udf(0x10000)', run: () => a64.udf(0x10000), mentions: ['udf', 'imm16'] },
      ],
      thrownBy,
    );
  },
  {
    hints: [
      'Every field has a width, and the Arm manual says what values it may take. An encoder that masks a value into its field silently builds a different instruction.',
      'Throw `new RangeError(`${instruction text}: ${field} must be …`)`: the message must contain the mnemonic and the field (imm12, offset, imm16, shift, imm26, imm19, imm14, bit, cond, Rn, Rt2).',
      'Branch offsets: a multiple of 4, and within ±2^27 (imm26), ±2^20 (imm19) or ±2^15 (imm14) bytes. Scaled ldr/str: a multiple of 8 in 0..32760.',
    ],
  },
);
