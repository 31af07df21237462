"""Resources as Resource Manager returns them, with unrelated parts that must survive every change."""

from __future__ import annotations

SUB = "00000000-0000-0000-0000-0000000000a1"
RG = "rg-payroll-net"
NET = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"
VNET = f"{NET}/virtualNetworks/vnet-payroll"
SOURCES = ["10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7"]
TARGETS = ["10.1.1.4", "10.1.1.5", "10.1.1.6", "10.1.1.7"]
MONITOR = "10.0.9.9"  # an address of the pool that is not the plan's: promote must leave it alone, and count it


def _sub(parent: str, kind: str, name: str, properties: dict, type_: str) -> dict:
    return {
        "id": f"{parent}/{kind}/{name}",
        "name": name,
        "etag": 'W/"seed"',
        "type": type_,
        "properties": {"provisioningState": "Succeeded", **properties},
    }


def load_balancer(name: str = "lb-payroll", *, foreign: bool = False) -> dict:
    """`foreign`: the pool also holds MONITOR, an address the plan does not name (it receives flows too)."""
    lb = f"{NET}/loadBalancers/{name}"
    addresses = [
        {"name": f"source-{i}", "properties": {"ipAddress": ip, "virtualNetwork": {"id": VNET}}}
        for i, ip in enumerate(SOURCES, 1)
    ]
    if foreign:
        addresses.append(
            {
                "name": "monitor",
                "properties": {"ipAddress": MONITOR, "virtualNetwork": {"id": VNET}, "adminState": "None"},
            }
        )
    pool_type = "Microsoft.Network/loadBalancers/backendAddressPools"
    return {
        "id": lb,
        "name": name,
        "type": "Microsoft.Network/loadBalancers",
        "location": "westeurope",
        "etag": 'W/"seed"',
        "sku": {"name": "Standard", "tier": "Regional"},
        "tags": {"owner": "network-team"},
        "properties": {
            "provisioningState": "Succeeded",
            "frontendIPConfigurations": [
                _sub(
                    lb,
                    "frontendIPConfigurations",
                    "fe-payroll",
                    {
                        "privateIPAddress": "10.0.0.10",
                        "privateIPAllocationMethod": "Static",
                        "subnet": {"id": f"{VNET}/subnets/snet-frontend"},
                    },
                    "Microsoft.Network/loadBalancers/frontendIPConfigurations",
                )
            ],
            "backendAddressPools": [
                _sub(lb, "backendAddressPools", "be-payroll", {"loadBalancerBackendAddresses": addresses}, pool_type),
                _sub(
                    lb,
                    "backendAddressPools",
                    "be-reports",
                    {
                        "loadBalancerBackendAddresses": [
                            {
                                "name": "reports-1",
                                "properties": {"ipAddress": "10.0.2.4", "virtualNetwork": {"id": VNET}},
                            }
                        ]
                    },
                    pool_type,
                ),
            ],
            "probes": [
                _sub(
                    lb,
                    "probes",
                    "probe-https",
                    {"protocol": "Tcp", "port": 443, "intervalInSeconds": 5, "numberOfProbes": 2},
                    "Microsoft.Network/loadBalancers/probes",
                )
            ],
            "loadBalancingRules": [
                _sub(
                    lb,
                    "loadBalancingRules",
                    "rule-https",
                    {
                        "protocol": "Tcp",
                        "frontendPort": 443,
                        "backendPort": 443,
                        "idleTimeoutInMinutes": 4,
                        "frontendIPConfiguration": {"id": f"{lb}/frontendIPConfigurations/fe-payroll"},
                        "backendAddressPool": {"id": f"{lb}/backendAddressPools/be-payroll"},
                        "probe": {"id": f"{lb}/probes/probe-https"},
                    },
                    "Microsoft.Network/loadBalancers/loadBalancingRules",
                )
            ],
        },
    }


def traffic_manager(name: str = "tm-payroll") -> dict:
    tm = f"{NET}/trafficManagerProfiles/{name}"
    kind = "Microsoft.Network/trafficManagerProfiles/externalEndpoints"

    def endpoint(endpoint_name: str, target: str, status: str, weight: int, **extra) -> dict:
        return {
            "id": f"{tm}/externalEndpoints/{endpoint_name}",
            "name": endpoint_name,
            "type": kind,
            "properties": {
                "target": target,
                "endpointStatus": status,
                "weight": weight,
                "priority": 1,
                "endpointMonitorStatus": "Online",
                "alwaysServe": "Disabled",
                **extra,
            },
        }

    return {
        "id": tm,
        "name": name,
        "type": "Microsoft.Network/trafficManagerProfiles",
        "location": "global",
        "tags": {"owner": "network-team"},
        "properties": {
            "profileStatus": "Enabled",
            "trafficRoutingMethod": "Weighted",
            "dnsConfig": {"relativeName": "payroll-contoso", "fqdn": "payroll-contoso.trafficmanager.net", "ttl": 30},
            "monitorConfig": {"profileMonitorStatus": "Online", "protocol": "HTTPS", "port": 443, "path": "/health"},
            "endpoints": [
                endpoint("payroll-onprem", "payroll.onprem.contoso.com", "Enabled", 100),
                endpoint("payroll-azure", "payroll.azure.contoso.com", "Disabled", 1),
                endpoint(
                    "payroll-dr",
                    "payroll.dr.contoso.com",
                    "Disabled",
                    5,
                    customHeaders=[{"name": "host", "value": "payroll.contoso.com"}],
                ),
            ],
        },
    }


def application_gateway(name: str = "agw-payroll") -> dict:
    gw = f"{NET}/applicationGateways/{name}"
    rule_type = "Microsoft.Network/applicationGateways/requestRoutingRules"
    pool_type = "Microsoft.Network/applicationGateways/backendAddressPools"

    def rule(rule_name: str, pool: str, priority: int, **extra) -> dict:
        return _sub(
            gw,
            "requestRoutingRules",
            rule_name,
            {
                "ruleType": "Basic",
                "priority": priority,
                "httpListener": {"id": f"{gw}/httpListeners/listener-{rule_name}"},
                "backendAddressPool": {"id": f"{gw}/backendAddressPools/{pool}"},
                "backendHttpSettings": {"id": f"{gw}/backendHttpSettingsCollection/https"},
                **extra,
            },
            rule_type,
        )

    return {
        "id": gw,
        "name": name,
        "type": "Microsoft.Network/applicationGateways",
        "location": "westeurope",
        "etag": 'W/"seed"',
        "tags": {"owner": "network-team"},
        "zones": ["1", "2"],
        "properties": {
            "provisioningState": "Succeeded",
            "operationalState": "Running",
            "sku": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 2},
            "gatewayIPConfigurations": [
                _sub(
                    gw,
                    "gatewayIPConfigurations",
                    "gwip",
                    {"subnet": {"id": f"{VNET}/subnets/snet-agw"}},
                    "Microsoft.Network/applicationGateways/gatewayIPConfigurations",
                )
            ],
            "backendAddressPools": [
                _sub(
                    gw,
                    "backendAddressPools",
                    "pool-onprem",
                    {"backendAddresses": [{"ipAddress": "10.0.1.4"}]},
                    pool_type,
                ),
                _sub(
                    gw,
                    "backendAddressPools",
                    "pool-azure",
                    {"backendAddresses": [{"fqdn": "payroll.azure.contoso.com"}]},
                    pool_type,
                ),
                _sub(
                    gw,
                    "backendAddressPools",
                    "pool-static",
                    {"backendAddresses": [{"ipAddress": "10.0.3.4"}]},
                    pool_type,
                ),
                _sub(gw, "backendAddressPools", "pool-flight", {"backendAddresses": []}, pool_type),
            ],
            "backendHttpSettingsCollection": [
                _sub(
                    gw,
                    "backendHttpSettingsCollection",
                    "https",
                    {"port": 443, "protocol": "Https", "cookieBasedAffinity": "Disabled", "requestTimeout": 30},
                    "Microsoft.Network/applicationGateways/backendHttpSettingsCollection",
                )
            ],
            "requestRoutingRules": [
                rule("rule-payroll", "pool-onprem", 100),
                # a property this SDK version does not know: it must survive the round trip
                rule("rule-static", "pool-static", 200, futureFeature={"mode": "preview", "weight": 3}),
            ],
        },
    }


def route_table(name: str = "rt-payroll") -> dict:
    rt = f"{NET}/routeTables/{name}"
    route_type = "Microsoft.Network/routeTables/routes"
    return {
        "id": rt,
        "name": name,
        "type": "Microsoft.Network/routeTables",
        "location": "westeurope",
        "etag": 'W/"seed"',
        "properties": {
            "provisioningState": "Succeeded",
            "disableBgpRoutePropagation": True,
            "routes": [
                _sub(
                    rt,
                    "routes",
                    "to-payroll",
                    {
                        "addressPrefix": "10.20.0.0/16",
                        "nextHopType": "VirtualAppliance",
                        "nextHopIpAddress": "10.0.0.4",
                    },
                    route_type,
                ),
                _sub(
                    rt,
                    "routes",
                    "default",
                    {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.100"},
                    route_type,
                ),
            ],
            "subnets": [{"id": f"{VNET}/subnets/snet-app"}],
        },
    }


def security_group(name: str = "nsg-payroll") -> dict:
    nsg = f"{NET}/networkSecurityGroups/{name}"
    rule_type = "Microsoft.Network/networkSecurityGroups/securityRules"
    return {
        "id": nsg,
        "name": name,
        "type": "Microsoft.Network/networkSecurityGroups",
        "location": "westeurope",
        "etag": 'W/"seed"',
        "properties": {
            "provisioningState": "Succeeded",
            "securityRules": [
                _sub(
                    nsg,
                    "securityRules",
                    "allow-https",
                    {
                        "protocol": "Tcp",
                        "sourcePortRange": "*",
                        "destinationPortRange": "443",
                        "sourceAddressPrefix": "*",
                        "destinationAddressPrefix": "*",
                        "access": "Allow",
                        "priority": 200,
                        "direction": "Inbound",
                    },
                    rule_type,
                )
            ],
            "defaultSecurityRules": [
                _sub(
                    nsg,
                    "defaultSecurityRules",
                    "DenyAllInBound",
                    {
                        "protocol": "*",
                        "sourcePortRange": "*",
                        "destinationPortRange": "*",
                        "sourceAddressPrefix": "*",
                        "destinationAddressPrefix": "*",
                        "access": "Deny",
                        "priority": 65500,
                        "direction": "Inbound",
                    },
                    "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                )
            ],
        },
    }


CDN = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Cdn"


def front_door(name: str = "afd-payroll") -> list[dict]:
    """A Front Door Standard/Premium profile, its origin group and three origins (each a document of its own):
    on-premises (enabled, 1000), Azure (disabled), and a standby of lower priority that gets no requests."""
    profile = f"{CDN}/profiles/{name}"
    group = f"{profile}/originGroups/og-payroll"

    def origin(origin_name: str, host: str, enabled: str, weight: int, priority: int = 1) -> dict:
        return {
            "id": f"{group}/origins/{origin_name}",
            "name": origin_name,
            "type": "Microsoft.Cdn/profiles/originGroups/origins",
            "properties": {
                "hostName": host,
                "httpPort": 80,
                "httpsPort": 443,
                "originHostHeader": host,
                "priority": priority,
                "weight": weight,
                "enabledState": enabled,
                "enforceCertificateNameCheck": True,
                "originGroupName": "og-payroll",
                "provisioningState": "Succeeded",
                "deploymentStatus": "NotStarted",
            },
        }

    return [
        {
            "id": profile,
            "name": name,
            "type": "Microsoft.Cdn/profiles",
            "location": "Global",
            "sku": {"name": "Standard_AzureFrontDoor"},
            "kind": "frontdoor",
            "tags": {"owner": "network-team"},
            "properties": {
                "provisioningState": "Succeeded",
                "resourceState": "Active",
                "originResponseTimeoutSeconds": 60,
            },
        },
        {
            "id": group,
            "name": "og-payroll",
            "type": "Microsoft.Cdn/profiles/originGroups",
            "properties": {
                "loadBalancingSettings": {
                    "sampleSize": 4,
                    "successfulSamplesRequired": 3,
                    "additionalLatencyInMilliseconds": 50,
                },
                "healthProbeSettings": {
                    "probePath": "/health",
                    "probeRequestType": "HEAD",
                    "probeProtocol": "Https",
                    "probeIntervalInSeconds": 100,
                },
                "sessionAffinityState": "Disabled",
                "provisioningState": "Succeeded",
            },
        },
        origin("payroll-onprem", "payroll.onprem.contoso.com", "Enabled", 1000),
        origin("payroll-azure", "payroll.azure.contoso.com", "Disabled", 1000),
        origin("payroll-standby", "payroll.dr.contoso.com", "Enabled", 1000, priority=2),
    ]


PRIVATE_ZONE = f"{NET}/privateDnsZones/corp.contoso.com"
PUBLIC_ZONE = f"{NET}/dnsZones/contoso.com"
POLICY = f"{NET}/firewallPolicies/fw-pol"
RCG = f"{POLICY}/ruleCollectionGroups/migration"


def dns_zone(zone_id: str = PRIVATE_ZONE) -> dict:
    private = "/privateDnsZones/" in zone_id
    return {
        "id": zone_id,
        "name": zone_id.rsplit("/", 1)[-1],
        "type": "Microsoft.Network/privateDnsZones" if private else "Microsoft.Network/dnszones",
        "location": "global",
        "etag": "00000000-0000-0000-0000-00000000z0ne",
        "tags": {"owner": "network-team"},
        "properties": {"numberOfRecordSets": 3, "maxNumberOfRecordSets": 25000, "provisioningState": "Succeeded"},
    }


def record_set(zone_id: str, kind: str, name: str, values: list[str], ttl: int = 3600, **metadata) -> dict:
    """A record set as Resource Manager returns it: Private DNS spells its properties in camel case (`ttl`,
    `aRecords`), public DNS in its own (`TTL`, `ARecords`); ETags are bare GUIDs."""
    private = "/privateDnsZones/" in zone_id
    keys = (
        {"ttl": "ttl", "A": "aRecords", "AAAA": "aaaaRecords", "CNAME": "cnameRecord"}
        if private
        else {"ttl": "TTL", "A": "ARecords", "AAAA": "AAAARecords", "CNAME": "CNAMERecord"}
    )
    records: object
    if kind == "CNAME":
        records = {"cname": values[0]}
    else:
        field = "ipv4Address" if kind == "A" else "ipv6Address"
        records = [{field: v} for v in values]
    zone = zone_id.rsplit("/", 1)[-1]
    return {
        "id": f"{zone_id}/{kind}/{name}",
        "name": name,
        "type": f"Microsoft.Network/{'privateDnsZones' if private else 'dnszones'}/{kind}",
        "etag": "11111111-1111-1111-1111-111111111111",
        "properties": {
            "metadata": {"owner": "dns-team", **metadata},
            keys["ttl"]: ttl,
            "fqdn": f"{name}.{zone}.",
            keys[kind]: records,
            "provisioningState": "Succeeded",
        },
    }


def firewall_policy() -> list[dict]:
    """A firewall policy and its `migration` rule collection group: a DNAT collection (the plan's rule `https`
    and another), a network rule collection (the plan's `sql` rule and an unrelated one)."""
    nat = {
        "ruleCollectionType": "FirewallPolicyNatRuleCollection",
        "name": "dnat-payroll",
        "priority": 100,
        "action": {"type": "DNAT"},
        "rules": [
            {
                "ruleType": "NatRule",
                "name": "https",
                "ipProtocols": ["TCP"],
                "sourceAddresses": ["*"],
                "destinationAddresses": ["203.0.113.10"],
                "destinationPorts": ["443"],
                "translatedAddress": "10.1.0.4",
                "translatedPort": "443",
            },
            {
                "ruleType": "NatRule",
                "name": "ssh-jump",
                "ipProtocols": ["TCP"],
                "sourceAddresses": ["198.51.100.0/24"],
                "destinationAddresses": ["203.0.113.10"],
                "destinationPorts": ["22"],
                "translatedAddress": "10.1.0.9",
                "translatedPort": "22",
            },
        ],
    }
    network = {
        "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
        "name": "net-payroll",
        "priority": 200,
        "action": {"type": "Allow"},
        "rules": [
            {
                "ruleType": "NetworkRule",
                "name": "sql",
                "ipProtocols": ["TCP"],
                "sourceAddresses": ["10.5.0.0/16"],
                "destinationAddresses": ["10.1.0.4", "10.9.9.9"],
                "destinationPorts": ["1433"],
            },
            {
                "ruleType": "NetworkRule",
                "name": "dns",
                "ipProtocols": ["UDP"],
                "sourceAddresses": ["10.5.0.0/16"],
                "destinationAddresses": ["10.0.0.53"],
                "destinationPorts": ["53"],
            },
        ],
    }
    return [
        {
            "id": POLICY,
            "name": "fw-pol",
            "type": "Microsoft.Network/FirewallPolicies",
            "location": "westeurope",
            "etag": 'W/"seed-policy"',
            "tags": {"owner": "network-team"},
            "properties": {
                "provisioningState": "Succeeded",
                "threatIntelMode": "Alert",
                "sku": {"tier": "Standard"},
                "ruleCollectionGroups": [{"id": RCG}],
            },
        },
        {
            "id": RCG,
            "name": "migration",
            "type": "Microsoft.Network/FirewallPolicies/RuleCollectionGroups",
            "etag": 'W/"seed-group"',
            "properties": {
                "priority": 200,
                "provisioningState": "Succeeded",
                "size": "0.01 MB",
                "ruleCollections": [nat, network],
            },  # fmt: skip
        },
    ]


def routing(provider: str, **overrides) -> dict:
    """The `routing:` block of a plan for the resources above."""
    if provider in ("dns", "private-dns", "azure-firewall"):
        return {**edge_routing(provider), **overrides}
    base = {"provider": provider, "subscription": SUB, "resource_group": RG}
    base.update(
        {
            "load-balancer": {
                "load_balancer": "lb-payroll",
                "backend_pool": "be-payroll",
                "source_addresses": SOURCES,
                "target_addresses": TARGETS,
            },
            "traffic-manager": {
                "profile": "tm-payroll",
                "source_endpoint": "payroll-onprem",
                "target_endpoint": "payroll-azure",
            },
            "application-gateway": {
                "application_gateway": "agw-payroll",
                "rule": "rule-payroll",
                "source_pool": "pool-onprem",
                "target_pool": "pool-azure",
            },
            "route-table": {
                "route_table": "rt-payroll",
                "route": "to-payroll",
                "source_next_hop": "10.0.0.4",
                "target_next_hop": "10.1.0.4",
            },
            "front-door": {
                "profile": "afd-payroll",
                "origin_group": "og-payroll",
                "source_origin": "payroll-onprem",
                "target_origin": "payroll-azure",
            },
        }[provider]
    )
    base.update(overrides)
    return base


def edge_routing(provider: str) -> dict:
    if provider == "azure-firewall":
        return {
            "provider": provider,
            "policy": POLICY,
            "rule_collection_group": "migration",
            "rule_collection": "dnat-payroll",
            "rule": "https",
            "source": "10.1.0.4",
            "target": "10.20.0.4",
            "network_rules": [{"rule_collection": "net-payroll", "rule": "sql"}],
        }
    return {
        "provider": provider,
        "zone": PRIVATE_ZONE if provider == "private-dns" else PUBLIC_ZONE,
        "record": "payroll",
        "type": "A",
        "source": ["10.1.0.4"],
        "target": ["10.20.0.4"],
    }


def revoke_access(**overrides) -> dict:
    return {
        "subscription": SUB,
        "resource_group": RG,
        "network_security_group": "nsg-payroll",
        "rule": "deny-migration-team",
        "priority": 100,
        "source_prefixes": ["10.50.0.0/24"],
        **overrides,
    }
