"""The board on Azure is behind Entra ID: the infra turns App Service Authentication on for the app."""
from __future__ import annotations

from tests.infra.test_infra import MAIN, MODULES, body, main_modules, module_params, resources


def test_the_function_app_requires_authentication_and_sends_browsers_to_entra_id():
    [(_, auth)] = resources(MODULES / "board-auth.bicep", "Microsoft.Web/sites/config").items()
    props = body(auth)
    text = (MODULES / "board-auth.bicep").read_text()
    assert "'authsettingsV2'" in text and "requireAuthentication: true" in text
    assert "unauthenticatedClientAction: 'RedirectToLoginPage'" in text and "requireHttps: true" in text
    assert "AllowAnonymous" not in text and props
    # only machine callers with function keys are excluded, never the board
    assert "'/api/alerts'" in text and "'/api/releases'" in text and "/api/board" not in text.split("excludedPaths")[1].split("]")[0]


def test_main_deploys_the_board_authentication_for_the_function_app():
    modules = main_modules()
    assert any(path.name == "board-auth.bicep" for path, _ in modules.values())
    assert "boardClientId" in module_params(MAIN) and "boardClientId" in module_params(MODULES / "board-auth.bicep")
    assert "output boardUrl string" in MAIN.read_text()
