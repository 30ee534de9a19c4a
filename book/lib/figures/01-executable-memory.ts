/** Figures of chapter 01: the life and the states of a code region. */
import { Drawing } from '../svg.ts';

function regionLife(): string {
  const steps = [
    { label: 'mapped', perms: 'rw-p', note: 'all zeros' },
    { label: 'written', perms: 'rw-p', note: 'your bytes' },
    { label: 'sealed', perms: 'r-xp', note: 'cache flushed' },
    { label: 'called', perms: 'r-xp', note: 'f(1n) → 5n' },
    { label: 'unmapped', perms: '(gone)', note: 'no mapping' },
  ];
  const calls = ['write', 'mprotect', 'call', 'munmap'];
  const box = 116;
  const gap = 74;
  const drawing = new Drawing(20 + steps.length * box + (steps.length - 1) * gap, 150,
    'The life of a code region, left to right: mmap gives writable zeroed pages (rw-p); write copies the code in; mprotect seals them read and execute (r-xp) and the cache is flushed; the code is called; munmap removes the pages. No step is writable and executable at once.');
  drawing.text(10, 20, 'mmap', { anchor: 'start', mono: true, size: 12 });
  drawing.arrow(40, 28, 40, 48);
  steps.forEach((step, i) => {
    const x = 10 + i * (box + gap);
    drawing.box(x, 50, box, 56, step.label, step.perms, { accent: step.perms.includes('x') });
    drawing.text(x + box / 2, 128, step.note, { size: 12, muted: true });
    if (i < calls.length) drawing.arrow(x + box + 3, 78, x + box + gap - 3, 78, calls[i]!);
  });
  return drawing.render('The W^X life of a region, with the permissions <code>/proc/self/maps</code> shows at each step. Shaded: executable, and never writable at the same time.');
}

function regionStates(): string {
  const drawing = new Drawing(600, 190,
    'The three states of a CodeRegion: allocate() leads to writable (READ|WRITE); seal() goes from writable to executable (READ|EXEC); unseal() goes back; dispose() goes from either to disposed (unmapped).');
  drawing.text(90, 18, 'allocate()', { mono: true, size: 12 });
  drawing.arrow(90, 24, 90, 56);
  drawing.box(20, 58, 140, 56, 'writable', 'READ | WRITE');
  drawing.box(220, 58, 140, 56, 'executable', 'READ | EXEC', { accent: true });
  drawing.box(460, 58, 120, 56, 'disposed', 'unmapped');
  drawing.arrow(162, 74, 218, 74, 'seal()');
  drawing.arrow(218, 100, 162, 100);
  drawing.text(190, 128, 'unseal()', { mono: true, size: 12 });
  drawing.arrow(362, 86, 458, 86, 'dispose()');
  drawing.arrow(90, 116, 90, 160);
  drawing.arrow(90, 160, 520, 160);
  drawing.arrow(520, 160, 520, 116);
  drawing.text(305, 180, 'dispose()', { mono: true, size: 12 });
  return drawing.render('The three states of a <code>CodeRegion</code>. No state is writable and executable at once.');
}

export const FIGURES_01: Readonly<Record<string, () => string>> = {
  'region-life': regionLife,
  'region-states': regionStates,
};
