"""The infrastructure against itself, the code and the deploy guide.

- checkov over infra/ passes, and every skipped check carries its reason in the template;
- the Bicep files parse, and modules are wired as declared (params, required params, outputs),
  which is the part of `bicep build` that can go wrong silently without a compiler here;
- the names the code depends on (topic, subscription, sessions, connection, app settings, tables,
  function bindings) are the ones the template creates and sets;
- role assignments stay at the narrowest scope, with the right built-in role ids;
- host.json, requirements.txt and .funcignore are what a Functions deployment expects;
- docs/deploy.md only uses parameters, outputs, files and function names that exist.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

from pycep import BicepParser

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
MODULES = INFRA / "modules"
GUIDE = ROOT / "docs" / "deploy.md"
PARAMETERS_EXAMPLE = INFRA / "main.parameters.example.json"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.application import config, override_proof  # noqa: E402

# Azure built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
BUILT_IN_ROLES = {
    "Azure Service Bus Data Receiver": "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
    "Azure Service Bus Data Sender": "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
    "Azure Service Bus Data Owner": "090c5cfd-751d-490a-894a-3ce6f1109419",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Traffic Manager Contributor": "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7",
    "Log Analytics Reader": "73c42c96-874c-492b-b04d-ab87d138a893",
    "Site Recovery Reader": "dbaa88c4-0c30-4179-9fb3-46319faa6149",  # the replication timer (finish-access)
    "Storage Table Data Reader": "76199698-9eea-4c19-bc75-cec21354c6b6",  # people who only watch (operator-access)
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault references (app-access)
    "Monitoring Reader": "43d0d8ad-25c7-4714-9337-8ba259a9fe05",  # the judge's metrics checks (monitor-access)
    "EventGrid Data Sender": "d5a91429-5739-47e2-a06b-3470a27159e7",  # Event Grid notifications (notify-access)
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",  # who stores those URLs (operator-access)
}

# Settings shared/config.py reads that exist only for the local stack: never set on Azure.
LOCAL_ONLY_SETTINGS = {
    config.ENV_STORAGE_CONNECTION_STRING,
    config.ENV_SERVICEBUS_CONNECTION_STRING,
    config.ENV_HOME,
    config.ENV_DEV_PORTS,
}
# Flex Consumption manages these itself and rejects or ignores them; connection strings are keys.
FORBIDDEN_APP_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
    "AzureWebJobsStorage",
    config.SERVICEBUS_CONNECTION,
}
DOCUMENTED_FUNCTIONS = {"events", "alerts", "status"}  # and `drift` (timer), which may arrive later
MESSAGE_TYPES = {"asset-replicated", "tests-passed", "tests-failed", "flight-healthy", "flight-unhealthy", "alert"}


# -- Bicep helpers -------------------------------------------------------------------------------
@cache
def bicep(path: Path) -> dict:
    return BicepParser().parse(file_path=path)


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


def body(declaration: dict) -> dict:
    """The object of a resource or module, through `if (...)` and `[for ...]` wrappers."""
    cfg = declaration["config"]
    while isinstance(cfg, dict) and ("condition" in cfg or "loop_type" in cfg) and "config" in cfg:
        cfg = cfg["config"]
    return cfg


def resources(path: Path, type_: str | None = None) -> dict[str, dict]:
    found = bicep(path).get("resources", {})
    return {name: r for name, r in found.items() if type_ is None or r["type"] == type_}


def one(path: Path, type_: str) -> tuple[str, dict]:
    found = resources(path, type_)
    assert len(found) == 1, f"{path.name}: expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def site_config(name: str) -> dict:
    """The function app's sites/config resource of that name (appsettings, authsettingsV2)."""
    found = [
        body(r)
        for r in resources(MODULES / "functionapp.bicep", "Microsoft.Web/sites/config").values()
        if body(r)["name"] == name
    ]
    assert len(found) == 1, f"expected one sites/config {name}, found {len(found)}"
    assert found[0]["parent"] == "site"
    return found[0]


def app_settings_union() -> list:
    """The arguments of union() that make the app settings, in order."""
    merged = site_config("appsettings")["properties"]["function"]
    assert merged["type"] == "union", merged
    return list(merged["parameters"].values())


def app_settings() -> dict[str, object]:
    """The settings the template owns: the object variable union() writes over the app's current ones."""
    variables = bicep(MODULES / "functionapp.bicep")["variables"]
    owned = [a for a in app_settings_union() if isinstance(a, str) and a in variables]
    assert len(owned) == 1, f"expected one variable of template-owned settings in union(), got {owned}"
    return variables[owned[0]]["value"]


def arm_template(path: Path) -> dict:
    return json.loads(path.read_text())


def module_params(path: Path) -> dict[str, dict]:
    """name -> spec with "default" (None when required), for Bicep modules and ARM JSON templates alike."""
    if path.suffix == ".json":
        return {
            name: {**spec, "default": spec.get("defaultValue"), "decorators": []}
            for name, spec in arm_template(path)["parameters"].items()
        }
    return bicep(path).get("parameters", {})


def module_outputs(path: Path) -> set[str]:
    if path.suffix == ".json":
        return set(arm_template(path).get("outputs", {}))
    return set(bicep(path).get("outputs", {}))


def main_modules() -> dict[str, tuple[Path, dict]]:
    return {
        name: ((MAIN.parent / m["detail"]["path"]).resolve(), body(m))
        for name, m in bicep(MAIN).get("modules", {}).items()
    }


# -- checkov ---------------------------------------------------------------------------------------
@cache
def checkov_report() -> dict:
    checkov = Path(sys.executable).parent / "checkov"
    assert checkov.exists(), f"checkov is not installed next to {sys.executable} (make install)"
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE"}  # offline: no look-up of the platform's guidelines
    run = subprocess.run(
        [str(checkov), "-d", str(INFRA), "--framework", "bicep", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=ROOT,
    )
    assert run.stdout.strip(), f"checkov printed nothing (exit {run.returncode}): {run.stderr[-2000:]}"
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    bicep_reports = [r for r in reports if r.get("check_type") == "bicep"]
    assert len(bicep_reports) == 1, f"expected one bicep report, got {[r.get('check_type') for r in reports]}"
    result = bicep_reports[0]
    result["returncode"] = run.returncode
    return result


def test_checkov_passes_with_no_failed_check():
    report = checkov_report()
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0 and not failed, f"checkov failed checks: {failed}"
    assert summary["parsing_errors"] == 0, f"checkov could not parse: {report['results'].get('parsing_errors')}"
    assert summary["passed"] > 0, "checkov ran no check: the templates were not scanned"
    assert report["returncode"] == 0


def test_checkov_scans_every_module_with_resources():
    scanned = {Path(c["file_path"]).name for key in ("passed_checks", "skipped_checks") for c in report_checks(key)}
    for must in ("storage.bicep", "functionapp.bicep", "routing-access.bicep"):
        assert must in scanned, f"checkov evaluated no check in {must}"


def report_checks(key: str) -> list[dict]:
    return checkov_report()["results"][key]


def test_every_skipped_check_has_its_reason_in_the_template():
    skipped = report_checks("skipped_checks")
    for check in skipped:
        reason = check["check_result"].get("suppress_comment", "")
        assert reason and reason != "No comment provided" and len(reason) >= 30, (
            f"{check['check_id']} on {check['resource']} is skipped without a real reason: {reason!r}"
        )
    # Every skip comment in the templates suppresses a check that runs: no stale or mistyped skips.
    declared = {}
    for path in bicep_files():
        for match in re.finditer(r"//\s*checkov:skip=([A-Z0-9_]+):(.+)", path.read_text()):
            declared.setdefault(match.group(1), []).append(path.name)
    used = {c["check_id"] for c in skipped}
    assert set(declared) == used, (
        f"skip comments without a matching check: {set(declared) - used}; "
        f"skips without a comment: {used - set(declared)}"
    )


# -- the templates are well formed -----------------------------------------------------------------
def test_every_bicep_file_parses():
    assert MAIN.exists()
    for path in bicep_files():
        parsed = bicep(path)
        assert parsed.get("resources") or parsed.get("modules"), f"{path} declares nothing"


def test_modules_receive_the_params_they_declare():
    for file in bicep_files():
        for name, module in bicep(file).get("modules", {}).items():
            target = (file.parent / module["detail"]["path"]).resolve()
            assert target.exists(), f"{file.name}: module {name} points at missing {target}"
            declared = module_params(target)
            passed = set(body(module).get("params", {}))
            unknown = passed - set(declared)
            assert not unknown, f"{file.name}: module {name} passes undeclared params {unknown} to {target.name}"
            required = {p for p, spec in declared.items() if spec.get("default") is None}
            missing = required - passed
            assert not missing, f"{file.name}: module {name} misses required params {missing} of {target.name}"


def test_module_outputs_referenced_exist():
    for file in bicep_files():
        modules = {
            name: (file.parent / m["detail"]["path"]).resolve() for name, m in bicep(file).get("modules", {}).items()
        }
        for symbol, output in re.findall(r"\b(\w+)\.outputs\.(\w+)", file.read_text()):
            assert symbol in modules, f"{file.name}: {symbol}.outputs.{output} refers to no module"
            assert output in module_outputs(modules[symbol]), (
                f"{file.name}: {symbol}.outputs.{output} is not an output of {modules[symbol].name}"
            )


def test_parameters_example_matches_main():
    example = json.loads(PARAMETERS_EXAMPLE.read_text())["parameters"]
    declared = module_params(MAIN)
    assert set(example) <= set(declared), f"example sets unknown parameters {set(example) - set(declared)}"
    required = {p for p, spec in declared.items() if spec.get("default") is None}
    assert required <= set(example), f"example misses required parameters {required - set(example)}"
    for name, entry in example.items():
        for decorator in declared[name]["decorators"]:
            if decorator["type"] == "allowed":
                assert entry["value"] in decorator["argument"], f"{name}={entry['value']!r} is not allowed"
            if decorator["type"] == "min_value":
                assert entry["value"] >= decorator["argument"], name
            if decorator["type"] == "max_value":
                assert entry["value"] <= decorator["argument"], name


def test_no_keys_or_connection_strings_in_templates():
    for path in bicep_files():
        text = path.read_text()
        for forbidden in ("listKeys(", "listConnectionStrings(", "AccountKey=", "SharedAccessKey", "listAuthKeys"):
            assert forbidden not in text, f"{path.name} handles a key ({forbidden})"


# -- the names the code depends on ------------------------------------------------------------------
def servicebus_entities() -> tuple[dict, dict, dict]:
    path = MODULES / "servicebus.bicep"
    ns_symbol, namespace = one(path, "Microsoft.ServiceBus/namespaces")
    topic_symbol, topic = one(path, "Microsoft.ServiceBus/namespaces/topics")
    _, subscription = one(path, "Microsoft.ServiceBus/namespaces/topics/subscriptions")
    assert body(topic)["parent"] == ns_symbol
    assert body(subscription)["parent"] == topic_symbol
    return body(namespace), body(topic), body(subscription)


def test_service_bus_topic_and_subscription_match_the_code():
    namespace, topic, subscription = servicebus_entities()
    assert topic["name"] == config.TOPIC
    assert subscription["name"] == config.SUBSCRIPTION
    props = subscription["properties"]
    assert props["requiresSession"] is True
    assert props["maxDeliveryCount"] == 10
    assert props["deadLetteringOnMessageExpiration"] is True
    assert props["lockDuration"] == "PT1M"
    sku = namespace["sku"]["function"]["parameters"]["arg_1"]  # union({name, tier}, Premium ? {capacity} : {})
    assert sku == {"name": "skuName", "tier": "skuName"}
    assert module_params(MODULES / "servicebus.bicep")["skuName"]["default"] == "Standard"
    assert namespace["properties"]["disableLocalAuth"] is True
    assert namespace["properties"]["minimumTlsVersion"] == "1.2"


def test_app_settings_cover_what_the_code_reads_on_azure():
    class Recorder(dict):
        def __init__(self):
            super().__init__()
            self.read: set[str] = set()

        def get(self, key, default=None):
            self.read.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            self.read.add(key)
            return super().__getitem__(key)

    recorder = Recorder()
    config.load_settings(recorder)
    assert recorder.read == set(config.APP_SETTINGS), "shared/config.py reads settings not listed in APP_SETTINGS"
    settings = app_settings()
    on_azure = recorder.read - LOCAL_ONLY_SETTINGS
    assert {config.ENV_TABLES_ENDPOINT, config.ENV_SERVICEBUS_NAMESPACE, config.ENV_ARM_ENDPOINT} <= on_azure
    assert on_azure <= set(settings), (
        f"settings the code reads but the template does not set: {on_azure - set(settings)}"
    )
    assert not LOCAL_ONLY_SETTINGS & set(settings), (
        f"local-only settings on Azure: {LOCAL_ONLY_SETTINGS & set(settings)}"
    )
    stale = {n for n in settings if n.startswith("PROMOTE_")} - set(config.APP_SETTINGS)
    assert not stale, f"the template sets PROMOTE_ settings the code never reads: {stale}"
    assert not FORBIDDEN_APP_SETTINGS & set(settings), FORBIDDEN_APP_SETTINGS & set(settings)
    # identity-based connections and Entra-authenticated telemetry
    assert settings["AzureWebJobsStorage__accountName"]
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    assert (
        settings[f"{config.SERVICEBUS_CONNECTION}__fullyQualifiedNamespace"]
        == settings[config.ENV_SERVICEBUS_NAMESPACE]
    )


def test_environment_variables_the_code_reads_are_declared_in_config():
    literal_reads = set()
    for path in python_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                target = ast.unparse(node.func)
                if target in ("os.getenv", "os.environ.get", "environ.get", "getenv"):
                    literal_reads.add((path.name, node.args[0].value))
            if (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) in ("os.environ", "environ")
                and isinstance(node.slice, ast.Constant)
            ):
                literal_reads.add((path.name, node.slice.value))
    unknown = {(f, name) for f, name in literal_reads if name not in config.APP_SETTINGS}
    assert not unknown, f"environment variables read outside shared/config.APP_SETTINGS: {unknown}"


def test_tables_match_the_code():
    expected = {config.RELEASES_TABLE, config.ROUTING_TABLE, config.DEADLETTER_TABLE, config.JUDGE_TABLE}
    variables = bicep(MAIN)["variables"]
    assert set(variables["promoteTables"]["value"]) == expected
    _, data_storage = main_modules()["dataStorage"]
    assert data_storage["params"]["tables"] == "promoteTables"
    assert "tables" not in main_modules()["hostStorage"][1]["params"]
    _, tables = one(MODULES / "storage.bicep", "Microsoft.Storage/storageAccounts/tableServices/tables")
    assert body(tables)["name"] == "table" and tables["config"]["loop_type"]["detail"]["array_name"] == "tables"


INDEX_APP = """
import json, function_app
print(json.dumps({f.get_function_name(): json.loads(f.get_function_json())["bindings"]
                  for f in function_app.app.get_functions()}))
"""


@cache
def functions() -> dict[str, list[dict]]:
    """name -> bindings, as the Functions host indexes function_app.py: once, in a fresh process, from the app
    root, without any promote setting (the app must not need one at import). A FunctionApp refuses to be
    indexed twice, so this never touches the test process's own function_app."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOTE_")}
    run = subprocess.run(
        [sys.executable, "-c", INDEX_APP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, f"function_app.py does not index: {run.stderr[-3000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def trigger(name: str) -> dict:
    bindings = [b for b in functions()[name] if b["type"].endswith("Trigger")]
    assert len(bindings) == 1, f"{name}: expected one trigger, got {bindings}"
    return bindings[0]


def test_function_bindings_match_the_template():
    names = set(functions())
    assert DOCUMENTED_FUNCTIONS <= names, f"missing functions: {DOCUMENTED_FUNCTIONS - names}"
    _, topic, subscription = servicebus_entities()
    settings = app_settings()

    events = trigger("events")
    assert events["type"] == "serviceBusTrigger"
    assert events["topicName"] == topic["name"] == config.TOPIC
    assert events["subscriptionName"] == subscription["name"] == config.SUBSCRIPTION
    assert events["isSessionsEnabled"] is subscription["properties"]["requiresSession"] is True
    assert events["connection"] == config.SERVICEBUS_CONNECTION

    alerts = trigger("alerts")
    assert alerts["type"] == "httpTrigger" and alerts["route"] == "alerts"
    assert [m.upper() for m in alerts["methods"]] == ["POST"]
    assert alerts["authLevel"].lower() == "function"

    status = trigger("status")
    assert status["type"] == "httpTrigger" and status["route"] == "releases/{release}"
    assert [m.upper() for m in status["methods"]] == ["GET"]
    assert status["authLevel"].lower() == "function"

    if "drift" in names:
        assert trigger("drift")["type"] == "timerTrigger"

    for name, bindings in functions().items():
        for binding in bindings:
            connection = binding.get("connection")
            if connection:  # identity-based: <connection>__fullyQualifiedNamespace / __accountName / __serviceUri
                assert any(s.startswith(f"{connection}__") for s in settings), (
                    f"{name}: no identity-based app setting for connection {connection}"
                )
                assert connection not in settings, f"{name}: {connection} would be a connection string"
            for value in binding.values():
                for setting in re.findall(r"%(\w+)%", value if isinstance(value, str) else ""):
                    assert setting in settings, f"{name}: binding expression %{setting}% is not an app setting"


def test_alerts_url_output_is_the_alerts_route():
    host = json.loads((ROOT / "host.json").read_text())
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    alerts_url = bicep(MAIN)["outputs"]["alertsUrl"]["value"]
    assert alerts_url.endswith(f"/{prefix}/{trigger('alerts')['route']}")


# -- least privilege ------------------------------------------------------------------------------------
def role_assignments(path: Path) -> list[tuple[str, str, str | None]]:
    """(symbol, role GUID, scope resource type or None for the deployment's resource group)."""
    variables = bicep(path).get("variables", {})
    declared = resources(path)
    found = []
    for symbol, resource in resources(path, "Microsoft.Authorization/roleAssignments").items():
        cfg = body(resource)
        role = cfg["properties"]["roleDefinitionId"]
        function = role["function"] if isinstance(role, dict) else None
        role_guid = None
        if function and function["type"] == "subscription_resource_id":
            name = function["parameters"]["resource_name_1"]
            if isinstance(name, dict):  # <variable>.<key>, e.g. roles.serviceBusDataSender
                operands = name["operator"]["operands"]
                role_guid = variables[operands["operand_1"]]["value"][operands["operand_2"]]
            elif name in variables:  # a variable holding the id, e.g. siteRecoveryReader
                role_guid = variables[name]["value"]
            else:
                role_guid = name
        scope = cfg.get("scope")
        if isinstance(scope, dict) and scope.get("operator", {}).get("type") == "index_accessor":
            scope = scope["operator"]["operands"]["operand_1"]  # one of a loop of resources: vms[i]
        found.append((symbol, role_guid, declared[scope]["type"] if scope else None))
    return found


def test_app_identity_roles_are_scoped_narrowly():
    got = {(role, scope) for _, role, scope in role_assignments(MODULES / "app-access.bicep")}
    r = BUILT_IN_ROLES
    assert got == {
        (r["Azure Service Bus Data Receiver"], "Microsoft.ServiceBus/namespaces/topics/subscriptions"),
        (r["Azure Service Bus Data Owner"], "Microsoft.ServiceBus/namespaces/topics/subscriptions"),  # opt-in
        (r["Azure Service Bus Data Sender"], "Microsoft.ServiceBus/namespaces/topics"),
        (r["Storage Table Data Contributor"], "Microsoft.Storage/storageAccounts"),
        (r["Storage Blob Data Owner"], "Microsoft.Storage/storageAccounts"),
        (r["Monitoring Metrics Publisher"], "Microsoft.Insights/components"),
        (r["Key Vault Secrets User"], "Microsoft.KeyVault/vaults"),
    }
    owner = resources(MODULES / "app-access.bicep")["ownerOnSubscription"]["config"]
    assert owner["condition"] == "serviceBusScaleMetrics"
    assert module_params(MODULES / "app-access.bicep")["serviceBusScaleMetrics"]["default"] is False
    assert module_params(MAIN)["serviceBusScaleMetrics"]["default"] is False
    # tables on the application account, blobs on the host account: never the other way round
    storage = {
        s: body(x)["name"]
        for s, x in resources(MODULES / "app-access.bicep", "Microsoft.Storage/storageAccounts").items()
    }
    scopes = {
        body(x)["properties"]["description"]: storage.get(body(x).get("scope"))
        for x in resources(MODULES / "app-access.bicep", "Microsoft.Authorization/roleAssignments").values()
    }
    assert scopes["promote: read and write the promote tables"] == "dataStorageAccountName"
    assert "hostStorageAccountName" in {v for k, v in scopes.items() if "AzureWebJobsStorage" in k}


def test_the_health_judge_reads_workspaces_and_metrics_in_bulk_and_nothing_more():
    path = MODULES / "monitor-access.bicep"
    got = {(symbol, role, scope) for symbol, role, scope in role_assignments(path)}
    assert got == {
        ("workspaceReader", BUILT_IN_ROLES["Log Analytics Reader"], "Microsoft.OperationalInsights/workspaces"),
        ("metricsOnResourceGroup", BUILT_IN_ROLES["Monitoring Reader"], None),  # one assignment for a whole wave
        ("metricsOnVm", BUILT_IN_ROLES["Monitoring Reader"], "Microsoft.Compute/virtualMachines"),
    }
    declared = resources(path)
    assert declared["workspaceReader"]["config"]["loop_type"]["detail"]["array_name"] == "workspaceNames"
    assert declared["metricsOnVm"]["config"]["loop_type"]["detail"]["array_name"] == "metricsVmNames"
    condition = declared["metricsOnResourceGroup"]["config"]["condition"]["operator"]
    assert condition["type"] == "equals" and set(condition["operands"].values()) == {"metricsScope", "resourceGroup"}
    assert module_params(path)["metricsScope"]["default"] == "none"  # nothing unless asked for
    assert "monitorAccess" not in main_modules(), "monitor rights must be a separate deployment"


def test_event_grid_notifications_may_publish_to_the_named_topics_only():
    path = MODULES / "notify-access.bicep"
    got = {(role, scope) for _, role, scope in role_assignments(path)}
    assert got == {(BUILT_IN_ROLES["EventGrid Data Sender"], "Microsoft.EventGrid/topics")}
    [(_, sender)] = resources(path, "Microsoft.Authorization/roleAssignments").items()
    assert sender["config"]["loop_type"]["detail"]["array_name"] == "topicNames"
    assert module_params(path)["topicNames"]["default"] is None  # required: no topic, no deployment
    assert "notifyAccess" not in main_modules(), "Event Grid rights are a separate deployment, in the topics' group"


def test_operator_roles_are_scoped_narrowly():
    got = {(role, scope) for _, role, scope in role_assignments(MODULES / "operator-access.bicep")}
    assert got == {
        (BUILT_IN_ROLES["Azure Service Bus Data Sender"], "Microsoft.ServiceBus/namespaces/topics"),
        (BUILT_IN_ROLES["Storage Table Data Contributor"], "Microsoft.Storage/storageAccounts"),
        (BUILT_IN_ROLES["Storage Table Data Reader"], "Microsoft.Storage/storageAccounts"),  # readOnly: watchers
        (BUILT_IN_ROLES["Key Vault Secrets Officer"], "Microsoft.KeyVault/vaults"),  # storesSecrets
    }


def test_only_routing_access_and_monitor_readers_grant_on_a_whole_resource_group():
    read_only = {BUILT_IN_ROLES["Monitoring Reader"]}  # the metrics of a wave's resources, in one assignment
    for path in bicep_files():
        for symbol, role, scope in role_assignments(path):
            if path.name == "monitor-access.bicep" and role in read_only:
                continue
            if path.name != "routing-access.bicep":
                assert scope is not None, f"{path.name}: {symbol} is granted on the whole resource group"


def test_finish_access_grants_only_on_the_source_vms_and_the_vault():
    path = MODULES / "finish-access.bicep"
    got = {(symbol, scope) for symbol, _, scope in role_assignments(path)}
    assert got == {
        ("decommissionAssignment", "Microsoft.Compute/virtualMachines"),
        ("siteRecoveryAssignment", "Microsoft.RecoveryServices/vaults"),
        ("migrationAssignment", "Microsoft.RecoveryServices/vaults"),
    }
    actions = bicep(path)["variables"]["decommissionActions"]["value"]
    assert all(a.startswith("Microsoft.Compute/") and not a.endswith(("/write", "/delete", "/*")) for a in actions)
    assert {
        "Microsoft.Compute/virtualMachines/powerOff/action",
        "Microsoft.Compute/virtualMachines/deallocate/action",
    } <= set(actions)


def expanded(path: Path, name: str) -> list[str]:
    """A variable's list of strings with ${other variable} interpolations filled in."""
    variables = bicep(path)["variables"]
    return [re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)]["value"], item) for item in variables[name]["value"]]


def test_azure_migrate_rights_are_the_migration_item_operations_on_one_vault():
    path = MODULES / "finish-access.bicep"
    actions = expanded(path, "migrationActions")
    items = (
        "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationMigrationItems"
    )
    assert {  # rehearse, clean up, cut over, complete (finalize), follow the jobs
        f"{items}/testMigrate/action",
        f"{items}/testMigrateCleanup/action",
        f"{items}/migrate/action",
        f"{items}/delete",
        "Microsoft.RecoveryServices/vaults/replicationJobs/read",
    } <= set(actions)
    assert len(actions) == len(set(actions))
    for action in actions:
        assert action.startswith("Microsoft.RecoveryServices/vaults/") and "*" not in action, action
        assert not action.endswith("/write"), f"{action}: promote changes no vault, fabric or policy"
        assert not action.endswith("/delete") or action == f"{items}/delete", action
    declared = resources(path)
    assert body(declared["migrationRole"])["properties"]["assignableScopes"][0]["function"]["type"] == "resource_group"
    assert body(declared["migrationAssignment"])["scope"] == "vault"  # the vault, not its resource group
    assert module_params(path)["vaultRights"]["default"] == "read"  # read only unless a plan migrates


def test_routing_access_is_limited_to_network_actions():
    path = MODULES / "routing-access.bicep"
    assert bicep(path)["globals"]["scope"]["value"] == "resourceGroup"
    actions = bicep(path)["variables"]["routingActions"]["value"]
    assert actions and len(actions) == len(set(actions))
    for action in actions:
        assert "*" not in action, action
        assert action.startswith(("Microsoft.Network/", "Microsoft.Cdn/profiles/originGroups/")) or action in (
            "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
            "Microsoft.Cdn/profiles/read",
            "Microsoft.Cdn/operationresults/read",
        ), action
        assert not action.startswith("Microsoft.Network/trafficManagerProfiles/") or action.endswith(
            ("Endpoints/write", "Profiles/read")
        ), action  # narrower than Traffic Manager Contributor
    needed = {
        "Microsoft.Network/loadBalancers/backendAddressPools/write",
        "Microsoft.Network/applicationGateways/write",
        "Microsoft.Network/routeTables/routes/write",
        "Microsoft.Network/networkSecurityGroups/securityRules/write",
        "Microsoft.Network/trafficManagerProfiles/externalEndpoints/write",
        "Microsoft.Cdn/profiles/originGroups/origins/write",
    }
    assert needed <= set(actions)
    _, role = one(path, "Microsoft.Authorization/roleDefinitions")
    scopes = body(role)["properties"]["assignableScopes"]
    assert len(scopes) == 1 and scopes[0]["function"]["type"] == "resource_group"
    text = path.read_text()
    assert BUILT_IN_ROLES["Network Contributor"] in text and BUILT_IN_ROLES["Traffic Manager Contributor"] in text
    assert module_params(path)["networkRole"]["default"] == "custom"
    assert module_params(path)["trafficManager"]["default"] is False
    assert "routingAccess" not in main_modules(), "routing rights must be a separate deployment"


def test_role_ids_in_templates_are_built_in_ids():
    known = set(BUILT_IN_ROLES.values())
    guid = re.compile(r"'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'")
    seen = set()
    for path in bicep_files():
        for value in guid.findall(path.read_text()):
            assert value in known, f"{path.name}: {value} is not the id of a role this project expects"
            seen.add(value)
    assert seen == known, f"roles never granted: {known - seen}"


# -- the platform's expectations ----------------------------------------------------------------------
def test_storage_and_function_app_hardening():
    _, account = one(MODULES / "storage.bicep", "Microsoft.Storage/storageAccounts")
    props = body(account)["properties"]
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["allowBlobPublicAccess"] is False
    assert props["allowSharedKeyAccess"] is False

    _, plan = one(MODULES / "functionapp.bicep", "Microsoft.Web/serverfarms")
    assert body(plan)["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    _, site = one(MODULES / "functionapp.bicep", "Microsoft.Web/sites")
    site = body(site)
    assert site["identity"]["type"] == "SystemAssigned"
    assert site["properties"]["httpsOnly"] is True
    assert site["properties"]["siteConfig"]["minTlsVersion"] == "1.2"
    flex = site["properties"]["functionAppConfig"]
    assert flex["deployment"]["storage"]["authentication"]["type"] == "SystemAssignedIdentity"
    assert flex["runtime"]["name"] == "python"
    assert module_params(MAIN)["pythonVersion"]["default"] == "3.11"
    _, insights = one(MODULES / "monitoring.bicep", "Microsoft.Insights/components")
    assert body(insights)["properties"]["DisableLocalAuth"] is True


def test_host_json_is_what_the_functions_host_expects():
    host = json.loads((ROOT / "host.json").read_text())
    assert host["version"] == "2.0"
    bundle = host["extensionBundle"]
    assert bundle["id"] == "Microsoft.Azure.Functions.ExtensionBundle"
    low, high = version_range(bundle["version"])
    for version in ((4, 0, 0), (4, 5, 0), (4, 99, 99)):
        assert low(version) and high(version), f"bundle range {bundle['version']} excludes {version}"


def version_range(text: str):
    """NuGet interval notation as used by extension bundles: [4.*, 5.0.0) -> two predicates."""
    match = re.fullmatch(r"\s*([\[(])\s*([\d.*]*)\s*,\s*([\d.*]*)\s*([\])])\s*", text)
    assert match, f"not a version range: {text!r}"
    opening, low, high, closing = match.groups()

    def parse(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.replace("*", "0").split(".")) + (0,) * (3 - len(v.split(".")))

    def lower(v):
        return not low or (v >= parse(low) if opening == "[" else v > parse(low))

    def upper(v):
        return not high or (v <= parse(high) if closing == "]" else v < parse(high))

    return lower, upper


def test_version_range_parser_rejects_versions_outside():
    low, high = version_range("[4.*, 5.0.0)")
    assert not (low((3, 9, 0)) and high((3, 9, 0)))
    assert not (low((5, 0, 0)) and high((5, 0, 0)))
    assert low((4, 0, 0)) and high((4, 0, 0))


def python_sources() -> list[Path]:
    files = [
        ROOT / "function_app.py",
        *sorted((ROOT / "functions").rglob("*.py")),
        *sorted((ROOT / "shared").rglob("*.py")),
    ]
    return [f for f in files if f.exists()]


def third_party_imports() -> dict[str, set[str]]:
    """Absolute imported module -> the files importing it, stdlib and the app's own packages left out."""
    local = {"function_app", "functions", "shared"}
    found: dict[str, set[str]] = {}
    for path in python_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def distribution_of(module: str) -> str:
    """The installed distribution that provides `module` (namespace packages like azure.* resolved)."""
    candidates = importlib.metadata.packages_distributions().get(module.split(".")[0], [])
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):  # the deepest package path that one distribution owns
        prefix = "/".join(parts[:depth])
        owners = {
            d
            for d in candidates
            if any(
                str(f).startswith(prefix + "/") or str(f) == prefix + ".py"
                for f in importlib.metadata.distribution(d).files or []
            )
        }
        if len(owners) == 1:
            return owners.pop()
        # a plugin may install files inside another distribution's package (azure-core-tracing-opentelemetry
        # puts azure/core/tracing/ext/ under azure-core's azure/core/): the package is the one holding __init__
        packages = {
            d
            for d in owners
            if any(str(f) == prefix + "/__init__.py" for f in importlib.metadata.distribution(d).files or [])
        }
        if len(packages) == 1:
            return packages.pop()
    raise AssertionError(f"no single installed distribution provides {module} (candidates {candidates})")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_list_every_runtime_import():
    listed = set()
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            listed.add(canonical(re.match(r"[A-Za-z0-9._-]+", line).group(0)))
    imports = third_party_imports()
    assert imports, "found no third-party import at all"
    missing = {}
    for module, files in sorted(imports.items()):
        assert importlib.util.find_spec(module.split(".")[0]) is not None, f"{module} is not installed"
        dist = canonical(distribution_of(module))
        if dist not in listed:
            missing.setdefault(dist, set()).update(files)
    assert not missing, f"imported but not listed in requirements.txt: {missing}"
    assert "azure-functions" in listed


def test_distribution_lookup_resolves_namespace_packages():
    assert canonical(distribution_of("azure.data.tables")) == "azure-data-tables"
    assert canonical(distribution_of("azure.functions")) == "azure-functions"
    assert canonical(distribution_of("yaml")) == "pyyaml"


# -- the deploy guide ---------------------------------------------------------------------------------
def guide_commands() -> list[str]:
    """Lines of the guide's shell code blocks (```bash), backslash continuations joined."""
    blocks, current, language = [], None, None
    for line in GUIDE.read_text().splitlines():
        if line.startswith("```"):
            if current is None:
                current, language = [], line[3:].strip()
            else:
                if language in ("bash", "sh", "shell"):
                    blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, "unclosed code block in the guide"
    lines = []
    for block in blocks:
        lines.extend(block.replace("\\\n", " ").splitlines())
    return lines


def deployments_in_guide() -> list[dict]:
    found = []
    for line in guide_commands():
        if "az deployment group create" in line or "az deployment group what-if" in line:
            template = re.search(r"--template-file\s+(\S+)", line)
            assert template, f"deployment without --template-file: {line}"
            name = re.search(r"--name\s+(\S+)", line)
            params = re.search(r"--parameters\s+(.*?)(?=\s--|$)", line)
            found.append(
                {
                    "template": ROOT / template.group(1),
                    "name": name.group(1) if name else None,
                    "parameters": params.group(1).split() if params else [],
                }
            )
    return found


def test_guide_deploys_the_templates_with_their_parameters():
    deployments = deployments_in_guide()
    templates = {d["template"].relative_to(ROOT).as_posix() for d in deployments}
    assert {
        "infra/main.bicep",
        "infra/modules/routing-access.bicep",
        "infra/modules/finish-access.bicep",
        "infra/modules/monitor-access.bicep",
        "infra/modules/notify-access.bicep",
    } <= templates
    for deployment in deployments:
        assert deployment["template"].exists(), deployment["template"]
        declared = set(module_params(deployment["template"]))
        for token in deployment["parameters"]:
            if token.startswith("@"):
                file = ROOT / token[1:]
                assert file.exists(), file
                assert set(json.loads(file.read_text())["parameters"]) <= declared
            else:
                key = token.split("=", 1)[0]
                assert key in declared, (
                    f"guide passes {key} to {deployment['template'].name}, which has no such parameter"
                )
    # parameters quoted inline (`--parameters a=b c=d`) anywhere in the prose exist in main.bicep
    for inline in re.findall(r"`--parameters ([^`]+)`", GUIDE.read_text()):
        for token in inline.split():
            if "=" in token and not token.startswith("@"):
                assert token.split("=", 1)[0] in module_params(MAIN), token


def test_guide_reads_only_outputs_that_exist():
    outputs = module_outputs(MAIN)
    text = GUIDE.read_text()
    used = set(re.findall(r"\$\(out (\w+)\)", text)) | set(re.findall(r"properties\.outputs\.(\w+)\.value", text))
    assert {
        "functionAppName",
        "functionAppPrincipalId",
        "topicResourceId",
        "storageAccountResourceId",
        "PROMOTE_SERVICEBUS_NAMESPACE",
        "PROMOTE_TABLES_ENDPOINT",
    } <= used
    assert used <= outputs, f"the guide reads outputs main.bicep does not have: {used - outputs}"
    shows = {
        re.search(r"--name\s+(\S+)", line).group(1) for line in guide_commands() if "az deployment group show" in line
    }
    created = {d["name"] for d in deployments_in_guide() if d["name"]}
    assert shows and shows <= created, f"the guide reads deployments it never creates: {shows - created}"
    # every output in the outputs table exists, and the parameters table lists every parameter
    documented_outputs = {
        name for row in re.findall(r"^\| (`[^|]+)\|", text, flags=re.M) for name in re.findall(r"`(\w+)`", row)
    }
    assert outputs <= documented_outputs, f"outputs missing from the guide's table: {outputs - documented_outputs}"
    assert set(module_params(MAIN)) <= documented_outputs, (
        f"parameters missing from the guide's table: {set(module_params(MAIN)) - documented_outputs}"
    )


def test_guide_names_match_the_code():
    text = GUIDE.read_text()
    for name in (
        config.TOPIC,
        config.SUBSCRIPTION,
        config.RELEASES_TABLE,
        config.ROUTING_TABLE,
        config.DEADLETTER_TABLE,
        f"{config.SERVICEBUS_CONNECTION}__fullyQualifiedNamespace",
        config.ENV_SERVICEBUS_NAMESPACE,
        config.ENV_TABLES_ENDPOINT,
        config.ENV_ARM_ENDPOINT,
    ):
        assert name in text, f"the guide never mentions {name}"
    for function in re.findall(r"--function-name\s+(\w+)", text):
        assert function in functions(), f"the guide uses unknown function {function}"
    for route in re.findall(r"/api/([\w/{}]+)", text):
        routes = {b.get("route") for bindings in functions().values() for b in bindings}
        assert route in routes, f"the guide uses unknown route /api/{route}"
    for kind in re.findall(r"promote send ([a-z-]+)", text):
        assert kind in MESSAGE_TYPES, f"the guide sends unknown message type {kind}"
    for setting in re.findall(r"\bPROMOTE_[A-Z_]+\b", text):
        known = config.APP_SETTINGS + config.CLIENT_SETTINGS + override_proof.SETTINGS
        assert setting in known, f"the guide uses unknown setting {setting}"
    for role in re.findall(r'--role "([^"]+)"', text):
        assert role in BUILT_IN_ROLES, f"the guide assigns an unexpected role {role}"
    operator_roles = {BUILT_IN_ROLES[r] for r in re.findall(r'--role "([^"]+)"', text)}
    assert operator_roles == {role for _, role, _ in role_assignments(MODULES / "operator-access.bicep")}


def test_what_you_get_names_every_function_table_topic_and_subscription():
    text = GUIDE.read_text()
    section = text[text.index("## What you get") : text.index("## Before you start")]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ")]
    named = {name for cells in rows for name in re.findall(r"^ ?`([\w-]+)` ?$", "|".join(cells), flags=re.M)}
    named |= {name for cells in rows for cell in cells for name in re.findall(r"^\s*`([\w-]+)`\s*$", cell)}
    assert set(functions()) <= named, f"functions missing from the guide's list: {set(functions()) - named}"
    tables = {
        config.RELEASES_TABLE,
        config.ROUTING_TABLE,
        config.DEADLETTER_TABLE,
        config.JUDGE_TABLE,
        config.METRICS_TABLE,
    }
    assert tables | {config.TOPIC, config.SUBSCRIPTION} <= named, f"missing: {tables - named}"
    assert set(bicep(MAIN)["variables"]["promoteTables"]["value"]) <= named


def test_guide_is_a_checklist_with_prerequisites_and_a_smoke_test():
    text = GUIDE.read_text()
    before = " ".join(text[text.index("## Before you start") : text.index("## 1.")].split())
    assert before.count("- [ ]") >= 5
    for role in ("Application Developer", "Cloud Application Administrator", "Owner", "User Access Administrator"):
        assert role in before, f"the prerequisites do not say who needs {role}"
    smoke = text[text.index("## 6. Smoke test") : text.index("## 7.")]
    for must in ("az functionapp function list", "promote apply", "promote status", "deadLetterMessageCount", "401"):
        assert must in smoke, f"the smoke test does not check {must}"
    redeploy = smoke[smoke.index("SMOKE_KEPT=yes") :]  # a setting, a redeploy, the setting read back
    assert "az deployment group create" in redeploy and "[?name=='SMOKE_KEPT'].value" in redeploy


def local_modules_of_the_app() -> set[str]:
    """Top-level local modules/packages the function app imports (transitively through shared/ and functions/)."""
    local = set()
    for path in python_sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                else []
            )
            for name in names:
                top = name.split(".")[0]
                if (ROOT / top).is_dir() or (ROOT / f"{top}.py").exists():
                    local.add(top)
    return local


def test_guide_zip_package_contains_the_whole_app():
    zips = [line for line in guide_commands() if line.startswith("zip ")]
    assert len(zips) == 1, zips
    included = set(zips[0].split()[3:])  # zip -r app.zip <paths...>
    needed = {"function_app.py", "host.json", "requirements.txt"} | {
        m if (ROOT / m).is_dir() else f"{m}.py" for m in local_modules_of_the_app()
    }
    assert needed <= included, f"the guide's zip misses {needed - included}"
    for path in included - {"-x"}:
        if not path.startswith("'"):
            assert (ROOT / path).exists(), f"the guide zips {path}, which does not exist"


def test_funcignore_keeps_the_package_to_the_app():
    """`func azure functionapp publish` uploads the directory minus .funcignore: no venv, no node_modules."""
    funcignore = ROOT / ".funcignore"
    assert funcignore.exists(), ".funcignore is missing: func publish would upload .venv/ and node_modules/"
    patterns = {
        line.strip().rstrip("/").lstrip("/")
        for line in funcignore.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for must in (".venv", "node_modules", ".promote", "tests", "local.settings.json"):
        assert must in patterns, f".funcignore does not exclude {must}"
    for kept in ("function_app.py", "host.json", "requirements.txt", "shared", "functions"):
        assert kept not in patterns, f".funcignore excludes {kept}, which the app needs"
