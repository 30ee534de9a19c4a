/**
 * Chapter 04: labels and fixups. Loops (backward branches), exits (forward branches bound
 * later), many branches to one label, long branches, the exact bytes of a patched branch,
 * an unbound label at finish, out-of-range short branches, and listings with comments.
 * Everything executes on the worker's architecture.
 */
import * as assert from 'uvu/assert';
import { check, reportOutcome, thrownBy } from '#harness/check.ts';
import { expectBytes } from '#harness/expect.ts';
import { disassemble } from '#native/disasm.ts';
import { asm, build, ch04, i64, Mismatch, newMasm, same, withCode } from './support.ts';

check(
  'a loop with a backward branch sums 1..n',
  (t) => {
    const code = build(t, (m) => {
      const { result, args, scratch } = m.regs;
      const i = scratch[0]!;
      const loop = m.newLabel('loop');
      m.move(i, args[0]!); // first: the result register may be the argument register
      m.moveImmediate(result, 0n);
      m.bind(loop);
      m.add(result, result, i);
      m.addImmediate(i, i, -1);
      m.branchIfImmediate('gt', i, 0, loop);
      m.ret();
    });
    withCode(code, 1, (fn) => {
      const ns = [1n, 2n, 3n, 10n, 100n, 1000n];
      for (let k = 0; k < 8; k++) ns.push(BigInt(1 + Math.floor(t.random() * 100_000)));
      for (const n of ns) same(fn(n), (n * (n + 1n)) / 2n, `sum 1..${n}`, code, t.arch);
    });
  },
  {
    hints: [
      'A label bound BEFORE the branch that uses it is a backward branch: its offset is known, so the branch can be encoded at once.',
      'x86-64 counts the displacement from the end of the jump (rel = target - (start + length)); AArch64 from the branch itself (offset = target - start).',
      'A backward x86-64 jump within -128..127 bytes can use the 2-byte rel8 form; measure with the rel8 length, not the rel32 one.',
    ],
  },
);

check(
  'a countdown exits through a forward branch to a label bound later',
  (t) => {
    // steps(n): r = 0; loop: if (n <= 0) goto done; r += 3; n -= 1; goto loop; done: return r
    let exitOffset: number | undefined;
    const code = build(t, (m) => {
      const { result, args, scratch } = m.regs;
      const n = scratch[0]!;
      const loop = m.newLabel('loop');
      const done = m.newLabel('done');
      m.move(n, args[0]!);
      m.moveImmediate(result, 0n);
      m.bind(loop);
      m.branchIfImmediate('le', n, 0, done);
      m.addImmediate(result, result, 3);
      m.addImmediate(n, n, -1);
      m.jump(loop);
      m.trap(); // never reached: the jump goes back
      assert.is(done.offset, undefined, 'a label is unbound (offset undefined) until bind');
      m.bind(done);
      exitOffset = done.offset;
      m.ret();
    });
    assert.ok(exitOffset !== undefined && exitOffset > 0, `after bind, the label's offset is where it was bound; got ${exitOffset}`);
    withCode(code, 1, (fn) => {
      for (const n of [-5n, 0n, 1n, 2n, 7n, 1000n, BigInt(Math.floor(t.random() * 5000))]) {
        same(fn(n), n > 0n ? 3n * n : 0n, `countdown from ${n}`, code, t.arch);
      }
    });
  },
  {
    hints: [
      'A branch to a label that is not bound yet cannot be encoded: emit it with a displacement of 0 and record a fixup (where the branch starts, its length, the label, how to encode it).',
      'When the label is bound, re-encode every fixup waiting for it with the real distance and lay the result over the placeholder, at the offset where the branch STARTS.',
      'Record the fixup\'s offset before emitting the placeholder (or take the offset emit returns); size after emitting is the END of the branch.',
    ],
  },
);

check(
  'many forward branches to the same labels are all patched',
  (t) => {
    // classify(x): 0 → 100; x < 0 → 200; x > 1000 → 300; otherwise 400, each via a different label
    const code = build(t, (m) => {
      const { result, args } = m.regs;
      const x = args[0]!;
      const zero = m.newLabel('zero');
      const negative = m.newLabel('negative');
      const big = m.newLabel('big');
      const out = m.newLabel('out');
      m.branchIfImmediate('eq', x, 0, zero);
      m.branchIfImmediate('lt', x, 0, negative);
      m.branchIfImmediate('gt', x, 1000, big);
      m.moveImmediate(result, 400n);
      m.jump(out);
      m.bind(zero);
      m.moveImmediate(result, 100n);
      m.jump(out);
      m.bind(negative);
      m.moveImmediate(result, 200n);
      m.jump(out);
      m.bind(big);
      m.moveImmediate(result, 300n);
      m.jump(out);
      m.trap();
      m.bind(out);
      m.ret();
    });
    withCode(code, 1, (fn) => {
      const expected = (x: bigint): bigint => (x === 0n ? 100n : x < 0n ? 200n : x > 1000n ? 300n : 400n);
      for (const x of [0n, -1n, 1n, 1000n, 1001n, -(1n << 63n), (1n << 63n) - 1n, BigInt(Math.floor(t.random() * 3000) - 1000)]) {
        same(fn(x), expected(x), `classify(${x})`, code, t.arch);
      }
    });
  },
  {
    hints: [
      'One label can have any number of fixups waiting for it: keep a list, and patch all of them when it is bound.',
      'A fixup must be removed once it is patched, or finish() will think its label was never bound.',
      'Four jumps to `out` from four places: each has its own distance.',
    ],
  },
);

check(
  'long branches in both directions (more than 127 bytes away)',
  (t) => {
    // r = 0; loop: if (n == 0) goto done; r += 1 .. (60 times) ..; n -= 1; goto loop; done: return r
    const code = build(t, (m) => {
      const { result, args, scratch } = m.regs;
      const n = scratch[0]!;
      const loop = m.newLabel('loop');
      const done = m.newLabel('done');
      m.move(n, args[0]!);
      m.moveImmediate(result, 0n);
      m.bind(loop);
      m.branchIfImmediate('eq', n, 0, done);
      for (let k = 0; k < 100; k++) m.addImmediate(result, result, k % 2 === 0 ? 1 : 2);
      m.addImmediate(n, n, -1);
      m.jump(loop);
      m.bind(done);
      m.ret();
    });
    assert.ok(code.length > 300, `expected a body of more than 300 bytes, got ${code.length}`);
    withCode(code, 1, (fn) => {
      for (const n of [0n, 1n, 2n, 50n, BigInt(Math.floor(t.random() * 1000))]) same(fn(n), 150n * n, `long loop ${n} times`, code, t.arch);
    });
  },
  {
    hints: {
      x64: [
        'A forward jump must use rel32 unless you know it stays within 127 bytes; a backward one may use rel8 only if the distance fits.',
        'The distance of a backward rel32 jump is counted from the end of the 5-byte (jmp) or 6-byte (jcc) instruction, not the 2-byte short one.',
        'Choose the form first (rel8 if -128 <= target - (offset + 2) <= 127, else rel32), then measure from the end of the form you chose.',
      ],
      arm64: [
        'b.cond has 19 bits of word offset (±1 MiB), b has 26 (±128 MiB): a few hundred bytes are always in reach.',
        'The offset counts from the branch instruction itself, in words: (target - offset of the branch) / 4.',
        'A long branch backward has a negative offset: mask it to the field width (imm19 & 0x7ffff) before shifting it into place.',
      ],
    },
  },
);

/** The little-endian bytes of a 32-bit word. */
function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

check(
  'a patched forward branch holds the distance its ISA counts',
  (t) => {
    if (t.arch === 'x64') {
      const a = new asm.X64Assembler();
      const target = a.newLabel('target');
      a.emit([0x90]); // nop, so the jump does not start at 0
      a.jcc(4, target); // je
      for (let k = 0; k < 300; k++) a.emit([0x90]);
      a.bind(target);
      a.emit([0xc3]);
      const code = a.finish();
      reportOutcome('je rel32 over 300 bytes', { output: [Buffer.from(code.subarray(1, 7)).toString('hex')] });
      // je rel32 at 1..6; its end is 7; the target is 1 + 6 + 300 = 307; rel32 = 300.
      expectBytes(code.subarray(1, 7), [0x0f, 0x84, ...le32(300)], 'x64', 'je to a label 300 bytes past the end of the jump');
      const back = new asm.X64Assembler();
      const top = back.newLabel('top');
      back.bind(top);
      for (let k = 0; k < 10; k++) back.emit([0x90]);
      back.jmp(top);
      const backward = back.finish().subarray(10);
      reportOutcome('jmp back over 10 nops', { output: [Buffer.from(backward).toString('hex')] });
      expectBytes(backward, [0xeb, 0x100 - 12], 'x64', 'jmp back over 10 nops (rel8 = -12: counted from the end of the 2-byte jmp)');
    } else {
      const a = new asm.Arm64Assembler();
      const target = a.newLabel('target');
      a.emit(0xd503201f); // nop
      a.b_cond(1, target); // b.ne at offset 4
      for (let k = 0; k < 75; k++) a.emit(0xd503201f);
      a.bind(target); // offset 4 + 4 + 300 = 308: 304 bytes from the branch, imm19 = 76
      a.emit(0xd65f03c0);
      const code = a.finish();
      reportOutcome('b.ne over 304 bytes', { output: [Buffer.from(code.subarray(4, 8)).toString('hex')] });
      expectBytes(code.subarray(4, 8), 0x54000001 | (76 << 5), 'arm64', 'b.ne to a label 304 bytes past the start of the branch');
      const back = new asm.Arm64Assembler();
      const top = back.newLabel('top');
      back.bind(top);
      for (let k = 0; k < 10; k++) back.emit(0xd503201f);
      back.b(top);
      const backward = back.finish().subarray(40);
      reportOutcome('b back over 10 nops', { output: [Buffer.from(backward).toString('hex')] });
      expectBytes(backward, (0x14000000 | (0x3ffffff & -10)) >>> 0, 'arm64', 'b back over 10 nops (imm26 = -10 words: counted from the branch itself)');
    }
  },
  {
    hints: {
      x64: [
        'rel32 = target - (offset of the jump + its length): x86-64 counts from the END of the jump.',
        'The displacement field is the LAST 4 bytes of the instruction (after 0f 84 for jcc, after e9 for jmp).',
        'Re-encoding the whole instruction with the encoder of chapter 03 (jcc_rel32(cc, rel)) gets the field position right for free.',
      ],
      arm64: [
        'AArch64 counts from the branch itself: imm19 = (target - offset of the branch) / 4.',
        'imm19 sits in bits 23:5 of b.cond and cbz; imm26 in bits 25:0 of b and bl.',
        'Re-encoding the whole instruction with the encoder of chapter 03 (b_cond(cc, offset)) gets the field position right for free.',
      ],
    },
  },
);

check(
  'finish refuses a label that was never bound, naming it',
  (t) => {
    const m = newMasm(t);
    const nowhere = m.newLabel('nowhere');
    m.branchIfImmediate('eq', m.regs.args[0]!, 0, nowhere);
    m.ret();
    const error = thrownBy(() => m.finish());
    assert.ok(error instanceof Error, `finish() with a branch to an unbound label must throw; it returned normally`);
    assert.match((error as Error).message, 'nowhere', `the error must name the label; got: ${(error as Error).message}`);

    const twice = newMasm(t);
    const here = twice.newLabel('here');
    twice.bind(here);
    twice.ret();
    const again = thrownBy(() => twice.bind(here));
    assert.ok(again instanceof Error, 'binding a label a second time must throw');
    assert.match((again as Error).message, 'here', `the error must name the label; got: ${(again as Error).message}`);

    // A label bound but never used, and one made but never bound nor used, are fine.
    const fine = newMasm(t);
    fine.newLabel('unused');
    fine.bind(fine.newLabel('bound'));
    fine.move(fine.regs.result, fine.regs.args[0]!);
    fine.ret();
    const code = fine.finish();
    withCode(code, 1, (fn) => same(fn(42n), 42n, 'identity with unused labels', code, t.arch));
  },
  {
    hints: [
      'At finish, any fixup still waiting means its label was never bound: the placeholder would jump to itself (or nowhere).',
      'Throw an Error whose message names the label (and, helpfully, the branch and its offset).',
      'Only labels that are referenced matter: an unused label is not an error.',
    ],
  },
);

check(
  'an out-of-range forced rel8 jump or adr is a RangeError naming the instruction, the label and the distance',
  (t) => {
    const expectRange = (action: () => unknown, insn: string, label: string, distance: number): void => {
      const error = thrownBy(action);
      assert.ok(error instanceof RangeError, `${insn} to '${label}' ${distance} bytes away must throw a RangeError; got ${error === undefined ? 'no error' : String(error)}`);
      const message = (error as Error).message;
      for (const part of [insn, label, String(distance)]) {
        assert.ok(message.includes(part), `the RangeError must name '${part}'; got: ${message}`);
      }
    };
    if (t.arch === 'x64') {
      // Forward: jmp rel8 over 127 bytes is the limit; 128 is out of range.
      const ok = new asm.X64Assembler();
      const far = ok.newLabel('far');
      ok.jmp(far, 'rel8');
      for (let k = 0; k < 127; k++) ok.emit([0xcc]); // int3
      ok.bind(far);
      ok.emit([0x48, 0xc7, 0xc0, 42, 0, 0, 0]); // mov rax, 42
      ok.emit([0xc3]);
      const code = ok.finish();
      withCode(code, 0, (fn) => same(fn(), 42n, 'jmp rel8 over 127 int3 bytes to mov rax, 42', code, t.arch));
      const bad = new asm.X64Assembler();
      const tooFar = bad.newLabel('too_far');
      bad.jmp(tooFar, 'rel8');
      for (let k = 0; k < 128; k++) bad.emit([0xcc]);
      expectRange(() => bad.bind(tooFar), 'jmp', 'too_far', 128);
      // Backward: a forced rel8 129 bytes back.
      const back = new asm.X64Assembler();
      const top = back.newLabel('top');
      back.bind(top);
      for (let k = 0; k < 127; k++) back.emit([0x90]);
      expectRange(() => back.jcc(5, top, 'rel8'), 'jne', 'top', -129);
    } else {
      // Conditional branches are relaxed by the assembler (see the relaxation check); adr is
      // not: an address has no veneer, so adr to a label beyond imm21 (±1 MiB) is an error.
      const ok = new asm.Arm64Assembler();
      const far = ok.newLabel('far');
      ok.adr(1, far); // adr x1, far
      ok.emit(0xd61f0020); // br x1
      for (let k = 0; k < 262141; k++) ok.emit(0); // udf #0
      ok.bind(far); // 8 + 4 * 262141 = 1048572 bytes past the adr: within reach
      ok.emit(0xd2800540); // movz x0, #42
      ok.emit(0xd65f03c0); // ret
      const code = ok.finish();
      withCode(code, 0, (fn) => same(fn(), 42n, 'adr x1 to a label 1048572 bytes ahead, br x1 to it', code, t.arch));
      const bad = new asm.Arm64Assembler();
      const tooFar = bad.newLabel('too_far');
      bad.adr(1, tooFar);
      for (let k = 0; k < 262144; k++) bad.emit(0);
      expectRange(() => bad.bind(tooFar), 'adr', 'too_far', 1048580);
      const back = new asm.Arm64Assembler();
      const top = back.newLabel('top');
      back.bind(top);
      for (let k = 0; k < 262144; k++) back.emit(0xd503201f);
      back.adr(2, top); // exactly -1048576: the limit
      back.emit(0xd503201f);
      expectRange(() => back.adr(2, top), 'adr', 'top', -1048584);
    }
  },
  {
    timeoutMs: 15000,
    hints: [
      'Before re-encoding a fixup, compare the distance with what the field can hold: rel8 -128..127; imm14 ±32 KiB, imm19 ±1 MiB, imm26 ±128 MiB (in bytes, multiples of 4).',
      'Throw a RangeError that names the instruction, the label and the distance, so the person who wrote the branch knows which one is too far.',
      'A backward branch is checked when it is emitted; a forward one when its label is bound.',
    ],
  },
);

check(
  'the listing shows capstone\'s disassembly of the patched code, with the comments',
  (t) => {
    const m = newMasm(t);
    const { result, args, scratch } = m.regs;
    const r = scratch[0]!;
    const skip = m.newLabel('skip');
    m.comment('r = x');
    m.move(r, args[0]!);
    m.comment('if (x < 0)');
    m.branchIfImmediate('ge', r, 0, skip);
    m.comment('r = -x');
    m.neg(r, r);
    m.bind(skip);
    m.comment('return r');
    m.move(result, r);
    m.ret();
    m.trap();
    const code = m.finish();
    const lines = m.listing();
    const reference = disassemble(code, t.arch);
    const fail = (message: string): never => {
      throw new Mismatch(message, code, t.arch);
    };
    if (lines.length !== reference.length) fail(`the listing has ${lines.length} lines; the code has ${reference.length} instructions`);
    lines.forEach((line, k) => {
      const want = reference[k]!;
      if (line.offset !== want.offset || line.text !== want.text || [...line.bytes].join() !== [...want.bytes].join()) {
        fail(`listing line ${k}: expected offset ${want.offset}, '${want.text}'; got offset ${line.offset}, '${line.text}'`);
      }
    });
    const commented = lines.filter((l) => l.comment !== undefined).map((l) => l.comment);
    assert.equal(commented, ['r = x', 'if (x < 0)', 'r = -x', 'return r'], 'the comments, in order, each on one instruction');
    const returnLine = lines.find((l) => l.comment === 'return r')!;
    assert.is(returnLine.offset, skip.offset, 'the comment given after bind(skip) sits on the instruction at skip');
    const branch = lines.find((l) => /^(j|b\.|tb|cb)/.test(l.text));
    if (!branch || !branch.text.includes(`0x${skip.offset!.toString(16)}`)) {
      fail(`the conditional branch in the listing should show its patched target 0x${skip.offset!.toString(16)}; got '${branch?.text}'`);
    }
    assert.match(lines.at(-1)!.text, t.arch === 'x64' ? /^ud2/ : /^udf/, 'trap() is ud2 / udf #0');
    const text = ch04.formatListing(lines);
    const printed = text.split('\n');
    assert.is(printed.length, lines.length, 'formatListing prints one line per instruction');
    assert.ok(printed[0]!.startsWith('0000  '), `a line starts with the offset in 4 hex digits; got '${printed[0]}'`);
    assert.ok(printed.some((l) => l.includes(returnLine.text) && l.trimEnd().endsWith('; return r')), `the line at skip ends with '; return r':\n${text}`);
    withCode(code, 1, (fn) => {
      for (const x of [5n, -5n, 0n, i64(-(1n << 62n))]) same(fn(x), x < 0n ? -x : x, `abs(${x})`, code, t.arch);
    });
  },
  {
    hints: [
      'comment(text) does not emit anything: it remembers the text, and the next instruction emitted takes it (keyed by that instruction\'s offset).',
      'listing() disassembles the finished, patched bytes with capstone (disassemble from native/disasm.ts) and looks up each line\'s offset among the comments.',
      'Apply the patches before disassembling, or the forward branch shows a displacement of 0.',
    ],
  },
);
