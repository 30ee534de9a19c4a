/**
 * A learner mid-course who updates the workbook as the README says (commit, then
 * `git pull --no-rebase`, keeping their side of a conflict) can still `npm run reset` a
 * chapter to the new version's scaffold, not the old one their snapshot holds.
 * Run in a temporary git repository with a tiny two-version workbook.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHAPTERS } from '../manifest.ts';
import { snapshotPristine, snapshotVersion } from '../tools/pristine.ts';
import { resetChapter } from '../tools/reset.ts';

const chapter = CHAPTERS[0]!;
const file = 'chapters/01-executable-memory/code-region.ts';

function workbook(): { dir: string; git: (...args: string[]) => { status: number | null; stdout: string } } {
  const dir = mkdtempSync(join(tmpdir(), 'workbook-update-'));
  const git = (...args: string[]) =>
    spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], { cwd: dir, encoding: 'utf8' });
  return { dir, git };
}

function write(dir: string, path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true });
  writeFileSync(join(dir, path), text);
}

test('after a merged update, reset restores the new version of the scaffold', () => {
  const { dir, git } = workbook();
  try {
    if (git('init', '-q').status !== 0) return; // no git here: nothing to test
    write(dir, 'package.json', '{ "version": "0.1.0" }\n');
    write(dir, '.gitignore', '.workbook/\n');
    write(dir, file, '// scaffold 0.1.0\n');
    git('add', '.');
    git('commit', '-q', '-m', 'workbook 0.1.0');
    git('branch', 'workbook');
    assert.equal(snapshotPristine(dir).map((c) => c.number), ['01'], 'npm install snapshots the chapter');
    assert.is(snapshotVersion(dir, chapter), '0.1.0');

    write(dir, file, '// my work\n');
    git('commit', '-q', '-am', 'my work');

    git('checkout', '-q', 'workbook');
    write(dir, 'package.json', '{ "version": "0.2.0" }\n');
    write(dir, file, '// scaffold 0.2.0\n');
    git('commit', '-q', '-am', 'workbook 0.2.0');
    git('checkout', '-q', 'main');

    git('merge', '--no-edit', '-q', 'workbook'); // what git pull --no-rebase does; code-region.ts conflicts
    git('checkout', '--ours', file);
    git('add', '.');
    git('commit', '-q', '--no-edit');
    assert.is(readFileSync(join(dir, file), 'utf8'), '// my work\n', 'the learner kept their work');

    assert.equal(snapshotPristine(dir).map((c) => c.number), ['01'], 'npm install takes the snapshot again, from git');
    assert.is(snapshotVersion(dir, chapter), '0.2.0');
    const outcome = resetChapter(dir, chapter);
    assert.is(readFileSync(join(dir, file), 'utf8'), '// scaffold 0.2.0\n', `reset restores 0.2.0's scaffold (from ${outcome.source})`);
    assert.is(readFileSync(join(outcome.backup!, 'code-region.ts'), 'utf8'), '// my work\n', 'the learner work is backed up');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale snapshot with no update in git is refused with what to do, not restored', () => {
  const { dir, git } = workbook();
  try {
    write(dir, 'package.json', '{ "version": "0.1.0" }\n');
    write(dir, file, '// scaffold 0.1.0\n');
    snapshotPristine(dir);
    write(dir, 'package.json', '{ "version": "0.2.0" }\n');
    write(dir, file, '// my work\n');
    if (git('init', '-q').status !== 0) return;
    assert.throws(() => resetChapter(dir, chapter), /snapshot in \.workbook\/pristine\/ is of workbook 0\.1\.0.*git pull --no-rebase/);
    assert.is(readFileSync(join(dir, file), 'utf8'), '// my work\n', 'nothing was touched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
