// OCF meta-data: valid against both the 1.0 DTD (ocf-tester) and the OCF 1.1
// RelaxNG, so only elements both grammars know.
import { DEFAULTS } from './params.js';

const AGENT_VERSION = '1.0';

export const ACTION_TIMEOUTS_S = { start: 30, stop: 30, monitor: 20, 'validate-all': 10, 'meta-data': 5 } as const;

export const METADATA = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="ipsec" version="${AGENT_VERSION}">
<version>1.1</version>
<longdesc lang="en">
Starts a virtual IP's libreswan IPsec tunnels where the VIP is (TripleO).
Colocate the resource with the VIP's IPaddr2 resource and order it after the
VIP. Start links confdir/overcloud-vip-holder/TUNNEL.conf (the VIP's end
towards every peer) into rundir, which ipsec.conf includes, loads those conns
and initiates each: the VIP is carried as a traffic selector from this node's
own address, and every peer answers with its own end (conn TUNNEL, loaded by
tripleo-ipsec apply on every node, whatever Pacemaker runs there). Stop
deletes them while the VIP is still here, so every peer receives an IKE
Delete, and removes the link; a pluto restarted on the holder starts them by
itself from the link.
</longdesc>
<shortdesc lang="en">libreswan IPsec tunnels that follow a virtual IP</shortdesc>
<parameters>
<parameter name="tunnel" unique="1" required="1">
<longdesc lang="en">Name of the VIP's tunnel: the conn every node answers the holder with (for example overcloud-internal_api-vip-tunnel), defined in a *.conf file of confdir; the holder's ends are in confdir/overcloud-vip-holder/TUNNEL.conf.</longdesc>
<shortdesc lang="en">VIP tunnel name</shortdesc>
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
<parameter name="rundir" unique="0" required="0">
<longdesc lang="en">Directory (on tmpfs) where the holder file is linked while this node holds the VIP; ipsec.conf includes its *.conf.</longdesc>
<shortdesc lang="en">run directory</shortdesc>
<content type="string" default="${DEFAULTS.rundir}" />
</parameter>
<parameter name="ctlsocket" unique="0" required="0">
<longdesc lang="en">pluto's control socket, for nodes that run more than one pluto.</longdesc>
<shortdesc lang="en">pluto control socket</shortdesc>
<content type="string" default="${DEFAULTS.ctlsocket}" />
</parameter>
<parameter name="role" unique="0" required="0">
<longdesc lang="en">Only for resources of earlier versions: "fallback" makes the resource do nothing (tripleo-ipsec pacemaker apply removes it). Leave unset.</longdesc>
<shortdesc lang="en">earlier versions' role</shortdesc>
<content type="string" default="tunnel" />
</parameter>
<parameter name="fallbacktunnel" unique="0" required="0">
<longdesc lang="en">Only for resources of earlier versions; ignored.</longdesc>
<shortdesc lang="en">ignored</shortdesc>
<content type="string" default="" />
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

ocf:tripleo:ipsec starts a VIP's libreswan tunnels where the VIP is.
Parameters come from OCF_RESKEY_tunnel, _vip, _confdir, _rundir and
_ctlsocket; see meta-data.
`;

export const METHODS = ['start', 'stop', 'monitor', 'validate-all', 'meta-data', 'usage', 'methods'];
