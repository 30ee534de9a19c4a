/**
 * A machine that cannot run the other architecture reports its checks as skipped, with
 * the command that fixes it, and never as passed; --require-all-arches turns that into a
 * failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostArch, type Arch } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS } from '../manifest.ts';
import { runSession } from '../harness/session.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const other: Arch = hostArch() === 'x64' ? 'arm64' : 'x64';

function fakeRoot(setup?: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'workbook-platform-'));
  if (setup) {
    mkdirSync(join(dir, '.toolchain'));
    writeFileSync(join(dir, '.toolchain', 'other-arch.json'), JSON.stringify(setup));
  }
  return dir;
}

test('the host architecture always runs natively', () => {
  const found = availability(hostArch(), fakeRoot());
  assert.ok(found.available);
  if (found.available) assert.is(found.launcher.mode, 'native');
});

test('without a set-up toolchain the other architecture is unavailable, and says to run setup', () => {
  const dir = fakeRoot();
  const found = availability(other, dir);
  assert.not.ok(found.available);
  if (!found.available) assert.match(found.reason, /npm run setup/);
  rmSync(dir, { recursive: true });
});

test('a missing qemu names the apt-get command that installs it', () => {
  const dir = fakeRoot({ arch: other, node: '/nonexistent/node', qemu: '/nonexistent/qemu', sysroot: '/nonexistent' });
  const found = availability(other, dir);
  assert.not.ok(found.available);
  if (!found.available) assert.match(found.reason, /apt-get install -y qemu-user-static/);
  rmSync(dir, { recursive: true });
});

test('a session reports the unavailable architecture as skipped, not passed', async () => {
  const dir = fakeRoot({ arch: other, node: '/nonexistent/node', qemu: '/nonexistent/qemu', sysroot: '/nonexistent' });
  // The session reads availability from `root`; the checks themselves are never started for it.
  const results = await runSession({ root: dir, chapters: [CHAPTERS[0]!], arches: [other] });
  assert.is(results.length, 1);
  assert.is(results[0]!.status, 'skip');
  assert.match(results[0]!.message, /skipped: .*apt-get install/);
  rmSync(dir, { recursive: true });
});

test('--require-all-arches makes a skipped architecture fail the command', () => {
  const dir = fakeRoot();
  const run = (extra: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(root, 'checks', 'cli.ts'), '1', '--solutions', '--arch', other, ...extra], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, WORKBOOK_TOOLCHAIN_ROOT: dir },
    });
  const relaxed = run([]);
  const strict = run(['--require-all-arches']);
  rmSync(dir, { recursive: true });
  assert.match(relaxed.stdout, /0 passed, 0 failed, 1 skipped/);
  assert.is(relaxed.status, 0, 'a skip alone does not fail the command');
  assert.is(strict.status, 1, '--require-all-arches fails on a skip');
});

test.run();
