// The CLI's executable entry point (bundled as dist/cli.cjs).
import { hideBin } from 'yargs/helpers';
import { main } from './main.js';
import { handleError } from './handleError.js';
import { isRenderWorker, serveRenderRequests } from '../render/renderWorkers.js';

/**
 * Exit once stdout and stderr have taken everything written: process.exit
 * right after a large write to a pipe cuts it (status --json of 500 nodes
 * piped to a reader ended at 214 KiB; 3 MB written, 128 KiB read through a
 * shell pipe).
 */
function exitAfterOutput(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// generate starts this same file on worker threads to render hosts' files.
if (isRenderWorker()) serveRenderRequests();
else main(hideBin(process.argv)).then(exitAfterOutput, (e) => exitAfterOutput(handleError(e)));
