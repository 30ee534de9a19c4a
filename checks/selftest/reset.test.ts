/**
 * `npm run reset chapter-NN` restores exactly the pristine files of one chapter, keeps a
 * backup of the learner's, and touches no other chapter. Run in temporary copies.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHAPTERS } from '../manifest.ts';
import { recordResults, latestGroup, listFiles } from '../tools/state.ts';
import { snapshotDir, snapshotPristine } from '../tools/pristine.ts';
import { resetChapter } from '../tools/reset.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const [ch01, ch02] = [CHAPTERS[0]!, CHAPTERS[1]!];
const dir01 = 'chapters/01-executable-memory';
const dir02 = 'chapters/02-add-four';

/** A temporary workbook holding chapters 01 and 02 as they are in this repository. */
function workbook(): string {
  const temp = mkdtempSync(join(tmpdir(), 'workbook-reset-'));
  for (const dir of [dir01, dir02]) cpSync(join(root, dir), join(temp, dir), { recursive: true });
  return temp;
}

function sameFiles(a: string, b: string): void {
  assert.equal(listFiles(a), listFiles(b), `the same files in ${a} and ${b}`);
  for (const f of listFiles(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `${f} is byte for byte the pristine one`);
}

test('restores the snapshot exactly, backs up the learner files, leaves other chapters alone', () => {
  const temp = workbook();
  try {
    assert.equal(snapshotPristine(temp).map((c) => c.number), ['01', '02']);
    const mine = join(temp, dir01, 'code-region.ts');
    writeFileSync(mine, '// my work in progress\n');
    writeFileSync(join(temp, dir01, 'notes.txt'), 'my notes\n');
    writeFileSync(join(temp, dir02, 'add-four.ts'), '// chapter 02 work\n');
    assert.equal(snapshotPristine(temp), [], 'an existing snapshot is never overwritten');
    recordResults(temp, [{ chapter: '01', check: 'c', arch: 'x64', mode: 'native', status: 'fail', message: 'm', ms: 0, points: 1 }]);

    const outcome = resetChapter(temp, ch01, new Date('2026-11-22T10:30:00Z'));
    sameFiles(join(temp, dir01), join(root, dir01));
    assert.equal(outcome.removed, ['notes.txt']);
    const backup = join(temp, '.workbook', 'backups', '2026-11-22T10-30-00', dir01);
    assert.is(outcome.backup, backup);
    assert.is(readFileSync(join(backup, 'code-region.ts'), 'utf8'), '// my work in progress\n');
    assert.is(readFileSync(join(backup, 'notes.txt'), 'utf8'), 'my notes\n');
    assert.is(readFileSync(join(temp, dir02, 'add-four.ts'), 'utf8'), '// chapter 02 work\n', 'chapter 02 is untouched');
    assert.is(latestGroup(temp, '01', 'x64'), undefined, 'the old results of the chapter are forgotten');

    writeFileSync(mine, '// second attempt\n');
    const again = resetChapter(temp, ch01, new Date('2026-11-22T10:30:00Z'));
    assert.ok(again.backup!.includes('2026-11-22T10-30-00-2'), 'a second backup in the same second gets its own folder');
    assert.is(readFileSync(join(again.backup!, 'code-region.ts'), 'utf8'), '// second attempt\n');
    sameFiles(join(temp, dir01), join(root, dir01));
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

test('without a snapshot, falls back to the commit that added the files, not the learner commits', () => {
  const temp = workbook();
  const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: temp, encoding: 'utf8' });
  try {
    if (git('init', '-q').status !== 0) return; // no git here: nothing to test
    git('add', '.');
    git('commit', '-q', '-m', 'workbook');
    writeFileSync(join(temp, dir01, 'code-region.ts'), '// committed learner work\n');
    git('commit', '-q', '-am', 'my work');
    resetChapter(temp, ch01);
    sameFiles(join(temp, dir01), join(root, dir01));
    assert.not.ok(existsSync(snapshotDir(temp, ch01)));
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

test('with no pristine copy at all, fails with a clear message and moves nothing', () => {
  const temp = workbook();
  try {
    writeFileSync(join(temp, dir02, 'add-four.ts'), '// mine\n');
    assert.throws(() => resetChapter(temp, ch02), /no pristine copy of chapter 02/);
    assert.is(readFileSync(join(temp, dir02, 'add-four.ts'), 'utf8'), '// mine\n');
    assert.not.ok(existsSync(join(temp, '.workbook', 'backups')));
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
});

test.run();
