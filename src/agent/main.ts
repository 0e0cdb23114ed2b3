// ocf:tripleo:ipsec entry point: dispatch over actions. meta-data and usage
// answer before anything else is looked at.
import { METADATA, METHODS, USAGE, ACTION_TIMEOUTS_S } from './metadata.js';
import { OCF, OcfExit, err, exitReason, log, out, type OcfCode } from './ocf.js';
import { DEFAULTS, isAbsolutePath, readParams } from './params.js';
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
  const timeoutMs = Number(env.OCF_RESKEY_CRM_meta_timeout) || ACTION_TIMEOUTS_S[action] * 1000;
  const deadline = new Deadline(timeoutMs);
  const common = { probe: action === 'monitor' && !(interval > 0), checkLevel: Number(env.OCF_CHECK_LEVEL ?? '0') || 0, deadline };
  let params;
  try {
    params = readParams(env);
  } catch (e) {
    // stop stops what this instance's start recorded, whatever its parameters say now.
    if (action === 'stop' && e instanceof OcfExit && e.code === OCF.ERR_CONFIGURED) {
      const rundir = env.OCF_RESKEY_rundir && isAbsolutePath(env.OCF_RESKEY_rundir) ? env.OCF_RESKEY_rundir : DEFAULTS.rundir;
      return stop({ ...common, pluto: new PlutoCtl(DEFAULTS.ctlsocket, deadline), invalid: e.reason, rundir });
    }
    throw e;
  }
  if (action === 'validate-all') return validateAll(params);
  const ctx = { ...common, params, pluto: new PlutoCtl(params.ctlsocket, deadline) };
  if (action === 'monitor') return monitor(ctx);
  if (action === 'start') return start(ctx);
  return stop({ ...ctx, rundir: params.rundir });
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
