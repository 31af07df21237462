"""Authentication in the templates: App Service authentication (Entra ID) in front of the function app, and topic
send rights only for the senders of events."""

from __future__ import annotations

from shared.application import config
from tests.infra.test_infra import MAIN, MODULES, functions, main_modules, module_params, resources, site_config


def auth_settings() -> dict:
    return site_config("authsettingsV2")["properties"]


def test_the_app_requires_entra_id_authentication_and_answers_401_without_it():
    auth = auth_settings()
    assert auth["platform"]["enabled"] is True
    assert auth["globalValidation"]["requireAuthentication"] is True
    assert auth["globalValidation"]["unauthenticatedClientAction"] == "Return401"
    entra = auth["identityProviders"]["azureActiveDirectory"]
    assert entra["enabled"] is True and entra["registration"]["clientId"] == "authClientId"
    assert auth["login"]["tokenStore"]["enabled"] is False  # bearer tokens only: nothing kept server-side
    assert "authClientId" in module_params(MAIN) and module_params(MAIN)["authClientId"].get("default") is None


def test_only_function_key_routes_are_excluded_and_the_override_route_is_not():
    excluded = auth_settings()["globalValidation"]["excludedPaths"]
    routes = {b["route"]: b for bindings in functions().values() for b in bindings if b.get("type") == "httpTrigger"}
    assert f"/api/{config.OVERRIDES_ROUTE}" not in excluded
    assert routes[config.OVERRIDES_ROUTE]["authLevel"].lower() == "anonymous"  # Easy Auth is its gate
    for path in excluded:  # what Easy Auth lets through still needs a function key ('/*': the paths under it)
        prefix = path.removesuffix("/*")
        matched = [
            r for r in routes if f"/api/{r}" == path or (path.endswith("/*") and f"/api/{r}".startswith(prefix + "/"))
        ]
        assert matched, f"{path} excludes no route"
        assert all(routes[r]["authLevel"].lower() == "function" for r in matched), path


def test_topic_send_rights_go_only_to_event_senders():
    path = MODULES / "operator-access.bicep"
    sender = resources(path)["senderOnTopic"]["config"]["condition"]["operator"]  # sendsEvents && !readOnly
    assert sender["type"] == "and" and sender["operands"]["operand_1"] == "sendsEvents"
    assert sender["operands"]["operand_2"] == {"operator": {"type": "not", "operands": {"bool_value": "readOnly"}}}
    assert module_params(path)["sendsEvents"]["default"] is False


def test_the_board_is_never_excluded_from_authentication():
    excluded = auth_settings()["globalValidation"]["excludedPaths"]
    routes = {b["route"] for bindings in functions().values() for b in bindings if b.get("type") == "httpTrigger"}
    board = [r for r in routes if r.startswith("board")]
    assert board, "the board's HTTP route is registered"
    assert not [p for p in excluded if "/api/board".startswith(p.removesuffix("/*"))]


def test_people_who_only_watch_get_a_read_only_role():
    path = MODULES / "operator-access.bicep"
    declared = resources(path)
    for symbol, read_only in (("readerOnDataStorage", True), ("tablesOnDataStorage", False)):
        condition = declared[symbol]["config"]["condition"]["operator"]
        assert condition["type"] == "and" and condition["operands"]["operand_1"] == "includeTables"
        wanted = "readOnly" if read_only else {"operator": {"type": "not", "operands": {"bool_value": "readOnly"}}}
        assert condition["operands"]["operand_2"] == wanted, symbol
    assert module_params(path)["readOnly"]["default"] is False
    passed = main_modules()["operatorAccess"][1]["params"]["readOnly"]  # each operators entry's readOnly, or false
    assert passed["operator"]["type"] == "conditional" and passed["operator"]["operands"]["false_value"] is False
