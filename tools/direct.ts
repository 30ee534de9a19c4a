/**
 * The direct entry's program: the command line with the reference VM bundled in (build.mjs
 * makes one JavaScript file of it; jot.mjs runs that file). Nothing here is loaded at start-up
 * but JavaScript: no TypeScript to strip, no module resolution beyond Node's own modules,
 * koffi and capstone.
 */
import { cli } from './jit.ts';
import { REFERENCE_VM } from './reference-vm.ts';

await cli(process.argv.slice(2), REFERENCE_VM);
