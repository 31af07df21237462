"""infra/set-auth.sh against a stand-in `az` that records each call: the sign-in's redirect URI and ID tokens
on the app registration, and the override endpoint's signing key in Key Vault behind the app setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE_AZ = r"""
import json, os, sys
from pathlib import Path

state = Path(os.environ["FAKE_AZ_STATE"])
calls = state / "calls.jsonl"
args = sys.argv[1:]
with calls.open("a") as f:
    f.write(json.dumps(args) + "\n")
words = " ".join(a for a in args if not a.startswith("-"))
if words.startswith("functionapp show"):
    print("promote-func.azurewebsites.net")
elif words.startswith("webapp auth show"):
    print("11111111-2222-3333-4444-555555555555")
elif words.startswith("ad app show"):
    print(os.environ.get("FAKE_AZ_URIS", "").replace(",", "\n"))
elif words.startswith("keyvault list"):
    print("kvpromoteabc")
elif words.startswith("keyvault secret show"):
    sys.exit(0 if (state / "secret").exists() else 3)
elif words.startswith("keyvault secret set"):
    (state / "secret").write_text(args[args.index("--value") + 1])
"""


def run(tmp_path: Path, *extra: str, uris: str = "") -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(f"#!{sys.executable}\n{FAKE_AZ}")
    az.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_AZ_STATE": str(tmp_path),
        "FAKE_AZ_URIS": uris,
    }
    env.pop("KV", None)
    done = subprocess.run(
        ["bash", str(ROOT / "infra" / "set-auth.sh"), "rg-promote", "promote-func", *extra],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    (tmp_path / "calls.jsonl").unlink()
    return done, calls


def call(calls: list[list[str]], *words: str) -> list[str]:
    [found] = [c for c in calls if c[: len(words)] == list(words)]
    return found


def test_it_registers_the_login_callback_and_id_tokens_and_keeps_other_redirect_uris(tmp_path):
    done, calls = run(tmp_path, "promote.contoso.com", uris="https://other.example/signin")
    assert done.returncode == 0, done.stderr
    update = call(calls, "ad", "app", "update")
    uris = update[update.index("--web-redirect-uris") + 1 : update.index("--enable-id-token-issuance")]
    assert uris == [
        "https://other.example/signin",
        "https://promote-func.azurewebsites.net/.auth/login/aad/callback",
        "https://promote.contoso.com/.auth/login/aad/callback",
    ]
    assert update[update.index("--enable-id-token-issuance") + 1] == "true"
    assert update[update.index("--id") + 1] == "11111111-2222-3333-4444-555555555555"


def test_it_creates_the_signing_key_once_and_points_the_app_setting_at_it(tmp_path):
    done, calls = run(tmp_path)
    assert done.returncode == 0, done.stderr
    key = (tmp_path / "secret").read_text()
    assert len(key) >= 64 and key not in done.stdout + done.stderr  # never printed
    setting = call(calls, "functionapp", "config", "appsettings", "set")
    assert "PROMOTE_OVERRIDE_KEY=@Microsoft.KeyVault(VaultName=kvpromoteabc;SecretName=promote-override-key)" in setting
    # again: the key stays, the registration is not given the callback twice
    done, calls = run(tmp_path, uris="https://promote-func.azurewebsites.net/.auth/login/aad/callback")
    assert done.returncode == 0 and (tmp_path / "secret").read_text() == key
    assert not [c for c in calls if c[:3] == ["keyvault", "secret", "set"]]
    update = call(calls, "ad", "app", "update")
    assert update.count("https://promote-func.azurewebsites.net/.auth/login/aad/callback") == 1


def test_without_arguments_it_says_how_to_call_it(tmp_path):
    done = subprocess.run(["bash", str(ROOT / "infra" / "set-auth.sh")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "usage" in done.stderr
