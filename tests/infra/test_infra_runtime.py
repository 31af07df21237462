"""Issue 26 in the templates: deploys that a landing zone accepts and a redeploy does not break, and operations.

- a redeploy keeps the app settings the template does not own (notification and webhook URLs), secrets are Key
  Vault references the app's identity may read;
- the placeholder client id of the example parameters file (and a closed network without its subnets) stops the
  deployment with a message saying what to set: guard.json's ARM expressions are evaluated here as ARM does;
- publicNetworkAccess Disabled closes storage, Service Bus, Key Vault and the app, with private endpoints;
- alerts on dead-lettered messages and on `attention`; Application Insights wired once;
- the Python versions the function app may run are the ones promote is tested on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from shared.application.config import ATTENTION_LOG_PREFIX  # the line the app writes for `attention`
from tests.infra.test_infra import (
    MAIN,
    MODULES,
    PARAMETERS_EXAMPLE,
    ROOT,
    app_settings,
    app_settings_union,
    bicep,
    body,
    main_modules,
    module_params,
    one,
    resources,
    site_config,
)

GUARD = MODULES / "guard.json"


# -- ARM template expressions, evaluated as Resource Manager does (only what guard.json uses) -----------------
class ArmFailure(Exception):
    """fail('message'): the deployment stops with this message."""


def parse(text: str):
    """'[f(a, 'b')]' -> ("f", [("a", []), "b"]); strings stay strings, numbers ints."""
    assert text.startswith("[") and text.endswith("]"), text
    tokens = re.findall(r"'(?:[^']|'')*'|\d+|\w+|[(),]", text[1:-1])
    position = 0

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expression():
        token = take()
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token.isdigit():
            return int(token)
        assert take() == "(", f"{token} is not a call"
        args = []
        while tokens[position] != ")":
            args.append(expression())
            if tokens[position] == ",":
                take()
        take()
        return (token, args)

    tree = expression()
    assert position == len(tokens), f"left over: {tokens[position:]}"
    return tree


def evaluate(template: dict, parameters: dict[str, str], expression: str):
    variables: dict[str, object] = {}

    def value(node):
        if not isinstance(node, tuple):
            return node
        name, args = node
        lazy: dict[str, Callable] = {  # if() evaluates the branch it takes, and only that one
            "if": lambda: value(args[1]) if value(args[0]) else value(args[2]),
            "or": lambda: any(value(a) for a in args),
            "and": lambda: all(value(a) for a in args),
        }
        if name in lazy:
            return lazy[name]()
        got = [value(a) for a in args]
        if name == "fail":
            raise ArmFailure(got[0])
        if name == "variables":
            if got[0] not in variables:
                variables[got[0]] = value_of(template["variables"][got[0]])
            return variables[got[0]]
        functions = {
            "parameters": lambda p: parameters[p],
            "empty": lambda v: len(v) == 0,
            "equals": lambda a, b: a == b,
            "toLower": str.lower,
            "trim": str.strip,
            "length": len,
            "not": lambda v: not v,
            "true": lambda: True,
            "false": lambda: False,
        }
        return functions[name](*got)

    def value_of(raw):
        return value(parse(raw)) if isinstance(raw, str) and raw.startswith("[") else raw

    return value_of(expression)


def guard(**overrides: str) -> dict[str, object]:
    """The guard's outputs for main.bicep's parameters (its defaults, the example file's client id, overrides)."""
    template = json.loads(GUARD.read_text())
    example = json.loads(PARAMETERS_EXAMPLE.read_text())["parameters"]
    main = module_params(MAIN)
    params = {
        "authClientId": example["authClientId"]["value"],
        "publicNetworkAccess": main["publicNetworkAccess"]["default"],
        "privateEndpointSubnetId": main["privateEndpointSubnetId"]["default"],
        "appSubnetId": main["appSubnetId"]["default"],
        **overrides,
    }
    assert set(params) == set(template["parameters"])
    return {name: evaluate(template, params, out["value"]) for name, out in template["outputs"].items()}


CLIENT_ID = "4a1c2b3d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
SUBNET = "/subscriptions/s/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/v/subnets/"


def test_the_evaluator_is_lazy_like_arm_and_reads_guard_json():
    template = {"variables": {"x": "[fail('never')]"}}
    assert evaluate(template, {"p": "a"}, "[if(equals(parameters('p'), 'a'), 'yes', variables('x'))]") == "yes"
    with pytest.raises(ArmFailure, match="never"):
        evaluate(template, {"p": "b"}, "[if(equals(parameters('p'), 'a'), 'yes', variables('x'))]")
    assert parse("[f('it''s', 36)]") == ("f", ["it's", 36])


def test_deploying_the_example_parameters_unchanged_fails_with_what_to_set():
    with pytest.raises(ArmFailure) as failed:
        guard()  # the example file's placeholder client id
    message = str(failed.value)
    assert "authClientId" in message and "00000000-0000-0000-0000-000000000000" in message
    assert "docs/deploy.md" in message and "app registration" in message
    for wrong in ("", "  ", "00000000-0000-0000-0000-000000000000".upper(), "not-a-guid"):
        with pytest.raises(ArmFailure, match="authClientId"):
            guard(authClientId=wrong)


def test_a_real_client_id_passes_and_is_what_the_function_app_gets():
    assert guard(authClientId=CLIENT_ID) == {"authClientId": CLIENT_ID, "networkChecked": True}
    assert guard(authClientId=f" {CLIENT_ID} ")["authClientId"] == CLIENT_ID
    _, function_app = main_modules()["functionApp"]
    assert function_app["params"]["authClientId"] == {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": "authGuard",
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "authClientId"},
                    }
                },
            },
        }
    }, "the function app must wait for the guard and take the client id it checked"
    path, guard_module = main_modules()["authGuard"]
    assert path == GUARD and guard_module["params"]["authClientId"] == "authClientId"


def test_a_closed_network_needs_its_subnets():
    with pytest.raises(ArmFailure, match="privateEndpointSubnetId"):
        guard(authClientId=CLIENT_ID, publicNetworkAccess="Disabled")
    with pytest.raises(ArmFailure, match="appSubnetId"):
        guard(authClientId=CLIENT_ID, publicNetworkAccess="Disabled", privateEndpointSubnetId=SUBNET + "pe")
    closed = guard(
        authClientId=CLIENT_ID,
        publicNetworkAccess="Disabled",
        privateEndpointSubnetId=SUBNET + "pe",
        appSubnetId=SUBNET + "app",
    )
    assert closed["networkChecked"] is True


# -- a redeploy keeps the app settings it does not own -------------------------------------------------------
def test_a_redeploy_merges_the_app_settings_instead_of_replacing_them():
    _, site = one(MODULES / "functionapp.bicep", "Microsoft.Web/sites")
    assert "appSettings" not in body(site)["properties"]["siteConfig"], (
        "siteConfig.appSettings replaces every setting on each deploy: the settings are a sites/config resource"
    )
    current, owned, secrets = app_settings_union()
    # first the settings the app has now (whatever an operator added: notification and webhook URLs) ...
    read = current["operator"]["operands"]
    assert read["operand_2"] == "properties"
    listed = read["operand_1"]["function"]
    assert (
        listed["type"] == "list_func" and listed["parameters"]["resource_identifier"] == "${site.id}/config/appsettings"
    )
    # ... then the template's own over them, then the Key Vault references
    assert owned == "promoteSettings" and secrets == "keyVaultSettings"
    assert module_params(MODULES / "functionapp.bicep")["keyVaultSettings"]["default"] == {}
    assert module_params(MAIN)["keyVaultSettings"]["default"] == {}
    assert main_modules()["functionApp"][1]["params"]["keyVaultSettings"] == "keyVaultSettings"


def test_secrets_are_key_vault_references_the_app_may_read_and_nothing_more():
    path, vault = main_modules()["keyVault"]
    _, declared = one(path, "Microsoft.KeyVault/vaults")
    props = body(declared)["properties"]
    assert props["enableRbacAuthorization"] is True and props["enablePurgeProtection"] is True
    assert "accessPolicies" not in props
    assert vault["params"]["publicNetworkAccess"] == "publicNetworkAccess"
    assert main_modules()["appAccess"][1]["params"]["keyVaultName"]  # Key Vault Secrets User (test_infra)
    assert "keyVaultName" in bicep(MAIN)["outputs"]


def test_app_insights_is_wired_once():
    settings = app_settings()
    connection = settings["APPLICATIONINSIGHTS_CONNECTION_STRING"]["operator"]["operands"]
    assert connection["operand_1"] == "appInsights"  # the component of this deployment
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    # the app sets the Azure Monitor distro up itself; with this the worker would set up a second exporter
    assert "PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY" not in settings
    assert "APPINSIGHTS_INSTRUMENTATIONKEY" not in settings  # keys are not how this app authenticates


# -- landing zones: no public network access ------------------------------------------------------------------
def conditional(expression: dict) -> dict:
    operator = expression["operator"]
    assert operator["type"] == "conditional", expression
    return operator["operands"]


def test_public_network_access_is_one_parameter_that_closes_every_endpoint():
    spec = module_params(MAIN)["publicNetworkAccess"]
    assert spec["default"] == "Enabled"
    assert [d["argument"] for d in spec["decorators"] if d["type"] == "allowed"] == [["Enabled", "Disabled"]]
    modules = main_modules()
    for name in ("hostStorage", "dataStorage", "serviceBus", "keyVault", "functionApp"):
        assert modules[name][1]["params"]["publicNetworkAccess"] == "publicNetworkAccess", name
    # closed: storage and Key Vault firewalls deny, Service Bus is Premium (the tier with private endpoints)
    for path in (MODULES / "storage.bicep", MODULES / "keyvault.bicep"):
        [(_, declared)] = [
            (k, r) for k, r in resources(path).items() if r["type"].endswith(("storageAccounts", "vaults"))
        ]
        acl = conditional(body(declared)["properties"]["networkAcls"]["defaultAction"])
        assert (acl["true_value"], acl["false_value"]) == ("Deny", "Allow"), path.name
    sku = conditional(modules["serviceBus"][1]["params"]["skuName"])
    assert sku["condition"] == "isPrivate" and sku["true_value"] == "Premium"
    _, site = one(MODULES / "functionapp.bicep", "Microsoft.Web/sites")
    assert body(site)["properties"]["publicNetworkAccess"] == "publicNetworkAccess"
    assert modules["functionApp"][1]["params"]["virtualNetworkSubnetId"] == "appSubnetId"


def test_a_closed_network_gets_a_private_endpoint_for_everything_the_app_reaches():
    endpoints = conditional(bicep(MAIN)["variables"]["privateEndpoints"]["value"])
    assert endpoints["condition"] == "isPrivate" and endpoints["false_value"] == []
    targets = set()
    for entry in endpoints["true_value"]:
        target = entry["targetId"]["function"]["parameters"]  # resourceId(type, name) in this resource group
        assert target["resource_group_name"] is None and target["resource_name_2"] is None
        targets.add((target["resource_type"], target["resource_name_1"], entry["groupId"]))
    assert targets == {
        ("Microsoft.Storage/storageAccounts", "hostStorageName", "blob"),  # AzureWebJobsStorage, the package
        ("Microsoft.Storage/storageAccounts", "hostStorageName", "queue"),
        ("Microsoft.Storage/storageAccounts", "hostStorageName", "table"),
        ("Microsoft.Storage/storageAccounts", "dataStorageName", "table"),  # the promote tables
        ("Microsoft.ServiceBus/namespaces", "sbName", "namespace"),
        ("Microsoft.KeyVault/vaults", "keyVaultName", "vault"),
        ("Microsoft.Web/sites", "appName", "sites"),  # the app's inbound side
    }
    path, module = main_modules()["privateEndpoint"]
    assert bicep(MAIN)["modules"]["privateEndpoint"]["config"]["loop_type"]["detail"]["array_name"] == (
        "privateEndpoints"
    )
    assert module["params"]["subnetId"] == "privateEndpointSubnetId"
    groups = next(d["argument"] for d in module_params(path)["groupId"]["decorators"] if d["type"] == "allowed")
    assert {g for *_, g in targets} <= set(groups)


# -- operations -------------------------------------------------------------------------------------------------
def test_dead_lettered_messages_raise_an_alert():
    path, module = main_modules()["alerts"]
    assert module["params"]["topicName"] == {
        "operator": {
            "type": "property_accessor",
            "operands": {
                "operand_1": "serviceBus",
                "operand_2": {
                    "operator": {
                        "type": "property_accessor",
                        "operands": {"operand_1": "outputs", "operand_2": "topicName"},
                    }
                },
            },
        }
    }
    _, alert = one(path, "Microsoft.Insights/metricAlerts")
    props = body(alert)["properties"]
    assert props["scopes"] == [
        {"operator": {"type": "property_accessor", "operands": {"operand_1": "sbNamespace", "operand_2": "id"}}}
    ]
    [criterion] = props["criteria"]["allOf"]
    assert (criterion["metricNamespace"], criterion["metricName"]) == (
        "Microsoft.ServiceBus/namespaces",
        "DeadletteredMessages",
    )
    assert (criterion["operator"], criterion["threshold"], criterion["timeAggregation"]) == (
        "GreaterThan",
        0,
        "Maximum",
    )
    assert criterion["dimensions"] == [{"name": "EntityName", "operator": "Include", "values": ["topicName"]}]
    assert props["actions"]["loop_type"]["detail"]["array_name"] == "actionGroupIds"


def test_a_workload_that_needs_attention_raises_an_alert():
    path, _ = main_modules()["alerts"]
    assert module_params(path)["attentionLogPrefix"]["default"] == ATTENTION_LOG_PREFIX
    _, rule = one(path, "Microsoft.Insights/scheduledQueryRules")
    props = body(rule)["properties"]
    assert props["scopes"] == [
        {"operator": {"type": "property_accessor", "operands": {"operand_1": "appInsights", "operand_2": "id"}}}
    ]
    [criterion] = props["criteria"]["allOf"]
    assert criterion["query"].startswith("traces | where message startswith ")
    assert "${attentionLogPrefix}" in criterion["query"]
    assert (criterion["operator"], criterion["threshold"], criterion["timeAggregation"]) == ("GreaterThan", 0, "Count")
    assert props["actions"]["actionGroups"] == "actionGroupIds"
    for name in ("alertEmails", "alertActionGroupIds"):
        assert module_params(MAIN)[name]["default"] == [] and main_modules()["alerts"][1]["params"][name] == name


# -- the Pythons Azure runs --------------------------------------------------------------------------------------
def test_the_function_app_may_run_every_python_promote_is_tested_on():
    makefile = (ROOT / "Makefile").read_text()
    tested = set(re.search(r"^SUPPORTED_PYTHONS := (.+)$", makefile, re.M).group(1).split())
    for path in (MAIN, MODULES / "functionapp.bicep"):
        [allowed] = [
            d["argument"] for d in module_params(path)["pythonVersion"]["decorators"] if d["type"] == "allowed"
        ]
        assert set(allowed) == tested == {"3.11", "3.12", "3.13"}, path.name
    assert site_config("appsettings")  # (the runtime version is functionAppConfig.runtime, not an app setting)
