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

// @book:start field
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
// @book:end field

// @book:start class-addsub-imm
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
// @book:end class-addsub-imm

/**
 * Add/subtract (shifted register)
 *   31 sf | 30 op | 29 S | 28..24 01011 | 23..22 shift | 21 0 | 20..16 Rm | 15..10 imm6 | 9..5 Rn | 4..0 Rd
 */
export function addSubShiftedRegister(op: number, s: number, shift: number, rm: number, imm6: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(op, 1, 30, 'op'), field(s, 1, 29, 'S'), field(0b01011, 5, 24, 'class'),
    field(shift, 2, 22, 'shift'), field(rm, 5, 16, 'Rm'), field(imm6, 6, 10, 'imm6'), field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Logical (shifted register)
 *   31 sf | 30..29 opc | 28..24 01010 | 23..22 shift | 21 N | 20..16 Rm | 15..10 imm6 | 9..5 Rn | 4..0 Rd
 * opc: 00 and, 01 orr, 10 eor, 11 ands. N: invert Rm (bic, orn, eon, bics).
 */
export function logicalShiftedRegister(opc: number, shift: number, n: number, rm: number, imm6: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(opc, 2, 29, 'opc'), field(0b01010, 5, 24, 'class'), field(shift, 2, 22, 'shift'),
    field(n, 1, 21, 'N'), field(rm, 5, 16, 'Rm'), field(imm6, 6, 10, 'imm6'), field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Logical (immediate)
 *   31 sf | 30..29 opc | 28..23 100100 | 22 N | 21..16 immr | 15..10 imms | 9..5 Rn | 4..0 Rd
 */
export function logicalImmediate(opc: number, n: number, immr: number, imms: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(opc, 2, 29, 'opc'), field(0b100100, 6, 23, 'class'), field(n, 1, 22, 'N'),
    field(immr, 6, 16, 'immr'), field(imms, 6, 10, 'imms'), field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Move wide (immediate)
 *   31 sf | 30..29 opc | 28..23 100101 | 22..21 hw | 20..5 imm16 | 4..0 Rd
 * opc: 00 movn, 10 movz, 11 movk. The immediate is shifted left by hw*16.
 */
export function moveWide(opc: number, hw: number, imm16: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(opc, 2, 29, 'opc'), field(0b100101, 6, 23, 'class'), field(hw, 2, 21, 'hw'),
    field(imm16, 16, 5, 'imm16'), field(rd, 5, 0, 'Rd'));
}

/**
 * Bitfield
 *   31 sf | 30..29 opc | 28..23 100110 | 22 N | 21..16 immr | 15..10 imms | 9..5 Rn | 4..0 Rd
 * opc: 00 sbfm, 10 ubfm. N must equal sf.
 */
export function bitfield(opc: number, immr: number, imms: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(opc, 2, 29, 'opc'), field(0b100110, 6, 23, 'class'), field(1, 1, 22, 'N'),
    field(immr, 6, 16, 'immr'), field(imms, 6, 10, 'imms'), field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Data-processing (3 source)
 *   31 sf | 30..29 00 | 28..24 11011 | 23..21 op31 | 20..16 Rm | 15 o0 | 14..10 Ra | 9..5 Rn | 4..0 Rd
 * op31 000: madd (o0 0) / msub (o0 1); op31 010: smulh.
 */
export function dataProcessing3(op31: number, o0: number, rm: number, ra: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(0b11011, 5, 24, 'class'), field(op31, 3, 21, 'op31'), field(rm, 5, 16, 'Rm'),
    field(o0, 1, 15, 'o0'), field(ra, 5, 10, 'Ra'), field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Data-processing (2 source)
 *   31 sf | 30 0 | 29 S | 28..21 11010110 | 20..16 Rm | 15..10 opcode | 9..5 Rn | 4..0 Rd
 * opcode: 000010 udiv, 000011 sdiv, 001000 lslv, 001001 lsrv, 001010 asrv.
 */
export function dataProcessing2(opcode: number, rm: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(0b11010110, 8, 21, 'class'), field(rm, 5, 16, 'Rm'), field(opcode, 6, 10, 'opcode'),
    field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Conditional select
 *   31 sf | 30 op | 29 S | 28..21 11010100 | 20..16 Rm | 15..12 cond | 11..10 o2 | 9..5 Rn | 4..0 Rd
 * (op, o2): (0,0) csel, (0,1) csinc, (1,0) csinv, (1,1) csneg.
 */
export function conditionalSelect(op: number, o2: number, rm: number, cond: number, rn: number, rd: number): number {
  return word(field(1, 1, 31, 'sf'), field(op, 1, 30, 'op'), field(0b11010100, 8, 21, 'class'), field(rm, 5, 16, 'Rm'),
    field(cond, 4, 12, 'cond'), field(o2, 2, 10, 'o2'), field(rn, 5, 5, 'Rn'), field(rd, 5, 0, 'Rd'));
}

/**
 * Load/store register (unsigned immediate)
 *   31..30 size | 29..27 111 | 26 V | 25..24 01 | 23..22 opc | 21..10 imm12 | 9..5 Rn | 4..0 Rt
 * size 11: 64-bit. opc: 00 store, 01 load. The byte offset is imm12 << size.
 */
export function loadStoreUnsignedImmediate(opc: number, imm12: number, rn: number, rt: number): number {
  return word(
    field(0b11, 2, 30, 'size'), field(0b111001, 6, 24, 'class'), field(opc, 2, 22, 'opc'),
    field(imm12, 12, 10, 'imm12'), field(rn, 5, 5, 'Rn'), field(rt, 5, 0, 'Rt'),
  );
}

/**
 * Load/store register (unscaled immediate, immediate post-indexed, immediate pre-indexed)
 *   31..30 size | 29..27 111 | 26 V | 25..24 00 | 23..22 opc | 21 0 | 20..12 imm9 | 11..10 mode | 9..5 Rn | 4..0 Rt
 * mode: 00 unscaled (ldur/stur), 01 post-index, 11 pre-index. imm9 is a signed byte offset.
 */
export function loadStoreImm9(opc: number, imm9: number, mode: number, rn: number, rt: number): number {
  return word(field(0b11, 2, 30, 'size'), field(0b111000, 6, 24, 'class'), field(opc, 2, 22, 'opc'),
    field(imm9 & 0x1ff, 9, 12, 'imm9'), field(mode, 2, 10, 'mode'), field(rn, 5, 5, 'Rn'), field(rt, 5, 0, 'Rt'));
}

/**
 * Load/store register pair (post-indexed, signed offset, pre-indexed)
 *   31..30 opc | 29..27 101 | 26 V | 25..23 mode | 22 L | 21..15 imm7 | 14..10 Rt2 | 9..5 Rn | 4..0 Rt
 * opc 10: 64-bit. mode: 001 post-index, 010 signed offset, 011 pre-index. L: 1 load.
 * The byte offset is imm7 * 8 (imm7 signed).
 */
export function loadStorePair(mode: number, l: number, imm7: number, rt2: number, rn: number, rt: number): number {
  return word(field(0b10, 2, 30, 'opc'), field(0b101, 3, 27, 'class'), field(mode, 3, 23, 'mode'), field(l, 1, 22, 'L'),
    field(imm7 & 0x7f, 7, 15, 'imm7'), field(rt2, 5, 10, 'Rt2'), field(rn, 5, 5, 'Rn'), field(rt, 5, 0, 'Rt'));
}

/**
 * Load/store register (register offset)
 *   31..30 size | 29..27 111 | 26 V | 25..24 00 | 23..22 opc | 21 1 | 20..16 Rm | 15..13 option | 12 S | 11..10 10 | 9..5 Rn | 4..0 Rt
 * option 011: Rm is used whole (LSL). S: 1 scales Rm by the access size (lsl #3), 0 adds it as is.
 */
export function loadStoreRegisterOffset(opc: number, rm: number, option: number, s: number, rn: number, rt: number): number {
  return word(field(0b11, 2, 30, 'size'), field(0b111000, 6, 24, 'class'), field(opc, 2, 22, 'opc'), field(1, 1, 21, 'one'),
    field(rm, 5, 16, 'Rm'), field(option, 3, 13, 'option'), field(s, 1, 12, 'S'), field(0b10, 2, 10, 'op2'),
    field(rn, 5, 5, 'Rn'), field(rt, 5, 0, 'Rt'));
}

/**
 * PC-rel. addressing
 *   31 op | 30..29 immlo | 28..24 10000 | 23..5 immhi | 4..0 Rd
 * op 0: adr. The 21-bit signed byte offset is immhi:immlo, counted from this instruction.
 */
export function pcRelativeAddressing(op: number, imm21: number, rd: number): number {
  const bits = imm21 & 0x1fffff;
  return word(field(op, 1, 31, 'op'), field(bits & 3, 2, 29, 'immlo'), field(0b10000, 5, 24, 'class'),
    field(bits >>> 2, 19, 5, 'immhi'), field(rd, 5, 0, 'Rd'));
}

/**
 * Unconditional branch (immediate)
 *   31 op | 30..26 00101 | 25..0 imm26       op: 0 b, 1 bl. Target: this instruction + imm26*4.
 */
export function unconditionalBranchImmediate(op: number, imm26: number): number {
  return word(field(op, 1, 31, 'op'), field(0b00101, 5, 26, 'class'), field(imm26 & 0x3ff_ffff, 26, 0, 'imm26'));
}

/**
 * Conditional branch (immediate)
 *   31..24 01010100 | 23..5 imm19 | 4 0 | 3..0 cond
 */
export function conditionalBranch(imm19: number, cond: number): number {
  return word(field(0b01010100, 8, 24, 'class'), field(imm19 & 0x7ffff, 19, 5, 'imm19'), field(cond, 4, 0, 'cond'));
}

/**
 * Compare and branch (immediate)
 *   31 sf | 30..25 011010 | 24 op | 23..5 imm19 | 4..0 Rt      op: 0 cbz, 1 cbnz
 */
export function compareAndBranch(op: number, imm19: number, rt: number): number {
  return word(field(1, 1, 31, 'sf'), field(0b011010, 6, 25, 'class'), field(op, 1, 24, 'op'),
    field(imm19 & 0x7ffff, 19, 5, 'imm19'), field(rt, 5, 0, 'Rt'));
}

/**
 * Test and branch (immediate)
 *   31 b5 | 30..25 011011 | 24 op | 23..19 b40 | 18..5 imm14 | 4..0 Rt      op: 0 tbz, 1 tbnz
 */
export function testAndBranch(op: number, bit: number, imm14: number, rt: number): number {
  return word(field(bit >> 5, 1, 31, 'b5'), field(0b011011, 6, 25, 'class'), field(op, 1, 24, 'op'),
    field(bit & 31, 5, 19, 'b40'), field(imm14 & 0x3fff, 14, 5, 'imm14'), field(rt, 5, 0, 'Rt'));
}

/**
 * Unconditional branch (register)
 *   31..25 1101011 | 24..21 opc | 20..16 11111 | 15..10 000000 | 9..5 Rn | 4..0 00000
 * opc: 0000 br, 0001 blr, 0010 ret.
 */
export function unconditionalBranchRegister(opc: number, rn: number): number {
  return word(field(0b1101011, 7, 25, 'class'), field(opc, 4, 21, 'opc'), field(0b11111, 5, 16, 'op2'), field(rn, 5, 5, 'Rn'));
}

/**
 * Exception generation
 *   31..24 11010100 | 23..21 opc | 20..5 imm16 | 4..2 000 | 1..0 LL      brk: opc 001, LL 00
 */
export function exceptionGeneration(opc: number, imm16: number, ll: number): number {
  return word(field(0b11010100, 8, 24, 'class'), field(opc, 3, 21, 'opc'), field(imm16, 16, 5, 'imm16'), field(ll, 2, 0, 'LL'));
}

// ---------------------------------------------------------------------------------------
// Register fields. Each says whether 31 means sp or xzr in that field.

/** A field where register 31 is XZR: x0..x30 or xzr; sp is refused. */
function zr(insn: string, name: string, r: number): number {
  if (r === Reg.sp) fail(insn, `${name} cannot be sp: in this field register 31 means xzr`);
  if (!Number.isInteger(r) || r < 0 || r > 31) fail(insn, `${name} must be x0..x30 or xzr, got ${r}`);
  return r;
}

/** A field where register 31 is SP: x0..x30 or sp; xzr is refused. */
function sp(insn: string, name: string, r: number): number {
  if (r === Reg.xzr) fail(insn, `${name} cannot be xzr: in this field register 31 means sp`);
  if (!Number.isInteger(r) || r < 0 || r > 32) fail(insn, `${name} must be x0..x30 or sp, got ${r}`);
  return r === Reg.sp ? 31 : r;
}

// ---------------------------------------------------------------------------------------
// Add and subtract

// @book:start add-imm
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
// @book:end add-imm

/** adds rd, rn, #imm   (rd may be xzr, rn may be sp) */
export function adds_imm(rd: Reg, rn: Reg, imm: number): number {
  return addSubImm('adds', 0, 1, rd, rn, imm);
}

/** sub rd, rn, #imm   (rd and rn may be sp) */
export function sub_imm(rd: Reg, rn: Reg, imm: number): number {
  return addSubImm('sub', 1, 0, rd, rn, imm);
}

/** subs rd, rn, #imm */
export function subs_imm(rd: Reg, rn: Reg, imm: number): number {
  return addSubImm('subs', 1, 1, rd, rn, imm);
}

/** cmp rn, #imm  =  subs xzr, rn, #imm */
export function cmp_imm(rn: Reg, imm: number): number {
  return addSubImm('subs', 1, 1, Reg.xzr, rn, imm);
}

/** cmn rn, #imm  =  adds xzr, rn, #imm */
export function cmn_imm(rn: Reg, imm: number): number {
  return addSubImm('adds', 0, 1, Reg.xzr, rn, imm);
}

function addSubReg(name: string, op: number, s: number, rd: Reg, rn: Reg, rm: Reg, shift: Shift, amount: number): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, ${regName(rm)}, ${SHIFT_NAMES[shift] ?? shift} #${amount}`;
  if (shift !== Shift.lsl && shift !== Shift.lsr && shift !== Shift.asr) fail(insn, 'shift must be lsl, lsr or asr');
  shiftAmount(insn, amount);
  return addSubShiftedRegister(op, s, shift, zr(insn, 'Rm', rm), amount, zr(insn, 'Rn', rn), zr(insn, 'Rd', rd));
}

/** add rd, rn, rm{, shift #amount}   (no sp here: 31 is xzr; use add_imm for sp) */
export function add_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return addSubReg('add', 0, 0, rd, rn, rm, shift, amount);
}

/** adds rd, rn, rm{, shift #amount} */
export function adds_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return addSubReg('adds', 0, 1, rd, rn, rm, shift, amount);
}

/** sub rd, rn, rm{, shift #amount} */
export function sub_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return addSubReg('sub', 1, 0, rd, rn, rm, shift, amount);
}

/** subs rd, rn, rm{, shift #amount} */
export function subs_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return addSubReg('subs', 1, 1, rd, rn, rm, shift, amount);
}

/** cmp rn, rm  =  subs xzr, rn, rm */
export function cmp_reg(rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return addSubReg('subs', 1, 1, Reg.xzr, rn, rm, shift, amount);
}

/** cmn rn, rm  =  adds xzr, rn, rm */
export function cmn_reg(rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return addSubReg('adds', 0, 1, Reg.xzr, rn, rm, shift, amount);
}

/** neg rd, rm  =  sub rd, xzr, rm */
export function neg(rd: Reg, rm: Reg): number {
  return addSubReg('sub', 1, 0, rd, Reg.xzr, rm, Shift.lsl, 0);
}

// ---------------------------------------------------------------------------------------
// Logical

function logicalReg(name: string, opc: number, n: number, rd: Reg, rn: Reg, rm: Reg, shift: Shift, amount: number): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, ${regName(rm)}, ${SHIFT_NAMES[shift] ?? shift} #${amount}`;
  if (!Number.isInteger(shift) || shift < 0 || shift > 3) fail(insn, 'shift must be lsl, lsr, asr or ror');
  shiftAmount(insn, amount);
  return logicalShiftedRegister(opc, shift, n, zr(insn, 'Rm', rm), amount, zr(insn, 'Rn', rn), zr(insn, 'Rd', rd));
}

/** and rd, rn, rm{, shift #amount} */
export function and_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return logicalReg('and', 0b00, 0, rd, rn, rm, shift, amount);
}

/** orr rd, rn, rm{, shift #amount} */
export function orr_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return logicalReg('orr', 0b01, 0, rd, rn, rm, shift, amount);
}

/** eor rd, rn, rm{, shift #amount} */
export function eor_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return logicalReg('eor', 0b10, 0, rd, rn, rm, shift, amount);
}

/** ands rd, rn, rm{, shift #amount} */
export function ands_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return logicalReg('ands', 0b11, 0, rd, rn, rm, shift, amount);
}

/** bic rd, rn, rm: rd = rn & ~rm */
export function bic_reg(rd: Reg, rn: Reg, rm: Reg, shift: Shift = Shift.lsl, amount = 0): number {
  return logicalReg('bic', 0b00, 1, rd, rn, rm, shift, amount);
}

/** mvn rd, rm  =  orn rd, xzr, rm */
export function mvn(rd: Reg, rm: Reg): number {
  return logicalReg('orn', 0b01, 1, rd, Reg.xzr, rm, Shift.lsl, 0);
}

/** tst rn, rm  =  ands xzr, rn, rm */
export function tst_reg(rn: Reg, rm: Reg): number {
  return logicalReg('ands', 0b11, 0, Reg.xzr, rn, rm, Shift.lsl, 0);
}

/**
 * mov rd, rm. Two different instructions hide behind this one name:
 *   orr rd, xzr, rm     when neither is sp (in orr, register 31 means xzr)
 *   add rd, rm, #0      when either is sp  (in add immediate, register 31 means sp)
 */
export function mov_reg(rd: Reg, rm: Reg): number {
  if (rd === Reg.sp || rm === Reg.sp) return addSubImm('add', 0, 0, rd, rm, 0);
  return logicalReg('orr', 0b01, 0, rd, Reg.xzr, rm, Shift.lsl, 0);
}

/**
 * The (N, immr, imms) fields for a logical immediate, or null if `value` has none.
 * A bitmask immediate is a pattern of `size` bits (2, 4, …, 64) repeated to fill 64 bits,
 * where the pattern is a run of 1..size-1 ones, rotated right by 0..size-1. So 0 and ~0
 * cannot be encoded, nor 0x5, nor most other numbers.
 */
export function encodeBitmask(value: bigint): { n: number; immr: number; imms: number } | null {
  const v = BigInt.asUintN(64, value);
  if (v === 0n || v === (1n << 64n) - 1n) return null;
  // The smallest element size whose pattern, repeated, gives back the whole value.
  let size = 2;
  while (size < 64 && !repeats(v, size)) size *= 2;
  const mask = (1n << BigInt(size)) - 1n;
  const element = v & mask;
  const ones = popcount(element);
  const run = (1n << BigInt(ones)) - 1n;
  for (let r = 0; r < size; r++) {
    if (rotateRight(run, r, size) === element) {
      return { n: size === 64 ? 1 : 0, immr: r, imms: (~(2 * size - 1) & 0x3f) | (ones - 1) };
    }
  }
  return null; // the element is not a single rotated run of ones
}

function repeats(v: bigint, size: number): boolean {
  const mask = (1n << BigInt(size)) - 1n;
  const element = v & mask;
  for (let at = size; at < 64; at += size) if (((v >> BigInt(at)) & mask) !== element) return false;
  return true;
}

function popcount(v: bigint): number {
  let count = 0;
  for (; v !== 0n; v >>= 1n) count += Number(v & 1n);
  return count;
}

function rotateRight(v: bigint, r: number, size: number): bigint {
  const mask = (1n << BigInt(size)) - 1n;
  return ((v >> BigInt(r)) | (v << BigInt(size - r))) & mask;
}

function logicalImm(name: string, opc: number, rd: Reg, rn: Reg, imm: bigint): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, #0x${BigInt.asUintN(64, BigInt(imm)).toString(16)}`;
  // and/orr/eor may write sp (to align it); ands writes flags, and its Rd 31 is xzr.
  const d = opc === 0b11 ? zr(insn, 'Rd', rd) : sp(insn, 'Rd', rd);
  const n = zr(insn, 'Rn', rn);
  if (typeof imm !== 'bigint' || imm < -(1n << 63n) || imm >= 1n << 64n) fail(insn, 'imm must be a 64-bit bigint');
  const fields = encodeBitmask(imm);
  if (fields === null) {
    fail(insn, 'imm is not a bitmask immediate (a rotated run of ones, repeated in 2, 4, 8, 16, 32 or 64-bit elements; never 0 or all ones)');
  }
  return logicalImmediate(opc, fields.n, fields.immr, fields.imms, n, d);
}

/** and rd, rn, #imm   (rd may be sp) */
export function and_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return logicalImm('and', 0b00, rd, rn, imm);
}

/** orr rd, rn, #imm   (rd may be sp) */
export function orr_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return logicalImm('orr', 0b01, rd, rn, imm);
}

/** eor rd, rn, #imm   (rd may be sp) */
export function eor_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return logicalImm('eor', 0b10, rd, rn, imm);
}

/** ands rd, rn, #imm */
export function ands_imm(rd: Reg, rn: Reg, imm: bigint): number {
  return logicalImm('ands', 0b11, rd, rn, imm);
}

/** tst rn, #imm  =  ands xzr, rn, #imm */
export function tst_imm(rn: Reg, imm: bigint): number {
  return logicalImm('ands', 0b11, Reg.xzr, rn, imm);
}

// ---------------------------------------------------------------------------------------
// Move wide

function moveWideImm(name: string, opc: number, rd: Reg, imm16: number, shift: number): number {
  const insn = `${name} ${regName(rd)}, #${imm16}, lsl #${shift}`;
  const d = zr(insn, 'Rd', rd);
  if (!Number.isInteger(imm16) || imm16 < 0 || imm16 > 0xffff) fail(insn, 'imm16 must be 0..65535');
  if (shift !== 0 && shift !== 16 && shift !== 32 && shift !== 48) fail(insn, 'shift (hw) must be 0, 16, 32 or 48');
  return moveWide(opc, shift / 16, imm16, d);
}

/** movz rd, #imm16, lsl #shift: rd = imm16 << shift, all other bits zero */
export function movz(rd: Reg, imm16: number, shift = 0): number {
  return moveWideImm('movz', 0b10, rd, imm16, shift);
}

/** movk rd, #imm16, lsl #shift: replaces 16 bits of rd, keeps the other 48 */
export function movk(rd: Reg, imm16: number, shift = 0): number {
  return moveWideImm('movk', 0b11, rd, imm16, shift);
}

/** movn rd, #imm16, lsl #shift: rd = ~(imm16 << shift) */
export function movn(rd: Reg, imm16: number, shift = 0): number {
  return moveWideImm('movn', 0b00, rd, imm16, shift);
}

// ---------------------------------------------------------------------------------------
// Multiply, divide, shifts

function threeSource(name: string, op31: number, o0: number, rd: Reg, rn: Reg, rm: Reg, ra: Reg): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, ${regName(rm)}, ${regName(ra)}`;
  return dataProcessing3(op31, o0, zr(insn, 'Rm', rm), zr(insn, 'Ra', ra), zr(insn, 'Rn', rn), zr(insn, 'Rd', rd));
}

/** madd rd, rn, rm, ra: rd = ra + rn*rm */
export function madd(rd: Reg, rn: Reg, rm: Reg, ra: Reg): number {
  return threeSource('madd', 0b000, 0, rd, rn, rm, ra);
}

/** msub rd, rn, rm, ra: rd = ra - rn*rm (with sdiv, the remainder) */
export function msub(rd: Reg, rn: Reg, rm: Reg, ra: Reg): number {
  return threeSource('msub', 0b000, 1, rd, rn, rm, ra);
}

/** mul rd, rn, rm  =  madd rd, rn, rm, xzr */
export function mul(rd: Reg, rn: Reg, rm: Reg): number {
  return threeSource('madd', 0b000, 0, rd, rn, rm, Reg.xzr);
}

/** smulh rd, rn, rm: the high 64 bits of the signed 128-bit product (Ra is 11111) */
export function smulh(rd: Reg, rn: Reg, rm: Reg): number {
  return threeSource('smulh', 0b010, 0, rd, rn, rm, Reg.xzr);
}

function twoSource(name: string, opcode: number, rd: Reg, rn: Reg, rm: Reg): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, ${regName(rm)}`;
  return dataProcessing2(opcode, zr(insn, 'Rm', rm), zr(insn, 'Rn', rn), zr(insn, 'Rd', rd));
}

/** sdiv rd, rn, rm: signed, rounds toward zero; x / 0 gives 0 (no trap) */
export function sdiv(rd: Reg, rn: Reg, rm: Reg): number {
  return twoSource('sdiv', 0b000011, rd, rn, rm);
}

/** udiv rd, rn, rm */
export function udiv(rd: Reg, rn: Reg, rm: Reg): number {
  return twoSource('udiv', 0b000010, rd, rn, rm);
}

/** lslv rd, rn, rm (written `lsl rd, rn, rm`): shift by rm mod 64 */
export function lslv(rd: Reg, rn: Reg, rm: Reg): number {
  return twoSource('lslv', 0b001000, rd, rn, rm);
}

/** lsrv rd, rn, rm */
export function lsrv(rd: Reg, rn: Reg, rm: Reg): number {
  return twoSource('lsrv', 0b001001, rd, rn, rm);
}

/** asrv rd, rn, rm */
export function asrv(rd: Reg, rn: Reg, rm: Reg): number {
  return twoSource('asrv', 0b001010, rd, rn, rm);
}

function bitfieldMove(name: string, opc: number, rd: Reg, rn: Reg, immr: number, imms: number, shown: string): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, ${shown}`;
  if (!Number.isInteger(immr) || immr < 0 || immr > 63) fail(insn, 'immr must be 0..63');
  if (!Number.isInteger(imms) || imms < 0 || imms > 63) fail(insn, 'imms must be 0..63');
  return bitfield(opc, immr, imms, zr(insn, 'Rn', rn), zr(insn, 'Rd', rd));
}

/** ubfm rd, rn, #immr, #imms (unsigned bitfield move; lsl/lsr/ubfx are aliases) */
export function ubfm(rd: Reg, rn: Reg, immr: number, imms: number): number {
  return bitfieldMove('ubfm', 0b10, rd, rn, immr, imms, `#${immr}, #${imms}`);
}

/** sbfm rd, rn, #immr, #imms (signed bitfield move; asr/sxtw/sbfx are aliases) */
export function sbfm(rd: Reg, rn: Reg, immr: number, imms: number): number {
  return bitfieldMove('sbfm', 0b00, rd, rn, immr, imms, `#${immr}, #${imms}`);
}

/** lsl rd, rn, #shift  =  ubfm rd, rn, #(-shift mod 64), #(63 - shift) */
export function lsl_imm(rd: Reg, rn: Reg, shift: number): number {
  shiftAmount(`lsl ${regName(rd)}, ${regName(rn)}, #${shift}`, shift);
  return bitfieldMove('lsl', 0b10, rd, rn, (64 - shift) % 64, 63 - shift, `#${shift}`);
}

/** lsr rd, rn, #shift  =  ubfm rd, rn, #shift, #63 */
export function lsr_imm(rd: Reg, rn: Reg, shift: number): number {
  shiftAmount(`lsr ${regName(rd)}, ${regName(rn)}, #${shift}`, shift);
  return bitfieldMove('lsr', 0b10, rd, rn, shift, 63, `#${shift}`);
}

/** asr rd, rn, #shift  =  sbfm rd, rn, #shift, #63 */
export function asr_imm(rd: Reg, rn: Reg, shift: number): number {
  shiftAmount(`asr ${regName(rd)}, ${regName(rn)}, #${shift}`, shift);
  return bitfieldMove('asr', 0b00, rd, rn, shift, 63, `#${shift}`);
}

// ---------------------------------------------------------------------------------------
// Loads and stores. In all of them the base Rn may be sp and the data register Rt may be xzr.

function scaled(name: string, opc: number, rt: Reg, rn: Reg, offset: number): number {
  const insn = `${name} ${regName(rt)}, [${regName(rn)}, #${offset}]`;
  const t = zr(insn, 'Rt', rt);
  const n = sp(insn, 'Rn', rn);
  const kind = opc === 1 ? 'load' : 'store';
  if (!Number.isInteger(offset) || offset % 8 !== 0) fail(insn, `offset must be a multiple of 8 for a 64-bit scaled ${kind}`);
  if (offset < 0 || offset > 0xfff * 8) fail(insn, `offset (imm12 * 8) must be 0..32760; use ld/stur for -256..255`);
  return loadStoreUnsignedImmediate(opc, offset / 8, n, t);
}

/** ldr rt, [rn, #offset]   (offset: 0..32760, a multiple of 8) */
export function ldr_imm(rt: Reg, rn: Reg, offset = 0): number {
  return scaled('ldr', 0b01, rt, rn, offset);
}

/** str rt, [rn, #offset]   (offset: 0..32760, a multiple of 8) */
export function str_imm(rt: Reg, rn: Reg, offset = 0): number {
  return scaled('str', 0b00, rt, rn, offset);
}

function registerOffset(name: string, opc: number, rt: Reg, rn: Reg, rm: Reg, shift: number): number {
  const insn = `${name} ${regName(rt)}, [${regName(rn)}, ${regName(rm)}${shift ? `, lsl #${shift}` : ''}]`;
  const t = zr(insn, 'Rt', rt);
  const n = sp(insn, 'Rn', rn);
  const m = zr(insn, 'Rm', rm);
  if (shift !== 0 && shift !== 3) fail(insn, 'the index shift (S) must be 0 or 3 (lsl #3 scales the index by 8)');
  return loadStoreRegisterOffset(opc, m, 0b011, shift === 3 ? 1 : 0, n, t);
}

/** ldr rt, [rn, rm, lsl #shift]: load from rn + (rm << shift); shift 3 (index * 8) or 0 */
export function ldr_reg(rt: Reg, rn: Reg, rm: Reg, shift = 3): number {
  return registerOffset('ldr', 0b01, rt, rn, rm, shift);
}

/** str rt, [rn, rm, lsl #shift] */
export function str_reg(rt: Reg, rn: Reg, rm: Reg, shift = 3): number {
  return registerOffset('str', 0b00, rt, rn, rm, shift);
}

function imm9(name: string, opc: number, mode: number, rt: Reg, rn: Reg, offset: number): number {
  const address = mode === 0b01 ? `[${regName(rn)}], #${offset}` : mode === 0b11 ? `[${regName(rn)}, #${offset}]!` : `[${regName(rn)}, #${offset}]`;
  const insn = `${name} ${regName(rt)}, ${address}`;
  const t = zr(insn, 'Rt', rt);
  const n = sp(insn, 'Rn', rn);
  if (!Number.isInteger(offset) || offset < -256 || offset > 255) fail(insn, 'imm9 (the byte offset) must be -256..255');
  // Writing back into the register being loaded or stored is UNPREDICTABLE.
  if (mode !== 0b00 && rt === rn) fail(insn, 'Rt and Rn must differ when the base is written back');
  return loadStoreImm9(opc, offset, mode, n, t);
}

/** ldur rt, [rn, #offset]   (unscaled: any byte offset -256..255) */
export function ldur(rt: Reg, rn: Reg, offset: number): number {
  return imm9('ldur', 0b01, 0b00, rt, rn, offset);
}

/** stur rt, [rn, #offset] */
export function stur(rt: Reg, rn: Reg, offset: number): number {
  return imm9('stur', 0b00, 0b00, rt, rn, offset);
}

/** ldr rt, [rn, #offset]!   (pre-index: rn += offset, then load from rn) */
export function ldr_pre(rt: Reg, rn: Reg, offset: number): number {
  return imm9('ldr', 0b01, 0b11, rt, rn, offset);
}

/** ldr rt, [rn], #offset   (post-index: load from rn, then rn += offset) */
export function ldr_post(rt: Reg, rn: Reg, offset: number): number {
  return imm9('ldr', 0b01, 0b01, rt, rn, offset);
}

/** str rt, [rn, #offset]! */
export function str_pre(rt: Reg, rn: Reg, offset: number): number {
  return imm9('str', 0b00, 0b11, rt, rn, offset);
}

/** str rt, [rn], #offset */
export function str_post(rt: Reg, rn: Reg, offset: number): number {
  return imm9('str', 0b00, 0b01, rt, rn, offset);
}

function pair(name: string, l: number, mode: number, rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  const address = mode === 0b001 ? `[${regName(rn)}], #${offset}` : mode === 0b011 ? `[${regName(rn)}, #${offset}]!` : `[${regName(rn)}, #${offset}]`;
  const insn = `${name} ${regName(rt)}, ${regName(rt2)}, ${address}`;
  const t = zr(insn, 'Rt', rt);
  const t2 = zr(insn, 'Rt2', rt2);
  const n = sp(insn, 'Rn', rn);
  if (!Number.isInteger(offset) || offset % 8 !== 0) fail(insn, 'offset must be a multiple of 8 for a 64-bit pair');
  if (offset < -512 || offset > 504) fail(insn, 'offset (imm7 * 8) must be -512..504');
  if (l === 1 && rt === rt2) fail(insn, 'Rt and Rt2 must differ in a load pair');
  if (mode !== 0b010 && (rt === rn || rt2 === rn)) fail(insn, 'Rt and Rt2 must differ from Rn when the base is written back');
  return loadStorePair(mode, l, offset / 8, t2, n, t);
}

/** ldp rt, rt2, [rn, #offset]   (offset: -512..504, a multiple of 8) */
export function ldp(rt: Reg, rt2: Reg, rn: Reg, offset = 0): number {
  return pair('ldp', 1, 0b010, rt, rt2, rn, offset);
}

/** stp rt, rt2, [rn, #offset] */
export function stp(rt: Reg, rt2: Reg, rn: Reg, offset = 0): number {
  return pair('stp', 0, 0b010, rt, rt2, rn, offset);
}

/** ldp rt, rt2, [rn, #offset]! */
export function ldp_pre(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return pair('ldp', 1, 0b011, rt, rt2, rn, offset);
}

/** ldp rt, rt2, [rn], #offset   (the usual epilogue: ldp fp, lr, [sp], #16) */
export function ldp_post(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return pair('ldp', 1, 0b001, rt, rt2, rn, offset);
}

/** stp rt, rt2, [rn, #offset]!   (the usual prologue: stp fp, lr, [sp, #-16]!) */
export function stp_pre(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return pair('stp', 0, 0b011, rt, rt2, rn, offset);
}

/** stp rt, rt2, [rn], #offset */
export function stp_post(rt: Reg, rt2: Reg, rn: Reg, offset: number): number {
  return pair('stp', 0, 0b001, rt, rt2, rn, offset);
}

// ---------------------------------------------------------------------------------------
// Branches. `offset` is in bytes from THIS instruction to the target (not from its end).

function branchOffset(insn: string, field: string, offset: number, bits: number): number {
  const limit = 2 ** (bits + 1); // bits of instructions = bits + 2 bits of bytes, signed
  if (!Number.isInteger(offset) || offset % 4 !== 0) fail(insn, `offset must be a multiple of 4 (the ${field} field counts instructions)`);
  if (offset < -limit || offset >= limit) fail(insn, `${field} offset must be ${-limit}..${limit - 4} bytes`);
  return offset / 4;
}

/** b offset */
export function b(offset: number): number {
  return unconditionalBranchImmediate(0, branchOffset(`b ${offset}`, 'imm26', offset, 26));
}

/** b.cond offset */
export function b_cond(cond: Cond, offset: number): number {
  const insn = `b.${COND_NAMES[cond] ?? cond} ${offset}`;
  if (!Number.isInteger(cond) || cond < 0 || cond > 15) fail(insn, 'cond must be 0..15');
  return conditionalBranch(branchOffset(insn, 'imm19', offset, 19), cond);
}

/** bl offset: branch and put the return address in x30 */
export function bl(offset: number): number {
  return unconditionalBranchImmediate(1, branchOffset(`bl ${offset}`, 'imm26', offset, 26));
}

/** cbz rt, offset: branch if rt == 0 */
export function cbz(rt: Reg, offset: number): number {
  const insn = `cbz ${regName(rt)}, ${offset}`;
  return compareAndBranch(0, branchOffset(insn, 'imm19', offset, 19), zr(insn, 'Rt', rt));
}

/** cbnz rt, offset: branch if rt != 0 */
export function cbnz(rt: Reg, offset: number): number {
  const insn = `cbnz ${regName(rt)}, ${offset}`;
  return compareAndBranch(1, branchOffset(insn, 'imm19', offset, 19), zr(insn, 'Rt', rt));
}

function testBranch(name: string, op: number, rt: Reg, bit: number, offset: number): number {
  const insn = `${name} ${regName(rt)}, #${bit}, ${offset}`;
  const t = zr(insn, 'Rt', rt);
  if (!Number.isInteger(bit) || bit < 0 || bit > 63) fail(insn, 'bit number (b5:b40) must be 0..63');
  return testAndBranch(op, bit, branchOffset(insn, 'imm14', offset, 14), t);
}

/** tbz rt, #bit, offset: branch if bit `bit` of rt is 0 */
export function tbz(rt: Reg, bit: number, offset: number): number {
  return testBranch('tbz', 0, rt, bit, offset);
}

/** tbnz rt, #bit, offset: branch if bit `bit` of rt is 1 */
export function tbnz(rt: Reg, bit: number, offset: number): number {
  return testBranch('tbnz', 1, rt, bit, offset);
}

/** adr rd, offset: rd = the address of this instruction + offset (-1 MiB..1 MiB - 1, any byte) */
export function adr(rd: Reg, offset: number): number {
  const insn = `adr ${regName(rd)}, ${offset}`;
  const d = zr(insn, 'Rd', rd);
  if (!Number.isInteger(offset) || offset < -(2 ** 20) || offset >= 2 ** 20) fail(insn, `imm21 offset must be ${-(2 ** 20)}..${2 ** 20 - 1} bytes`);
  return pcRelativeAddressing(0, offset, d);
}

/** br rn: jump to the address in rn */
export function br(rn: Reg): number {
  return unconditionalBranchRegister(0b0000, zr(`br ${regName(rn)}`, 'Rn', rn));
}

/** blr rn: call the address in rn (return address in x30) */
export function blr(rn: Reg): number {
  return unconditionalBranchRegister(0b0001, zr(`blr ${regName(rn)}`, 'Rn', rn));
}

/** ret {rn}: return to the address in rn, x30 unless told otherwise */
export function ret(rn: Reg = Reg.lr): number {
  return unconditionalBranchRegister(0b0010, zr(`ret ${regName(rn)}`, 'Rn', rn));
}

// ---------------------------------------------------------------------------------------
// Conditional select

function select(name: string, op: number, o2: number, rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  const insn = `${name} ${regName(rd)}, ${regName(rn)}, ${regName(rm)}, ${COND_NAMES[cond] ?? cond}`;
  if (!Number.isInteger(cond) || cond < 0 || cond > 15) fail(insn, 'cond must be 0..15');
  return conditionalSelect(op, o2, zr(insn, 'Rm', rm), cond, zr(insn, 'Rn', rn), zr(insn, 'Rd', rd));
}

/** csel rd, rn, rm, cond: rd = cond ? rn : rm */
export function csel(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return select('csel', 0, 0b00, rd, rn, rm, cond);
}

/** csinc rd, rn, rm, cond: rd = cond ? rn : rm + 1 */
export function csinc(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return select('csinc', 0, 0b01, rd, rn, rm, cond);
}

/** csinv rd, rn, rm, cond: rd = cond ? rn : ~rm */
export function csinv(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return select('csinv', 1, 0b00, rd, rn, rm, cond);
}

/** csneg rd, rn, rm, cond: rd = cond ? rn : -rm */
export function csneg(rd: Reg, rn: Reg, rm: Reg, cond: Cond): number {
  return select('csneg', 1, 0b01, rd, rn, rm, cond);
}

/** cset rd, cond: rd = cond ? 1 : 0  =  csinc rd, xzr, xzr, (cond ^ 1) */
export function cset(rd: Reg, cond: Cond): number {
  if (cond === Cond.al || cond === Cond.nv) fail(`cset ${regName(rd)}, ${COND_NAMES[cond]}`, 'cond cannot be al or nv');
  if (!Number.isInteger(cond) || cond < 0 || cond > 15) fail(`cset ${regName(rd)}, ${cond}`, 'cond must be 0..15');
  return select('cset', 0, 0b01, rd, Reg.xzr, Reg.xzr, (cond ^ 1) as Cond);
}

// ---------------------------------------------------------------------------------------
// Traps and padding

/** udf #imm16: permanently undefined, raises SIGILL. The word is just imm16. */
export function udf(imm16 = 0): number {
  if (!Number.isInteger(imm16) || imm16 < 0 || imm16 > 0xffff) fail(`udf #${imm16}`, 'imm16 must be 0..65535');
  return imm16;
}

/** brk #imm16: a breakpoint, raises SIGTRAP */
export function brk(imm16 = 0): number {
  if (!Number.isInteger(imm16) || imm16 < 0 || imm16 > 0xffff) fail(`brk #${imm16}`, 'imm16 must be 0..65535');
  return exceptionGeneration(0b001, imm16, 0b00);
}

/** nop (the hint instruction with all-zero op fields) */
export function nop(): number {
  return 0xd503201f;
}

// ---------------------------------------------------------------------------------------

function fail(insn: string, message: string): never {
  throw new RangeError(`${insn}: ${message}`);
}

/** Throws unless `amount` is 0..63 (the imm6 of a shifted register, or a shift by immediate). */
function shiftAmount(insn: string, amount: number): void {
  if (!Number.isInteger(amount) || amount < 0 || amount > 63) fail(insn, 'shift amount (imm6) must be 0..63');
}
