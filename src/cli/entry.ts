// The CLI's executable entry point (bundled as dist/cli.cjs).
import { hideBin } from 'yargs/helpers';
import { main } from './main.js';
import { handleError } from './handleError.js';

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (e) => process.exit(handleError(e)),
);
