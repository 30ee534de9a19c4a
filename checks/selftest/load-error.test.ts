/**
 * A learner file that does not parse fails every check with the same message on both
 * architectures: `chapters/…/file.ts:line:column: problem` (tsx on the host and Node.js's
 * own type stripping on the other architecture word their errors differently).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES } from '#native/arch.ts';
import { availability } from '#native/platform.ts';
import { CHAPTERS } from '../manifest.ts';
import { runSession, stageWorkspace } from '../harness/session.ts';
import { codeFrame, syntaxProblem } from '../harness/load-error.ts';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const file = 'chapters/01-executable-memory/code-region.ts';
const arches = ARCHES.filter((arch) => availability(arch, root).available);

test('the parser finds a syntax error and an enum with their places', async () => {
  const staged = stageWorkspace(root, root);
  try {
    const path = join(staged.root, file);
    const source = readFileSync(path, 'utf8');
    writeFileSync(path, source.replace('export class CodeRegion {', 'export class CodeRegion { let x = ;'));
    const place = await syntaxProblem(path, file);
    assert.ok(place, 'a syntax error is found');
    const line = source.split('\n').findIndex((l) => l.startsWith('export class CodeRegion {')) + 1;
    assert.is(place!.line, line);
    assert.match(codeFrame(staged.root, place!), /> +\d+ \| export class CodeRegion \{ let x = ;\n +\| +\^/);
    writeFileSync(path, `enum Color { Red }\n${source}`);
    const refused = await syntaxProblem(path, file);
    assert.is(refused?.line, 1);
    assert.match(refused!.problem, /enum/);
    writeFileSync(path, source);
    assert.is(await syntaxProblem(path, file), undefined, 'the scaffold itself parses');
  } finally {
    staged.remove();
  }
});

test(`a syntax error is reported with file:line:column on ${arches.join(' and ')}`, async () => {
  const staged = stageWorkspace(root, root);
  try {
    const path = join(staged.root, file);
    const source = readFileSync(path, 'utf8');
    writeFileSync(path, source.replace('export class CodeRegion {', 'export class CodeRegion { let x = ;'));
    const line = source.split('\n').findIndex((l) => l.startsWith('export class CodeRegion {')) + 1;
    const results = await runSession({ root: staged.root, chapters: [CHAPTERS[0]!], arches });
    for (const arch of arches) {
      const mine = results.filter((r) => r.arch === arch);
      assert.ok(mine.length > 0, `results on ${arch}`);
      for (const r of mine) {
        assert.is(r.status, 'fail', `${arch}: ${r.check}`);
        assert.match(r.message, new RegExp(`^your code could not be loaded: chapters/01-executable-memory/code-region\\.ts:${line}:\\d+: `), `${arch}: ${r.message}`);
        assert.not.match(r.message, /workbook-|\/tmp\//, 'no staged temp path in the message');
      }
    }
  } finally {
    staged.remove();
  }
});

test.run();
