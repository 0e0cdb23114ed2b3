// ocf:tripleo:ipsec entry point: dispatch over actions. meta-data and usage
// answer before anything else is looked at.
import { METADATA, METHODS, USAGE, ACTION_TIMEOUTS_S } from './metadata.js';
import { OCF, OcfExit, err, exitReason, log, out, type OcfCode } from './ocf.js';
import { readParams } from './params.js';
import { PlutoCtl, Deadline } from './plutoctl.js';
import { monitor, start, stop, validateAll } from './actions.js';

function run(action: string | undefined): OcfCode {
  switch (action) {
    case 'meta-data':
      out(METADATA);
      return OCF.SUCCESS;
    case 'usage':
    case 'help':
      out(USAGE);
      return OCF.SUCCESS;
    case 'methods':
      out(METHODS.join('\n') + '\n');
      return OCF.SUCCESS;
    case 'start':
    case 'stop':
    case 'monitor':
    case 'validate-all':
      break;
    default:
      err(USAGE);
      throw new OcfExit(action ? OCF.ERR_UNIMPLEMENTED : OCF.ERR_ARGS, `action ${JSON.stringify(action ?? '')} is not implemented`);
  }
  const env = process.env;
  const interval = Number(env.OCF_RESKEY_CRM_meta_interval ?? '0');
  let params;
  try {
    params = readParams(env);
  } catch (e) {
    // Nothing with an invalid conn name can have been started by this agent: stop has nothing to do.
    if (action === 'stop' && e instanceof OcfExit && e.code === OCF.ERR_CONFIGURED) {
      log.warn(`stop with invalid parameters (${e.reason}): nothing to stop`);
      return OCF.SUCCESS;
    }
    throw e;
  }
  if (action === 'validate-all') return validateAll(params);
  const timeoutMs = Number(env.OCF_RESKEY_CRM_meta_timeout) || ACTION_TIMEOUTS_S[action] * 1000;
  const ctx = {
    params,
    pluto: new PlutoCtl(params.ctlsocket, new Deadline(timeoutMs)),
    probe: action === 'monitor' && !(interval > 0),
    checkLevel: Number(env.OCF_CHECK_LEVEL ?? '0') || 0,
  };
  if (action === 'monitor') return monitor(ctx);
  if (action === 'start') return start(ctx);
  return stop(ctx);
}

function main(): never {
  const action = process.argv[2];
  let code: OcfCode;
  try {
    code = run(action);
  } catch (e) {
    if (e instanceof OcfExit) {
      if (e.reason) {
        log.error(e.reason);
        exitReason(e.reason);
      }
      code = e.code;
    } else {
      const msg = `internal error: ${(e as Error)?.message ?? String(e)}`;
      log.error(msg);
      exitReason(msg);
      code = OCF.ERR_GENERIC;
    }
  }
  log.debug(`${action} -> ${code}`);
  process.exit(code);
}

main();
