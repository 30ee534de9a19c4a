/**
 * The extension points of chapters 05–07 carry a language level shaped like chapter 10's
 * growth (fixtures/extension/level.ts: `try { … } catch e { … }`, a `byte` type, an opcode
 * whose operand decides between a jump and a runtime error, and a replaced call-return test),
 * built without editing any file of those chapters. Its programs parse, type-check, compile,
 * run in the interpreter, and run as machine code on both ISAs: natively, and in a Node.js of
 * the other architecture under qemu-user.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { parseProgram } from '../harness/programs.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const fixtures = join(root, 'checks', 'selftest', 'fixtures', 'extension');
const conditions = ['01', '02', '03', '04', '05', '06', '07'].map((n) => `--conditions=solution-ch${n}`);

interface Ending {
  output: string[];
  result?: string;
  error?: string;
}
interface Report {
  arch: Arch;
  processArch: string;
  programs: { file: string; interpreter: Ending; jit: Ending & { listing: string }; listing: string; stackMaps: { name: string; maps: string[] }[] }[];
  core: Record<string, string | null>;
  errors: Record<string, string | null>;
}

/** Runs the fixture runner in a Node.js of `arch`; undefined when this machine cannot. */
function runOn(arch: Arch): Report | undefined {
  const found = availability(arch, root);
  if (!found.available) {
    console.log(`  (${arch} skipped: ${found.reason})`);
    return undefined;
  }
  const { launcher } = found;
  const child = spawnSync(launcher.command, [...launcher.prefix, ...launcher.typescript, ...conditions, join(fixtures, 'run.ts')], {
    cwd: root, encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024,
  });
  assert.is(child.status, 0, `the runner failed on ${arch}:\n${child.stderr}\n${child.stdout}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Report;
}

const expected = readdirSync(join(fixtures, 'programs')).filter((f) => f.endsWith('.jot')).sort()
  .map((file) => ({ file, program: parseProgram(file, readFileSync(join(fixtures, 'programs', file), 'utf8')) }));

for (const arch of ARCHES) {
  test(`a chapter-10-shaped language level runs in the interpreter and as ${arch} machine code`, () => {
    const report = runOn(arch);
    if (report === undefined) return;
    assert.is(report.arch, arch, 'the runner ran on the architecture asked for');
    assert.is(report.processArch, arch, 'in a Node.js of that architecture');
    assert.equal(report.programs.map((p) => p.file), expected.map((e) => e.file));
    for (const { file, program } of expected) {
      const got = report.programs.find((p) => p.file === file)!;
      for (const [tier, ending] of [['interpreter', got.interpreter], ['template JIT', got.jit]] as const) {
        assert.equal(ending.output, program.expectedOutput, `${file}, ${tier} on ${arch}: the printed lines`);
        assert.is(ending.error, program.expectedError?.message, `${file}, ${tier} on ${arch}: how it ended`);
      }
      assert.is(got.jit.result, got.interpreter.result, `${file} on ${arch}: main's result, JIT against interpreter`);
      assert.match(got.listing, /to_byte \d{4}|to_byte 65535/, `${file}: the bytecode listing names the new opcode`);
      assert.match(got.jit.listing, /; \d{4} to_byte/, `${file}: the machine-code listing names the new opcode`);
    }
    const tryByte = report.programs.find((p) => p.file === 'try_byte.jot')!;
    assert.is(tryByte.jit.result, '700');
    const main = tryByte.stackMaps.find((f) => f.name === 'main')!;
    assert.ok(main.maps.some((m) => / 0:byte \| -$/.test(m)), `a stack map types a live byte local as byte:\n${main.maps.join('\n')}`);
    assert.ok(main.maps.every((m) => !/:byte.*:byte/.test(m)), `no stale byte slot in a stack map:\n${main.maps.join('\n')}`);

    assert.match(report.core.tryInCore ?? 'compiled', /expected expression, found 'try'/, 'core Jot, in the same process, still does not know `try`');
    assert.equal(report.errors, {
      intToByte: "2:17: cannot assign int to 'b' of type byte",
      byteOfBool: '2:9: byte(…) needs an int, found bool',
      byteArithmetic: "2:17: '+' needs int operands, found byte and int",
      catchNameOutOfScope: "3:9: undefined variable 'e'",
      catchNameShadowsOuter: null,
    });
  });
}

test('the level reaches chapters 05–07 only through their exports, never by a path into their files', () => {
  const level = readFileSync(join(fixtures, 'level.ts'), 'utf8');
  assert.not.match(level, /from '[./]*(chapters|solutions)\//);
});

test.run();
