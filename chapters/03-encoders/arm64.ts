/**
 * Chapter 03: an AArch64 instruction encoder for the subset the workbook needs.
 *
 * Every AArch64 instruction is one 32-bit word. The Arm manual groups instructions into
 * encoding classes ("Add/subtract (immediate)", "Load/store register (unsigned
 * immediate)", …); each class fixes some bits and leaves named fields (Rd, Rn, imm12, …)
 * for the operands. This file has one function per class, which packs fields into a word,
 * and on top of those the instructions and aliases, which check their operands and say
 * which class and fields they use. All operations are 64-bit (sf = 1, X registers).
 *
 * Every function is pure and returns the instruction word as an unsigned number; use
 * `CodeBuffer.emit32` to append it. Out-of-range operands throw a RangeError that names
 * the instruction and the field: `add x0, x1, #5000: imm12 must be …`.
 *
 * Register 31 is two different registers. In most fields it is XZR (reads as zero,
 * writes are discarded); in the base register of a load or store and in add/sub
 * (immediate) it is SP. So here XZR and SP are different values (31 and 32), both encoded
 * as 31, and every field says which one it accepts: passing the other is a RangeError,
 * never a silently wrong instruction.
 */
import { todo } from '#native/todo.ts';
// TODO: replace every `todo(...)` with the encoding. book/03-encoders.md shows how to
//       read the Arm manual's encoding diagrams; run `npm run check chapter-03` after each family.

/** x0..x30, xzr (31) and sp (32). fp and lr are the usual names of x29 and x30. */
export const Reg = {
  x0: 0, x1: 1, x2: 2, x3: 3, x4: 4, x5: 5, x6: 6, x7: 7,
  x8: 8, x9: 9, x10: 10, x11: 11, x12: 12, x13: 13, x14: 14, x15: 15,
  x16: 16, x17: 17, x18: 18, x19: 19, x20: 20, x21: 21, x22: 22, x23: 23,
  x24: 24, x25: 25, x26: 26, x27: 27, x28: 28, x29: 29, x30: 30,
  fp: 29, lr: 30, xzr: 31, sp: 32,
} as const;
export type Reg = (typeof Reg)[keyof typeof Reg];

/** The name of a register as the assembler writes it: x0, …, x30, xzr, sp. */
export function regName(r: number): string {
  return r === Reg.sp ? 'sp' : r === Reg.xzr ? 'xzr' : Number.isInteger(r) && r >= 0 && r < 31 ? `x${r}` : `?${r}`;
}

/**
 * Condition codes, as the 4-bit cond field holds them. Pairs differ in bit 0, so the
 * opposite condition is `cc ^ 1` (except al/nv, which both mean "always").
 * hs/lo/hi/ls compare unsigned; ge/lt/gt/le compare signed.
 */
export const Cond = {
  eq: 0, ne: 1, hs: 2, lo: 3, mi: 4, pl: 5, vs: 6, vc: 7,
  hi: 8, ls: 9, ge: 10, lt: 11, gt: 12, le: 13, al: 14, nv: 15,
} as const;
export type Cond = (typeof Cond)[keyof typeof Cond];

export const COND_NAMES: readonly string[] = [
  'eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv',
];

/** The condition that holds exactly when `cc` does not. */
export function negate(cc: Cond): Cond {
  if (cc === Cond.al || cc === Cond.nv) throw new RangeError(`negate: ${COND_NAMES[cc]} has no opposite`);
  return (cc ^ 1) as Cond;
}

/** The shift applied to the second register of a shifted-register instruction. */
export const Shift = { lsl: 0, lsr: 1, asr: 2, ror: 3 } as const;
export type Shift = (typeof Shift)[keyof typeof Shift];
export const SHIFT_NAMES: readonly string[] = ['lsl', 'lsr', 'asr', 'ror'];

// ---------------------------------------------------------------------------------------
// Encoding classes. Each packs already-checked field values; `field` guards the widths so
// that a bug above can never spill into a neighbouring field.

/** `value` as an unsigned field `width` bits wide, placed at bit `lsb`. */
function field(value: number, width: number, lsb: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** width) {
    throw new RangeError(`${name} must fit in ${width} bits, got ${value}`);
  }
  return value * 2 ** lsb; // not <<: a field reaching bit 31 would turn negative
}

/** Joins fields into an instruction word (they never overlap, so + is |). */
function word(...fields: number[]): number {
  return fields.reduce((a, b) => a + b, 0) >>> 0;
}

/**
 * Add/subtract (immediate)
 *   31 sf | 30 op | 29 S | 28..23 100010 | 22 sh | 21..10 imm12 | 9..5 Rn | 4..0 Rd
 * op: 0 add, 1 sub. S: set flags. sh: imm12 is shifted left by 12.
 */
export function addSubImmediate(op: number, s: number, sh: number, imm12: number, rn: number, rd: number): number {
  return word(
    field(1, 1, 31, 'sf'), field(op, 1, 30, 'op'), field(s, 1, 29, 'S'),
    field(0b100010, 6, 23, 'class'), field(sh, 1, 22, 'sh'), field(imm12, 12, 10, 'imm12'),
    field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'),
  );
}

/**
 * Add/subtract (shifted register)
 *   31 sf | 30 op | 29 S | 28..24 01011 | 23..22 shift | 21 0 | 20..16 Rm | 15..10 imm6 | 9..5 Rn | 4..0 Rd
 */
export function addSubShiftedRegister(op: number, s: number, shift: number, rm: number, imm6: number, rn: number, rd: number): number {
  return todo('arm64.addSubShiftedRegister');
}

/**
 * Logical (shifted register)
 *   31 sf | 30..29 opc | 28..24 01010 | 23..22 shift | 21 N | 20..16 Rm | 15..10 imm6 | 9..5 Rn | 4..0 Rd
 * opc: 00 and, 01 orr, 10 eor, 11 ands. N: invert Rm (bic, orn, eon, bics).
 */
export function logicalShiftedRegister(opc: number, shift: number, n: number, rm: number, imm6: number, rn: number, rd: number): number {
  // TODO: opc: 00 and, 01 orr, 10 eor, 11 ands. N: invert Rm (bic, orn).
  return todo('arm64.logicalShiftedRegister');
}

/**
 * Logical (immediate)
 *   31 sf | 30..29 opc | 28..23 100100 | 22 N | 21..16 immr | 15..10 imms | 9..5 Rn | 4..0 Rd
 */
export function logicalImmediate(opc: number, n: number, immr: number, imms: number, rn: number, rd: number): number {
  return todo('arm64.logicalImmediate');
}

/**
 * Move wide (immediate)
 *   31 sf | 30..29 opc | 28..23 100101 | 22..21 hw | 20..5 imm16 | 4..0 Rd
 * opc: 00 movn, 10 movz, 11 movk. The immediate is shifted left by hw*16.
 */
export function moveWide(opc: number, hw: number, imm16: number, rd: number): number {
  return todo('arm64.moveWide');
}

/**
 * Bitfield
 *   31 sf | 30..29 opc | 28..23 100110 | 22 N | 21..16 immr | 15..10 imms | 9..5 Rn | 4..0 Rd
 * opc: 00 sbfm, 10 ubfm. N must equal sf.
 */
export function bitfield(opc: number, immr: number, imms: number, rn: number, rd: number): number {
  // TODO: opc: 00 sbfm, 10 ubfm. N must equal sf (1).
  return todo('arm64.bitfield');
}

/**
 * Data-processing (3 source)
 *   31 sf | 30..29 00 | 28..24 11011 | 23..21 op31 | 20..16 Rm | 15 o0 | 14..10 Ra | 9..5 Rn | 4..0 Rd
 * op31 000: madd (o0 0) / msub (o0 1); op31 010: smulh.
 */
export function dataProcessing3(op31: number, o0: number, rm: number, ra: number, rn: number, rd: number): number {
  return todo('arm64.dataProcessing3');
}

/**
 * Data-processing (2 source)
 *   31 sf | 30 0 | 29 S | 28..21 11010110 | 20..16 Rm | 15..10 opcode | 9..5 Rn | 4..0 Rd
 * opcode: 000010 udiv, 000011 sdiv, 001000 lslv, 001001 lsrv, 001010 asrv.
 */
export function dataProcessing2(opcode: number, rm: number, rn: number, rd: number): number {
  return todo('arm64.dataProcessing2');
}

/**
 * Conditional select
 *   31 sf | 30 op | 29 S | 28..21 11010100 | 20..16 Rm | 15..12 cond | 11..10 o2 | 9..5 Rn | 4..0 Rd
 * (op, o2): (0,0) csel, (0,1) csinc, (1,0) csinv, (1,1) csneg.
 */
export function conditionalSelect(op: number, o2: number, rm: number, cond: number, rn: number, rd: number): number {
  return todo('arm64.conditionalSelect');
}

/**
 * Load/store register (unsigned immediate)
 *   31..30 size | 29..27 111 | 26 V | 25..24 01 | 23..22 opc | 21..10 imm12 | 9..5 Rn | 4..0 Rt
 * size 11: 64-bit. opc: 00 store, 01 load. The byte offset is imm12 << size.
 */
export function loadStoreUnsignedImmediate(opc: number, imm12: number, rn: number, rt: number): number {
  // TODO: size 11: 64-bit. V 0: general registers. opc: 00 store, 01 load. The byte offset is imm12 << 3.
  return todo('arm64.loadStoreUnsignedImmediate');
}

/**
 * Load/store register (unscaled immediate, immediate post-indexed, immediate pre-indexed)
 *   31..30 size | 29..27 111 | 26 V | 25..24 00 | 23..22 opc | 21 0 | 20..12 imm9 | 11..10 mode | 9..5 Rn | 4..0 Rt
 * mode: 00 unscaled (ldur/stur), 01 post-index, 11 pre-index. imm9 is a signed byte offset.
 */
export function loadStoreImm9(opc: number, imm9: number, mode: number, rn: number, rt: number): number {
  return todo('arm64.loadStoreImm9');
}

/**
 * Load/store register pair (post-indexed, signed offset, pre-indexed)
 *   31..30 opc | 29..27 101 | 26 V | 25..23 mode | 22 L | 21..15 imm7 | 14..10 Rt2 | 9..5 Rn | 4..0 Rt
 * opc 10: 64-bit. mode: 001 post-index, 010 signed offset, 011 pre-index. L: 1 load.
 * The byte offset is imm7 * 8 (imm7 signed).
 */
export function loadStorePair(mode: number, l: number, imm7: number, rt2: number, rn: number, rt: number): number {
  return todo('arm64.loadStorePair');
}

/**
 * Load/store register (register offset)
 *   31..30 size | 29..27 111 | 26 V | 25..24 00 | 23..22 opc | 21 1 | 20..16 Rm | 15..13 option | 12 S | 11..10 10 | 9..5 Rn | 4..0 Rt
 * option 011: Rm is used whole (LSL). S: 1 scales Rm by the access size (lsl #3), 0 adds it as is.
 */
export function loadStoreRegisterOffset(opc: number, rm: number, option: number, s: number, rn: number, rt: number): number {
  return todo('arm64.loadStoreRegisterOffset');
}

/**
 * PC-rel. addressing
 *   31 op | 30..29 immlo | 28..24 10000 | 23..5 immhi | 4..0 Rd
 * op 0: adr. The 21-bit signed byte offset is immhi:immlo, counted from this instruction.
 */
export function pcRelativeAddressing(op: number, imm21: number, rd: number): number {
  return todo('arm64.pcRelativeAddressing');
}

/**
 * Unconditional branch (immediate)
 *   31 op | 30..26 00101 | 25..0 imm26       op: 0 b, 1 bl. Target: this instruction + imm26*4.
 */
export function unconditionalBranchImmediate(op: number, imm26: number): number {
  return todo('arm64.unconditionalBranchImmediate');
}

/**
 * Conditional branch (immediate)
 *   31..24 01010100 | 23..5 imm19 | 4 0 | 3..0 cond
 */
export function conditionalBranch(imm19: number, cond: number): number {
  return todo('arm64.conditionalBranch');
}

/**
 * Compare and branch (immediate)
 *   31 sf | 30..25 011010 | 24 op | 23..5 imm19 | 4..0 Rt      op: 0 cbz, 1 cbnz
 */
export function compareAndBranch(op: number, imm19: number, rt: number): number {
  return todo('arm64.compareAndBranch');
}

/**
 * Test and branch (immediate)
 *   31 b5 | 30..25 011011 | 24 op | 23..19 b40 | 18..5 imm14 | 4..0 Rt      op: 0 tbz, 1 tbnz
 */
export function testAndBranch(op: number, bit: number, imm14: number, rt: number): number {
  // TODO: `bit` is 0..63: b5 is its bit 5, b40 its low five bits.
  return todo('arm64.testAndBranch');
}

/**
 * Unconditional branch (register)
 *   31..25 1101011 | 24..21 opc | 20..16 11111 | 15..10 000000 | 9..5 Rn | 4..0 00000
 * opc: 0000 br, 0001 blr, 0010 ret.
 */
export function unconditionalBranchRegister(opc: number, rn: number): number {
  return todo('arm64.unconditionalBranchRegister');
}

/**
 * Exception generation
 *   31..24 11010100 | 23..21 opc | 20..5 imm16 | 4..2 000 | 1..0 LL      brk: opc 001, LL 00
 */
export function exceptionGeneration(opc: number, imm16: number, ll: number): number {
  return todo('arm64.exceptionGeneration');
}

// ---------------------------------------------------------------------------------------
// Register fields. Each says whether 31 means sp or xzr in that field.

/** A field where register 31 is XZR: x0..x30 or xzr; sp is refused. */
function zr(insn: string, name: string, r: number): number {
  // TODO: A field where register 31 is XZR: accepts x0..x30 and Reg.xzr and returns the field value
  //       (0..31); refuses Reg.sp with a RangeError like `add x0, sp, x1: Rn cannot be sp: in this
  //       field register 31 means xzr`. `insn` is the instruction text, `name` the field (Rd, Rn, …).
  return todo('arm64 zr (a register field where 31 means xzr)');
}

/** A field where register 31 is SP: x0..x30 or sp; xzr is refused. */
function sp(insn: string, name: string, r: number): number {
  // TODO: A field where register 31 is SP: accepts x0..x30 and Reg.sp (returning 31); refuses Reg.xzr.
  return todo('arm64 sp (a register field where 31 means sp)');
}

// ---------------------------------------------------------------------------------------
// Add and subtract

/**
 * The shared body of add/adds/sub/subs (immediate), A WORKED EXAMPLE of an instruction:
 * it checks every operand, choosing which registers 31 may mean, and picks the sh bit.
 */
function addSubImm(name: string, op: number, s: number, rd: Reg, rn: Reg, imm: number): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, #${imm}`;
  // Flag-setting forms write XZR (that is how cmp discards its result); the others write SP.
  const d = s ? zr(insn, 'Rd', rd) : sp(insn, 'Rd', rd);
  const n = sp(insn, 'Rn', rn);
  if (Number.isInteger(imm) && imm >= 0 && imm <= 0xfff) return addSubImmediate(op, s, 0, imm, n, d);
  if (Number.isInteger(imm) && imm > 0 && imm % 0x1000 === 0 && imm <= 0xfff000) {
    return addSubImmediate(op, s, 1, imm / 0x1000, n, d);
  }
  fail(insn, 'imm12 must be 0..4095 (or a multiple of 4096 up to 4095<<12 with lsl #12)');
}

/** add rd, rn, #imm   (rd and rn may be sp) */
export function add_imm(rd: Reg, rn: Reg, imm: number): number {
  return addSubImm('add', 0, 0, rd, rn, imm);
}

/** adds rd, rn, #imm   (rd may be xzr, rn may be sp) */
export function adds_imm(rd: Reg, rn: Reg, imm: number): number {
  return todo('arm64.adds_imm');
}

/** sub rd, rn, #imm   (rd and rn may be sp) */
export function sub_imm(rd: Reg, rn: Reg, imm: number): number {
  return todo('arm64.sub_imm');
}

/** subs rd, rn, #imm */
export function subs_imm(rd: Reg, rn: Reg, imm: number): number {
  return todo('arm64.subs_imm');
}

/** cmp rn, #imm  =  subs xzr, rn, #imm */
export function cmp_imm(rn: Reg, imm: number): number {
  return todo('arm64.cmp_imm');
}

/** cmn rn, #imm  =  adds xzr, rn, #imm */
export function cmn_imm(rn: Reg, imm: number): number {
  return todo('arm64.cmn_imm');
}

function addSubReg(name: string, op: number, s: number, rd: Reg, rn: Reg, rm: Reg, shift: Shift, amount: number): number {
  return todo('arm64.addSubReg');
}

/** add rd, rn, rm{, shift #amount}   (no sp here: 31 is xzr; use add_imm for sp) */
export function add_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  // TODO: add rd, rn, rm{, shift #amount}: Add/subtract (shifted register). Every register field
  //       here means xzr by 31 (sp is a RangeError: use add_imm #0 to involve sp). shift is
  //       lsl/lsr/asr (ror is a RangeError), amount 0..63 (else RangeError mentioning "shift").
  return todo('arm64.add_reg');
}

/** adds rd, rn, rm{, shift #amount} */
export function adds_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.adds_reg');
}

/** sub rd, rn, rm{, shift #amount} */
export function sub_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.sub_reg');
}

/** subs rd, rn, rm{, shift #amount} */
export function subs_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.subs_reg');
}

/** cmp rn, rm  =  subs xzr, rn, rm */
export function cmp_reg(rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.cmp_reg');
}

/** cmn rn, rm  =  adds xzr, rn, rm */
export function cmn_reg(rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.cmn_reg');
}

/** neg rd, rm  =  sub rd, xzr, rm */
export function neg(rd: Reg, rm: Reg): number {
  return todo('arm64.neg');
}

// ---------------------------------------------------------------------------------------
// Logical

function logicalReg(name: string, opc: number, n: number, rd: Reg, rn: Reg, rm: Reg, shift: Shift, amount: number): number {
  return todo('arm64.logicalReg');
}

/** and rd, rn, rm{, shift #amount} */
export function and_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.and_reg');
}

/** orr rd, rn, rm{, shift #amount} */
export function orr_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.orr_reg');
}

/** eor rd, rn, rm{, shift #amount} */
export function eor_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.eor_reg');
}

/** ands rd, rn, rm{, shift #amount} */
export function ands_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return todo('arm64.ands_reg');
}

/** bic rd, rn, rm: rd = rn & ~rm */
export function bic_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  // TODO: bic rd, rn, rm: rd = rn & ~rm (and with N = 1)
  return todo('arm64.bic_reg');
}

/** mvn rd, rm  =  orn rd, xzr, rm */
export function mvn(rd: Reg, rm: Reg): number {
  // TODO: mvn rd, rm  =  orn rd, xzr, rm (orr with N = 1)
  return todo('arm64.mvn');
}

/** tst rn, rm  =  ands xzr, rn, rm */
export function tst_reg(rn: Reg, rm: Reg): number {
  return todo('arm64.tst_reg');
}

/**
 * mov rd, rm. Two different instructions hide behind this one name:
 *   orr rd, xzr, rm     when neither is sp (in orr, register 31 means xzr)
 *   add rd, rm, #0      when either is sp  (in add immediate, register 31 means sp)
 */
export function mov_reg(rd: Reg, rm: Reg): number {
  return todo('arm64.mov_reg');
}

/**
 * The (N, immr, imms) fields for a logical immediate, or null if `value` has none.
 * A bitmask immediate is a pattern of `size` bits (2, 4, …, 64) repeated to fill 64 bits,
 * where the pattern is a run of 1..size-1 ones, rotated right by 0..size-1. So 0 and ~0
 * cannot be encoded, nor 0x5, nor most other numbers.
 */
export function encodeBitmask(value: bigint): { n: number; immr: number; imms: number } | null {
  // TODO:   1. find the smallest size whose low `size` bits, repeated, give back the value;
  //         2. count the ones in that element; find r in 0..size-1 with ror(run of ones, r) === element
  //            (no such r: null);
  //         3. N = size === 64 ? 1 : 0, immr = r, imms = (~(2 * size - 1) & 0x3f) | (ones - 1).
  return todo('arm64.encodeBitmask');
}

function repeats(v: bigint, size: number): boolean {
  return todo('arm64.repeats');
}

function popcount(v: bigint): number {
  return todo('arm64.popcount');
}

function rotateRight(v: bigint, r: number, size: number): bigint {
  return todo('arm64.rotateRight');
}

function logicalImm(name: string, opc: number, rd: Reg, rn: Reg, imm: bigint): number {
  return todo('arm64.logicalImm');
}

/** and rd, rn, #imm   (rd may be sp) */
export function and_imm(rd: Reg, rn: Reg, imm: bigint): number {
  // TODO: and rd, rn, #imm: Logical (immediate) with the fields from encodeBitmask; a value with
  //       no encoding is a RangeError mentioning "imm". Rd may be sp (31 = sp here, so a program
  //       can align sp), Rn 31 is xzr. For ands and tst, Rd 31 is xzr.
  return todo('arm64.and_imm');
}

/** orr rd, rn, #imm   (rd may be sp) */
export function orr_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return todo('arm64.orr_imm');
}

/** eor rd, rn, #imm   (rd may be sp) */
export function eor_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return todo('arm64.eor_imm');
}

/** ands rd, rn, #imm */
export function ands_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return todo('arm64.ands_imm');
}

/** tst rn, #imm  =  ands xzr, rn, #imm */
export function tst_imm(rn: Reg, imm: bigint): number {
  return todo('arm64.tst_imm');
}

// ---------------------------------------------------------------------------------------
// Move wide

function moveWideImm(name: string, opc: number, rd: Reg, imm16: number, shift: number): number {
  return todo('arm64.moveWideImm');
}

/** movz rd, #imm16, lsl #shift: rd = imm16 << shift, all other bits zero */
export function movz(rd: Reg, imm16: number, shift = 0): number {
  return todo('arm64.movz');
}

/** movk rd, #imm16, lsl #shift: replaces 16 bits of rd, keeps the other 48 */
export function movk(rd: Reg, imm16: number, shift = 0): number {
  return todo('arm64.movk');
}

/** movn rd, #imm16, lsl #shift: rd = ~(imm16 << shift) */
export function movn(rd: Reg, imm16: number, shift = 0): number {
  return todo('arm64.movn');
}

// ---------------------------------------------------------------------------------------
// Multiply, divide, shifts

function threeSource(name: string, op31: number, o0: number, rd: Reg, rn: Reg, rm: Reg, ra: Reg): number {
  return todo('arm64.threeSource');
}

/** madd rd, rn, rm, ra: rd = ra + rn*rm */
export function madd(rd: Reg, rn: Reg, rm: Reg, ra: Reg): number {
  return todo('arm64.madd');
}

/** msub rd, rn, rm, ra: rd = ra - rn*rm (with sdiv, the remainder) */
export function msub(rd: Reg, rn: Reg, rm: Reg, ra: Reg): number {
  return todo('arm64.msub');
}

/** mul rd, rn, rm  =  madd rd, rn, rm, xzr */
export function mul(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.mul');
}

/** smulh rd, rn, rm: the high 64 bits of the signed 128-bit product (Ra is 11111) */
export function smulh(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.smulh');
}

function twoSource(name: string, opcode: number, rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.twoSource');
}

/** sdiv rd, rn, rm: signed, rounds toward zero; x / 0 gives 0 (no trap) */
export function sdiv(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.sdiv');
}

/** udiv rd, rn, rm */
export function udiv(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.udiv');
}

/** lslv rd, rn, rm (written `lsl rd, rn, rm`): shift by rm mod 64 */
export function lslv(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.lslv');
}

/** lsrv rd, rn, rm */
export function lsrv(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.lsrv');
}

/** asrv rd, rn, rm */
export function asrv(rd: Reg, rn: Reg, rm: Reg): number {
  return todo('arm64.asrv');
}

function bitfieldMove(name: string, opc: number, rd: Reg, rn: Reg, immr: number, imms: number, shown: string): number {
  return todo('arm64.bitfieldMove');
}

/** ubfm rd, rn, #immr, #imms (unsigned bitfield move; lsl/lsr/ubfx are aliases) */
export function ubfm(rd: Reg, rn: Reg, immr: number, imms: number): number {
  // TODO: ubfm rd, rn, #immr, #imms (unsigned bitfield move; immr and imms 0..63)
  return todo('arm64.ubfm');
}

/** sbfm rd, rn, #immr, #imms (signed bitfield move; asr/sxtw/sbfx are aliases) */
export function sbfm(rd: Reg, rn: Reg, immr: number, imms: number): number {
  // TODO: sbfm rd, rn, #immr, #imms (signed bitfield move)
  return todo('arm64.sbfm');
}

/** lsl rd, rn, #shift  =  ubfm rd, rn, #(-shift mod 64), #(63 - shift) */
export function lsl_imm(rd: Reg, rn: Reg, shift: number): number {
  // TODO: lsl rd, rn, #shift  =  ubfm rd, rn, #(-shift mod 64), #(63 - shift); shift 0..63
  return todo('arm64.lsl_imm');
}

/** lsr rd, rn, #shift  =  ubfm rd, rn, #shift, #63 */
export function lsr_imm(rd: Reg, rn: Reg, shift: number): number {
  return todo('arm64.lsr_imm');
}

/** asr rd, rn, #shift  =  sbfm rd, rn, #shift, #63 */
export function asr_imm(rd: Reg, rn: Reg, shift: number): number {
  return todo('arm64.asr_imm');
}

// ---------------------------------------------------------------------------------------
// Loads and stores. In all of them the base Rn may be sp and the data register Rt may be xzr.

function scaled(name: string, opc: number, rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.scaled');
}

/** ldr rt, [rn, #offset]   (offset: 0..32760, a multiple of 8) */
export function ldr_imm(rt: Reg, rn: Reg, offset = 0): number {
  // TODO: ldr rt, [rn, #offset]: the unsigned scaled form, offset 0..32760 and a multiple of 8
  //       (imm12 = offset / 8). Errors like `ldr x0, [x1, #3]: offset must be a multiple of 8 for
  //       a 64-bit scaled load`.
  return todo('arm64.ldr_imm');
}

/** str rt, [rn, #offset]   (offset: 0..32760, a multiple of 8) */
export function str_imm(rt: Reg, rn: Reg, offset = 0): number {
  return todo('arm64.str_imm');
}

function registerOffset(name: string, opc: number, rt: Reg, rn: Reg, rm: Reg, shift: number): number {
  return todo('arm64.registerOffset');
}

/** ldr rt, [rn, rm, lsl #shift]: load from rn + (rm << shift); shift 3 (index * 8) or 0 */
export function ldr_reg(rt: Reg, rn: Reg, rm: Reg, shift = 3): number {
  return todo('arm64.ldr_reg');
}

/** str rt, [rn, rm, lsl #shift] */
export function str_reg(rt: Reg, rn: Reg, rm: Reg, shift = 3): number {
  return todo('arm64.str_reg');
}

function imm9(name: string, opc: number, mode: number, rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.imm9');
}

/** ldur rt, [rn, #offset]   (unscaled: any byte offset -256..255) */
export function ldur(rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.ldur');
}

/** stur rt, [rn, #offset] */
export function stur(rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.stur');
}

/** ldr rt, [rn, #offset]!   (pre-index: rn += offset, then load from rn) */
export function ldr_pre(rt: Reg, rn: Reg, offset: number): number {
  // TODO: ldr rt, [rn, #offset]!   (pre-index: rn += offset, then load from rn; -256..255)
  return todo('arm64.ldr_pre');
}

/** ldr rt, [rn], #offset   (post-index: load from rn, then rn += offset) */
export function ldr_post(rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.ldr_post');
}

/** str rt, [rn, #offset]! */
export function str_pre(rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.str_pre');
}

/** str rt, [rn], #offset */
export function str_post(rt: Reg, rn: Reg, offset: number): number {
  return todo('arm64.str_post');
}

function pair(name: string, l: number, mode: number, rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return todo('arm64.pair');
}

/** ldp rt, rt2, [rn, #offset]   (offset: -512..504, a multiple of 8) */
export function ldp(rt: Reg, rt2: Reg, rn: Reg, offset = 0): number {
  // TODO: ldp rt, rt2, [rn, #offset]: offset -512..504, a multiple of 8 (imm7 = offset / 8).
  //       A load pair with rt === rt2 is a RangeError (mention Rt2), and so is writeback into Rt or Rt2.
  return todo('arm64.ldp');
}

/** stp rt, rt2, [rn, #offset] */
export function stp(rt: Reg, rt2: Reg, rn: Reg, offset = 0): number {
  return todo('arm64.stp');
}

/** ldp rt, rt2, [rn, #offset]! */
export function ldp_pre(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return todo('arm64.ldp_pre');
}

/** ldp rt, rt2, [rn], #offset   (the usual epilogue: ldp fp, lr, [sp], #16) */
export function ldp_post(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return todo('arm64.ldp_post');
}

/** stp rt, rt2, [rn, #offset]!   (the usual prologue: stp fp, lr, [sp, #-16]!) */
export function stp_pre(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return todo('arm64.stp_pre');
}

/** stp rt, rt2, [rn], #offset */
export function stp_post(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return todo('arm64.stp_post');
}

// ---------------------------------------------------------------------------------------
// Branches. `offset` is in bytes from THIS instruction to the target (not from its end).

function branchOffset(insn: string, field: string, offset: number, bits: number): number {
  return todo('arm64.branchOffset');
}

/** b offset */
export function b(offset: number): number {
  // TODO: b offset   (imm26: -2^27 .. 2^27-4 bytes)
  return todo('arm64.b');
}

/** b.cond offset */
export function b_cond(cond: Cond, offset: number): number {
  // TODO: b.cond offset   (imm19: -2^20 .. 2^20-4 bytes; the mnemonic in errors is b.eq, b.lt, …)
  return todo('arm64.b_cond');
}

/** bl offset: branch and put the return address in x30 */
export function bl(offset: number): number {
  return todo('arm64.bl');
}

/** cbz rt, offset: branch if rt == 0 */
export function cbz(rt: Reg, offset: number): number {
  // TODO: cbz rt, offset: branch if rt == 0   (imm19)
  return todo('arm64.cbz');
}

/** cbnz rt, offset: branch if rt != 0 */
export function cbnz(rt: Reg, offset: number): number {
  return todo('arm64.cbnz');
}

function testBranch(name: string, op: number, rt: Reg, bit: number, offset: number): number {
  return todo('arm64.testBranch');
}

/** tbz rt, #bit, offset: branch if bit `bit` of rt is 0 */
export function tbz(rt: Reg, bit: number, offset: number): number {
  // TODO: tbz rt, #bit, offset: branch if bit `bit` (0..63, else RangeError: bit) of rt is 0   (imm14)
  return todo('arm64.tbz');
}

/** tbnz rt, #bit, offset: branch if bit `bit` of rt is 1 */
export function tbnz(rt: Reg, bit: number, offset: number): number {
  return todo('arm64.tbnz');
}

/** adr rd, offset: rd = the address of this instruction + offset (-1 MiB..1 MiB - 1, any byte) */
export function adr(rd: Reg, offset: number): number {
  return todo('arm64.adr');
}

/** br rn: jump to the address in rn */
export function br(rn: Reg): number {
  return todo('arm64.br');
}

/** blr rn: call the address in rn (return address in x30) */
export function blr(rn: Reg): number {
  return todo('arm64.blr');
}

/** ret {rn}: return to the address in rn, x30 unless told otherwise */
export function ret(rn: Reg = Reg.lr): number {
  return todo('arm64.ret');
}

// ---------------------------------------------------------------------------------------
// Conditional select

function select(name: string, op: number, o2: number, rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return todo('arm64.select');
}

/** csel rd, rn, rm, cond: rd = cond ? rn : rm */
export function csel(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return todo('arm64.csel');
}

/** csinc rd, rn, rm, cond: rd = cond ? rn : rm + 1 */
export function csinc(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return todo('arm64.csinc');
}

/** csinv rd, rn, rm, cond: rd = cond ? rn : ~rm */
export function csinv(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return todo('arm64.csinv');
}

/** csneg rd, rn, rm, cond: rd = cond ? rn : -rm */
export function csneg(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return todo('arm64.csneg');
}

/** cset rd, cond: rd = cond ? 1 : 0  =  csinc rd, xzr, xzr, (cond ^ 1) */
export function cset(rd: Reg, cond: Cond): number {
  // TODO: cset rd, cond: rd = cond ? 1 : 0  =  csinc rd, xzr, xzr, (cond ^ 1). al/nv: RangeError (cond).
  return todo('arm64.cset');
}

// ---------------------------------------------------------------------------------------
// Traps and padding

/** udf #imm16: permanently undefined, raises SIGILL. The word is just imm16. */
export function udf(imm16 = 0): number {
  // TODO: udf #imm16: permanently undefined, raises SIGILL. The word is just imm16 (0..65535).
  return todo('arm64.udf');
}

/** brk #imm16: a breakpoint, raises SIGTRAP */
export function brk(imm16 = 0): number {
  // TODO: brk #imm16: a breakpoint, raises SIGTRAP (Exception generation, opc 001, LL 00)
  return todo('arm64.brk');
}

/** nop (the hint instruction with all-zero op fields) */
export function nop(): number {
  // TODO: nop: the fixed word 0xd503201f
  return todo('arm64.nop');
}

// ---------------------------------------------------------------------------------------

function fail(insn: string, message: string): never {
  throw new RangeError(`${insn}: ${message}`);
}

/** Throws unless `amount` is 0..63 (the imm6 of a shifted register, or a shift by immediate). */
function shiftAmount(insn: string, amount: number): void {
  if (!Number.isInteger(amount) || amount < 0 || amount > 63) fail(insn, 'shift amount (imm6) must be 0..63');
}
