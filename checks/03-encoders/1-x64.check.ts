/**
 * Chapter 03, x86-64: the learner's encoders byte for byte against GNU as (one check per
 * instruction family), and the RangeErrors for operands that do not fit. The encoders are
 * pure functions, so these run on both architectures; 3-execute.check.ts runs the code.
 */
import { check, learnerCode, thrownBy } from '#harness/check.ts';
import { expectRangeErrors, loadVectors, replay, vectorsOf } from './vectors.ts';

const x64 = await learnerCode(import('#ch03/x64.ts'));
const FILE = 'chapters/03-encoders/x64.ts';
const vectors = loadVectors('x64');

function family(group: string, name: string, hints: string[]): void {
  const chosen = vectorsOf(vectors, group);
  check(`x64 encodes ${name} like GNU as (${chosen.length} vectors)`, () => replay(x64, FILE, 'x64', chosen), { hints });
}

family('x64 mov register', 'mov and movzx between registers', [
  'A register-to-register instruction is REX, opcode, ModRM with mod = 11. The REX prefix carries bit 3 of each register number: R for ModRM.reg, B for ModRM.rm.',
  'GNU as encodes `mov dst, src` as REX.W 89 /r: the SOURCE goes in ModRM.reg and the destination in ModRM.rm. movzx r64, r8 is REX.W 0F B6 /r with the destination in reg.',
  'movq_rr: [rex(true, src, 0, dst), 0x89, modrm(0b11, src, dst)].',
]);

family('x64 mov immediate', 'mov with 64-bit immediates', [
  'x86-64 has two ways to put a constant in a 64-bit register: a sign-extended imm32 (7 bytes) and movabs with a full imm64 (10 bytes).',
  'Normalise the value to a signed 64-bit number first (BigInt.asIntN(64, imm)); if it lies in -2^31..2^31-1 use REX.W C7 /0 id, otherwise REX.W B8+r io.',
  'Note 0xffffffff80000000 (as unsigned) IS a sign-extended imm32, but 0x80000000 is not.',
]);

family('x64 alu register', 'add/or/and/sub/xor/cmp/test between registers', [
  'The classic ALU operations share one layout: opcode 8n+1 with REX.W, source in ModRM.reg, destination in ModRM.rm (n: add 0, or 1, and 4, sub 5, xor 6, cmp 7).',
  'test is REX.W 85 /r, with the second operand in ModRM.reg like the others.',
  'aluRR: [rex(true, src, 0, dst), n * 8 + 1, modrm(0b11, src, dst)].',
]);

family('x64 alu immediate', 'add/or/and/sub/xor/cmp/test with immediates', [
  'Three encodings exist: 83 /n ib (imm8, sign-extended), 81 /n id (imm32), and for rax a short form without ModRM: opcode 8n+5 id. GNU as picks the shortest.',
  'Order of preference: imm8 if -128..127, else the rax form if the register is rax, else 81 /n id. test has no imm8 form: A9 id for rax, F7 /0 id otherwise.',
  'The /n goes in ModRM.reg: modrm(0b11, n, dst). Immediates are little-endian.',
]);

family('x64 multiply and divide', 'imul, idiv, neg, not, cqo, div r32', [
  'imul r64, r/m64 is REX.W 0F AF /r with the DESTINATION in ModRM.reg (the opposite of mov). idiv, neg and not are REX.W F7 with extensions /7, /3 and /2.',
  'cqo is REX.W 99: it sign-extends rax into rdx before idiv.',
  'idivq_r(src): [rex(true, 0, 0, src), 0xf7, modrm(0b11, 7, src)].',
  'divl_r (given) is F7 /6 without REX.W: it goes through the same rr and rex helpers, so a wrong REX.B shows there too.',
]);

family('x64 shifts', 'shl/shr/sar by immediate and by cl', [
  'Shifts are one opcode with an extension: shl /4, shr /5, sar /7. C1 /n ib by an immediate, D3 /n by cl.',
  'GNU as uses the shorter D1 /n (no immediate) for a shift by exactly 1.',
  'A count outside 0..63 is a RangeError, not a masked count.',
]);

family('x64 memory operands', 'memory operands (the rsp/r12 and rbp/r13 cases, disp8/disp32)', [
  'ModRM.mod chooses the displacement: 00 none, 01 disp8, 10 disp32. Pick disp8 when the displacement fits in -128..127.',
  'rm = 100 (rsp, r12) means "a SIB byte follows", so those bases always need a SIB byte (index 100 = none). rm = 101 with mod 00 means [rip + disp32], so rbp and r13 need mod 01 with a disp8 of 0.',
  'Both cases depend only on the low three bits of the base register (base & 7), so r12 behaves like rsp and r13 like rbp.',
]);

family('x64 scaled index', 'lea with base + index*scale + disp', [
  'With an index register, ModRM.rm is 100 and a SIB byte follows: scale(2) index(3) base(3); scale is log2 of 1, 2, 4, 8.',
  'REX.X carries bit 3 of the index. The rbp/r13 rule still applies to the SIB base: with disp 0 it needs mod 01 and a zero disp8.',
  'sib(scale, index, base) = (log2(scale) << 6) | ((index & 7) << 3) | (base & 7).',
]);

family('x64 wide multiply and cmov', 'one-operand imul (rdx:rax = rax * src) and cmovcc', [
  'The one-operand imul is REX.W F7 /5: the same opcode as idiv (/7), neg (/3) and not (/2), only another extension in ModRM.reg.',
  'cmovcc dst, src is REX.W 0F 40+cc /r with the DESTINATION in ModRM.reg (like imul r, r/m and movzx, unlike mov): rr(true, [0x0f, 0x40 + cc], dst, src).',
  'The condition numbers are the same as in jcc and setcc: 0F 40+cc, 0F 80+cc, 0F 90+cc.',
]);

family('x64 rip-relative lea and movabs', 'lea r, [rip + disp32] and movabs of a fixed length', [
  'ModRM with mod 00 and rm 101 does not mean [rbp]: it means [rip + disp32], where rip is the address of the NEXT instruction. lea dst, [rip + rel] is REX.W 8D, modrm(00, dst, 101), then the rel as four bytes.',
  'No base register is involved, so REX.B is 0 even though rm is 101; only REX.R carries bit 3 of dst. The instruction is always 7 bytes long.',
  'movabsq_ri always uses REX.W B8+r io (10 bytes), even for a value that fits in 32 bits: its length must not depend on the value, so that the value can be patched later.',
]);

family('x64 push pop call', 'push, pop, call, jmp via register, ret, ud2, int3, nop', [
  'push and pop put the register in the opcode: 50+r and 58+r. r8..r15 need REX.B (0x41), and no REX.W: they are 64-bit already.',
  'call r and jmp r are FF /2 and FF /4; again REX only for r8..r15.',
  'ret C3, ud2 0F 0B, int3 CC, nop 90.',
]);

family('x64 setcc', 'setcc on every byte register', [
  'setcc is 0F 90+cc /0 on a byte register. The condition numbers are the hardware\'s: e = 4, ne = 5, l = 12, …',
  'Without REX, byte registers 4..7 mean ah, ch, dh, bh. To reach spl, bpl, sil, dil emit an empty REX prefix (0x40).',
  'REX is needed when the register is 8..15 (REX.B) OR 4..7 (empty REX); never for 0..3.',
]);

family('x64 jumps', 'jmp/jcc/call with rel8 and rel32', [
  'Relative jumps count from the END of the jump instruction: rel = target - (address of the jump + its length).',
  'jmp rel8 EB cb, jmp rel32 E9 cd, jcc rel8 70+cc cb, jcc rel32 0F 80+cc cd, call rel32 E8 cd. Displacements are signed, little-endian.',
  'rel8 must be -128..127; anything else is a RangeError naming rel8.',
]);

family('x64 random', 'random operand combinations', [
  'These mix all the families above with random registers, immediates and displacements.',
  'Look at the first failing vector: its name says which encoder and operands.',
  'Most failures here are a REX bit (register 8..15) or a displacement-size choice at the edges.',
]);

check(
  'x64 encoders refuse operands that do not fit, naming the instruction and field',
  () => {
    const { Reg, Cond } = x64;
    expectRangeErrors(
      [
        { text: 'addq_ri(rax, 2**31)', run: () => x64.addq_ri(Reg.rax, 2 ** 31), mentions: ['add', 'imm32'] },
        { text: 'subq_ri(rcx, -(2**31) - 1)', run: () => x64.subq_ri(Reg.rcx, -(2 ** 31) - 1), mentions: ['sub', 'imm32'] },
        { text: 'cmpq_ri(r8, 1.5)', run: () => x64.cmpq_ri(Reg.r8, 1.5), mentions: ['cmp', 'imm32'] },
        { text: 'testq_ri(rax, 2**32)', run: () => x64.testq_ri(Reg.rax, 2 ** 32), mentions: ['test', 'imm32'] },
        { text: 'movq_mi(mem(rax), 2**31)', run: () => x64.movq_mi(x64.mem(Reg.rax, 0), 2 ** 31), mentions: ['mov', 'imm32'] },
        { text: 'movq_ri(rax, 2n**64n)', run: () => x64.movq_ri(Reg.rax, 2n ** 64n), mentions: ['mov', 'imm64'] },
        { text: 'shlq_ri(rax, 64)', run: () => x64.shlq_ri(Reg.rax, 64), mentions: ['shl', 'count'] },
        { text: 'sarq_ri(rdx, -1)', run: () => x64.sarq_ri(Reg.rdx, -1), mentions: ['sar', 'count'] },
        { text: 'jmp_rel8(300)', run: () => x64.jmp_rel8(300), mentions: ['jmp', 'rel8'] },
        { text: 'jmp_rel8(-129)', run: () => x64.jmp_rel8(-129), mentions: ['jmp', 'rel8'] },
        { text: 'jcc_rel8(e, 128)', run: () => x64.jcc_rel8(Cond.e, 128), mentions: ['je', 'rel8'] },
        { text: 'jmp_rel32(2**31)', run: () => x64.jmp_rel32(2 ** 31), mentions: ['jmp', 'rel32'] },
        { text: 'call_rel32(-(2**31) - 1)', run: () => x64.call_rel32(-(2 ** 31) - 1), mentions: ['call', 'rel32'] },
        { text: 'movq_rr(16 as Reg, rax)', run: () => x64.movq_rr(16 as never, Reg.rax), mentions: ['mov', 'register'] },
        { text: 'mem(rbx, rsp, 1, 0)', run: () => x64.mem(Reg.rbx, Reg.rsp, 1, 0), mentions: ['index', 'rsp'] },
        { text: 'mem(rbx, 2**31)', run: () => x64.mem(Reg.rbx, 2 ** 31), mentions: ['disp'] },
        { text: 'leaq_rip(rax, 2**31)', run: () => x64.leaq_rip(Reg.rax, 2 ** 31), mentions: ['lea', 'rel32'] },
        { text: 'movabsq_ri(rax, 2n**64n)', run: () => x64.movabsq_ri(Reg.rax, 2n ** 64n), mentions: ['movabs', 'imm64'] },
        { text: 'cmovcc_rr(16, rax, rcx)', run: () => x64.cmovcc_rr(16 as never, Reg.rax, Reg.rcx), mentions: ['condition'] },
        { text: 'mem(r12, rsp, 8, 0)', run: () => x64.mem(Reg.r12, Reg.rsp, 8, 0), mentions: ['index', 'rsp'] },
        { text: 'mem(rbx, rcx, 3, 0)', run: () => x64.mem(Reg.rbx, Reg.rcx, 3 as never, 0), mentions: ['scale'] },
      ],
      thrownBy,
    );
  },
  {
    hints: [
      'An encoder that cannot encode its operands must throw, never return bytes that mean something else: a truncated immediate is a wrong program.',
      'Throw `new RangeError(`${instruction text}: ${field} must be …`)`: the message must contain the mnemonic (add, jmp, je, …) and the field (imm32, rel8, count, imm64, register).',
      'imm32: an integer in -2^31..2^31-1; rel8: -128..127; shift counts: 0..63; movq_ri: a bigint in -2^63..2^64-1.',
    ],
  },
);
