// OCF meta-data: valid against both the 1.0 DTD (ocf-tester) and the OCF 1.1
// RelaxNG, so only elements both grammars know.
import { DEFAULTS } from './params.js';

export const AGENT_VERSION = '1.0';

export const ACTION_TIMEOUTS_S = { start: 30, stop: 30, monitor: 20, 'validate-all': 10, 'meta-data': 5 } as const;

export const METADATA = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="ipsec" version="${AGENT_VERSION}">
<version>1.1</version>
<longdesc lang="en">
Moves a virtual IP's libreswan IPsec tunnel with the VIP (TripleO).
In the default role "tunnel", colocate the resource with the VIP's IPaddr2
resource and order it after the VIP: start removes this node's own
node-to-VIP (fallback) conn, loads the VIP's responder conn from confdir and
makes pluto listen on the VIP; stop deletes the conn while the VIP is still
here, so peers receive an IKE Delete and re-authenticate to the new holder
at once. In the role "fallback", run the agent as a clone anti-colocated with
the VIP: it brings this node's node-to-VIP conn up wherever the VIP is not.
</longdesc>
<shortdesc lang="en">libreswan IPsec tunnel that follows a virtual IP</shortdesc>
<parameters>
<parameter name="tunnel" unique="1" required="1">
<longdesc lang="en">Name of the libreswan conn this resource manages, defined in a *.conf file of confdir (for example overcloud-internal_api-vip-tunnel, or overcloud-internal_api-node-to-vip-tunnel in the fallback role).</longdesc>
<shortdesc lang="en">conn name</shortdesc>
<content type="string" default="" />
</parameter>
<parameter name="vip" unique="0" required="1">
<longdesc lang="en">The virtual IP address (IPv4 or IPv6) the tunnel follows.</longdesc>
<shortdesc lang="en">virtual IP</shortdesc>
<content type="string" default="" />
</parameter>
<parameter name="confdir" unique="0" required="0">
<longdesc lang="en">Directory whose *.conf files define the conns.</longdesc>
<shortdesc lang="en">libreswan conn directory</shortdesc>
<content type="string" default="${DEFAULTS.confdir}" />
</parameter>
<parameter name="fallbacktunnel" unique="0" required="0">
<longdesc lang="en">This node's node-to-VIP conn. In the tunnel role it is removed before pluto listens on the VIP (pluto 4.10 aborts when it starts listening on an address that one of its own conns is negotiating with).</longdesc>
<shortdesc lang="en">node-to-VIP conn</shortdesc>
<content type="string" default="" />
</parameter>
<parameter name="ctlsocket" unique="0" required="0">
<longdesc lang="en">pluto's control socket, for nodes that run more than one pluto.</longdesc>
<shortdesc lang="en">pluto control socket</shortdesc>
<content type="string" default="${DEFAULTS.ctlsocket}" />
</parameter>
<parameter name="role" unique="0" required="0">
<longdesc lang="en">"tunnel": the VIP's responder conn, on the node holding the VIP. "fallback": this node's conn to the VIP, on every node but the holder (run as an anti-colocated clone).</longdesc>
<shortdesc lang="en">tunnel or fallback</shortdesc>
<content type="string" default="${DEFAULTS.role}" />
</parameter>
</parameters>
<actions>
<action name="start" timeout="${ACTION_TIMEOUTS_S.start}s" />
<action name="stop" timeout="${ACTION_TIMEOUTS_S.stop}s" />
<action name="monitor" timeout="${ACTION_TIMEOUTS_S.monitor}s" interval="10s" depth="0" />
<action name="monitor" timeout="${ACTION_TIMEOUTS_S.monitor}s" interval="60s" depth="10" />
<action name="validate-all" timeout="${ACTION_TIMEOUTS_S['validate-all']}s" />
<action name="meta-data" timeout="${ACTION_TIMEOUTS_S['meta-data']}s" />
</actions>
</resource-agent>
`;

export const USAGE = `usage: ipsec {start|stop|monitor|validate-all|meta-data|usage|help|methods}

ocf:tripleo:ipsec moves a VIP's libreswan tunnel with the VIP.
Parameters come from OCF_RESKEY_tunnel, _vip, _confdir, _fallbacktunnel,
_ctlsocket and _role; see meta-data.
`;

export const METHODS = ['start', 'stop', 'monitor', 'validate-all', 'meta-data', 'usage', 'methods'];
