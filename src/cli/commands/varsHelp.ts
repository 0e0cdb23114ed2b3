// The IpsecVars table of --help, from the one place the variables are documented.
import { IPSEC_VAR_DEFAULTS, IPSEC_VAR_DOCS } from '../../model/ipsecVars.js';

export function varsHelp(): string {
  return Object.entries(IPSEC_VAR_DOCS)
    .map(([k, doc]) => `  ${k}: ${doc} (default: ${k in IPSEC_VAR_DEFAULTS ? JSON.stringify((IPSEC_VAR_DEFAULTS as Record<string, unknown>)[k]) : 'generated'})`)
    .join('\n');
}
