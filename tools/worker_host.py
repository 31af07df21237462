"""`make worker`: index and invoke function_app.py through Azure Functions' own Python runtime over gRPC.

A minimal Functions host of our own, as the Python worker's own tests use one: a gRPC FunctionRpc server
(one bidirectional EventStream) that starts a worker process and speaks to it as the Functions host does:

    StartStream <- worker;  WorkerInitRequest -> (the runtime imports and indexes function_app.py);
    FunctionsMetadataRequest -> every function with its raw bindings (what Azure's host will bind);
    FunctionLoadRequest -> for each;  WorkerStatusRequest;  InvocationRequest -> per trigger;  WorkerTerminate.

What is real: `azure-functions-runtime` (the v2 programming model's request handlers, which Azure runs for
Python 3.13+: indexing, binding decode, invocation, response encode), `azure-functions`, and the FunctionRpc
messages (the generated modules Microsoft ships in the `azure-functions-runtime-v1` wheel on PyPI), all from
PyPI at pinned versions and hashes. What is ours: this host (Azure's is .NET) and the thin gRPC client in
tools/worker_proxy.py (Azure's proxy worker ships only inside the Functions host and Core Tools). The
classic worker for Python 3.11/3.12 is not on PyPI at all; it indexes with the same azure-functions library.

It checks every function's bindings against what infra and Azure expect (topic, subscription, sessions,
routes, methods, auth levels, timers), then, on a fresh Azurite, invokes: the status route (with and without a
function key), an events message as the Service Bus extension delivers it, the override endpoint as App
Service authentication hands it a signed-in user (202, queued with its proof), that queued override through
the events function (decided as that user), a board page, and every timer. Exit 0 only if all is as expected.

    .venv/bin/python tools/worker_host.py setup     # .venv/worker: Python >= 3.13 + pinned runtime + protos
    .venv/worker/bin/python tools/worker_host.py run
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
VENV = ROOT / ".venv" / "worker"
WORKER_REQUIREMENTS = TOOLS / "worker-requirements.txt"  # azure-functions-runtime and what it adds, hashed
PROTOS_WHEEL = TOOLS / "worker-protos.txt"  # the wheel that ships FunctionRpc's generated modules, hashed
PROTOS_IN_WHEEL = "tests/protos/"  # where azure-functions-runtime-v1 keeps them (relative imports inside)
PROTOS_PACKAGE = "functionrpc"
RUNTIME_MIN = (3, 13)  # azure-functions-runtime: Requires-Python >=3.13
ROUTE_PREFIX = "api"  # host.json sets none: the Functions host's default
NCRONTAB = re.compile(r"^\S+( \S+){5}$")  # six fields: seconds first


# -- what Azure must see (pure: tests/functions/test_worker_host.py) ------------------------------------------
def expected_functions(topic: str, subscription: str, connection: str, overrides_route: str) -> dict[str, dict]:
    """Each function's trigger binding as the Functions host must bind it on Azure."""
    http = {"type": "httpTrigger", "direction": "IN"}
    timer = {"type": "timerTrigger", "direction": "IN", "runOnStartup": False}
    return {
        "events": {
            "type": "serviceBusTrigger",
            "direction": "IN",
            "topicName": topic,
            "subscriptionName": subscription,
            "connection": connection,
            "isSessionsEnabled": True,  # one session per release: its messages one at a time, in order
        },
        "alerts": {**http, "route": "alerts", "methods": ["POST"], "authLevel": "FUNCTION"},
        "status": {**http, "route": "releases/{release}", "methods": ["GET"], "authLevel": "FUNCTION"},
        # behind App Service authentication (Entra ID), which a function key cannot stand for
        "overrides": {**http, "route": overrides_route, "methods": ["POST"], "authLevel": "ANONYMOUS"},
        # POST: the board's actions (v3 §19), as forms behind the same sign-in
        "board": {**http, "route": "board/{*path}", "methods": ["GET", "POST"], "authLevel": "ANONYMOUS"},
        "drift": timer,
        "notifications": timer,
        "judge": timer,
        "replication": timer,
        "migrate": timer,  # v3 §16: Azure Migrate's vault watcher
    }


def binding_problems(indexed: Mapping[str, list[dict]], expected: Mapping[str, dict]) -> list[str]:
    """What differs between the functions the worker indexed (name -> raw bindings) and `expected`."""
    problems = [f"{name}: not indexed" for name in expected if name not in indexed]
    problems += [f"{name}: indexed, but not expected" for name in indexed if name not in expected]
    for name, bindings in indexed.items():
        want = expected.get(name)
        if want is None:
            continue
        triggers = [b for b in bindings if str(b.get("type", "")).endswith("Trigger")]
        if len(triggers) != 1:
            problems.append(f"{name}: {len(triggers)} trigger bindings")
            continue
        trigger = triggers[0]
        for key, value in want.items():
            got = trigger.get(key)
            if key == "methods" and isinstance(got, list):
                got = sorted(str(m).upper() for m in got)
                value = sorted(value)
            if key in ("authLevel", "direction") and isinstance(got, str):
                got = got.upper()
            if got != value:
                problems.append(f"{name}: {key} is {got!r}, expected {value!r}")
        if trigger.get("type") == "timerTrigger" and not NCRONTAB.match(str(trigger.get("schedule", ""))):
            problems.append(f"{name}: schedule {trigger.get('schedule')!r} is not a six-field NCRONTAB expression")
        if trigger.get("type") == "httpTrigger" and not any(
            b.get("type") == "http" and str(b.get("direction", "")).upper() == "OUT" for b in bindings
        ):
            problems.append(f"{name}: an HTTP trigger without an http output binding")
    return problems


def route_pattern(template: str) -> re.Pattern[str]:
    """An ASP.NET-style route template ('releases/{release}', 'board/{*path}') as the host matches it."""
    pattern, segments = "", template.strip("/").split("/")
    for i, segment in enumerate(segments):
        m = re.fullmatch(r"\{(\*?)(\w+)(?::[^}]*)?\??\}", segment)
        if m and m[1]:  # a catch-all: the rest of the path, possibly empty
            pattern += f"(?:/(?P<{m[2]}>.*))?" if i else f"(?P<{m[2]}>.*)"
            break
        piece = f"(?P<{m[2]}>[^/]+)" if m else re.escape(segment)
        pattern += ("/" if i else "") + piece
    return re.compile(f"^{pattern}/?$", re.IGNORECASE)


def match_route(routes: Mapping[str, tuple[str, list[str]]], method: str, path: str) -> tuple[str, dict] | None:
    """(function, route parameters) for `METHOD /api/...`; routes: function -> (template, methods)."""
    prefix = f"/{ROUTE_PREFIX}/"
    if not path.startswith(prefix):
        return None
    for name, (template, methods) in routes.items():
        m = route_pattern(template).match(path[len(prefix) :])
        if m and method.upper() in {x.upper() for x in methods}:
            return name, {k: v or "" for k, v in m.groupdict().items()}
    return None


def servicebus_trigger_metadata(
    *,
    message_id: str,
    session_id: str | None,
    content_type: str | None,
    subject: str | None,
    application_properties: Mapping[str, Any],
    delivery_count: int,
    sequence_number: int,
    enqueued: str,
) -> dict[str, tuple[str, str]]:
    """What the Service Bus extension passes with one message (cardinality one), as (TypedData kind, value).
    `UserProperties` must be there: azure-functions tells a single message from a batch by it."""
    properties = json.dumps(dict(application_properties))
    metadata = {
        "MessageId": ("string", message_id),
        "DeliveryCount": ("json", str(delivery_count)),
        "SequenceNumber": ("json", str(sequence_number)),
        "EnqueuedTimeUtc": ("json", json.dumps(enqueued)),
        "UserProperties": ("json", properties),
        "ApplicationProperties": ("json", properties),
    }
    for key, value in (
        ("SessionId", session_id),
        ("ContentType", content_type),
        ("Label", subject),
        ("Subject", subject),
    ):
        if value:
            metadata[key] = ("string", value)
    return metadata


# -- setup: the worker environment ----------------------------------------------------------------------------
def app_requirements(text: str, without: Iterable[str]) -> str:
    """requirements.txt less the named packages' blocks (a pin line and its indented hashes and comments)."""
    drop, out, skipping = {n.lower() for n in without}, [], False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = re.split(r"[=<>!~\[ ;]", line, maxsplit=1)[0].lower() in drop
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


def find_runtime_python(environ: Mapping[str, str]) -> str | None:
    """A Python the runtime installs on (>= 3.13): WORKER_PYTHON, python3.14/python3.13 on PATH, or pyenv's."""
    sys.path.insert(0, str(TOOLS))
    from second_python import pyenv_root, version_of

    names = [environ.get("WORKER_PYTHON", "")]
    names += [shutil.which(f"python3.{minor}", path=environ.get("PATH")) or "" for minor in (14, 13)]
    root = pyenv_root(dict(environ))
    if root:
        names += [str(p) for p in sorted((root / "versions").glob("3.1[3-9]*/bin/python3"), reverse=True)]
    for name in filter(None, names):
        version = version_of(name)
        if version and tuple(int(x) for x in version.split(".")) >= RUNTIME_MIN:
            return name
    return None


def setup() -> int:
    python = find_runtime_python(os.environ)
    if python is None:
        print(
            "make worker needs Python 3.13 or later (azure-functions-runtime requires it): install one "
            "(e.g. pyenv install 3.13) or set WORKER_PYTHON=/path/to/python3.13",
            file=sys.stderr,
        )
        return 2
    inputs = [ROOT / "requirements.txt", WORKER_REQUIREMENTS, PROTOS_WHEEL, Path(__file__)]
    stamp = hashlib.sha256(python.encode() + b"".join(p.read_bytes() for p in inputs)).hexdigest()
    marker = VENV / ".installed"
    if marker.exists() and marker.read_text() == stamp:
        return 0
    print(f"worker environment: {VENV.relative_to(ROOT)} with {python}")
    subprocess.run([python, "-m", "venv", "--clear", str(VENV)], check=True)
    vpy = str(VENV / "bin" / "python")
    pip = [vpy, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # the app's locked packages, less azure-functions 1.x (Python < 3.13): the runtime brings 2.x
    app = VENV / "app-requirements.txt"
    app.write_text(app_requirements((ROOT / "requirements.txt").read_text(), ["azure-functions"]))
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(app), "-r", str(WORKER_REQUIREMENTS)], check=True)
    wheels = VENV / "wheels"
    subprocess.run(
        [
            *pip,
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--require-hashes",
            "-r",
            str(PROTOS_WHEEL),
            "-d",
            str(wheels),
        ],
        check=True,
    )
    [wheel] = wheels.glob("*.whl")
    purelib = subprocess.run(
        [vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = Path(purelib) / PROTOS_PACKAGE
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:  # only the generated modules, as a package of their own
        for member in archive.namelist():
            if member.startswith(PROTOS_IN_WHEEL) and member.endswith(".py"):
                path = target / member[len(PROTOS_IN_WHEEL) :]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(archive.read(member))
    subprocess.run([vpy, "-c", f"import {PROTOS_PACKAGE}, azure_functions_runtime, grpc"], check=True)
    marker.write_text(stamp)
    return 0


# -- run: the host ---------------------------------------------------------------------------------------------
class Failed(Exception):
    """The run found something not as expected."""


class Host:
    """One worker process on one EventStream, as the Functions host keeps it."""

    def __init__(self, protos, timeout: float):
        from concurrent.futures import ThreadPoolExecutor

        import grpc

        self.p, self.timeout = protos, timeout
        self.incoming: queue.Queue = queue.Queue()
        self.outgoing: queue.Queue = queue.Queue()
        self.worker_id, self.request_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.logs: list[Any] = []
        self.quiet = 0  # records of azure-core's HTTP logging policy: counted, not shown
        host = self

        class Servicer(protos.FunctionRpcServicer):
            def EventStream(self, request_iterator, context):  # noqa: N802 - gRPC's name
                def pump() -> None:
                    try:
                        for message in request_iterator:
                            host.incoming.put(message)
                    except Exception:  # the stream ended: the worker went away
                        pass
                    finally:
                        host.incoming.put(None)

                threading.Thread(target=pump, daemon=True).start()
                while (message := host.outgoing.get()) is not None:
                    yield message

        self.server = grpc.server(ThreadPoolExecutor(max_workers=4))
        protos.add_FunctionRpcServicer_to_server(Servicer(), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.process: subprocess.Popen | None = None

    def start_worker(self, env: dict[str, str], log: Path) -> None:
        worker = VENV / "bin" / "python"
        args = [str(worker), "-X", "no_debug_ranges", str(TOOLS / "worker_proxy.py"), "--host", "127.0.0.1"]
        args += ["--port", str(self.port), "--workerId", self.worker_id, "--requestId", self.request_id]
        args += ["--grpcMaxMessageLength", str(2**31 - 1)]
        print(f"   {' '.join(args[:4])} --port {self.port} --workerId {self.worker_id[:8]}... (cwd {ROOT})")
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def send(self, **content: Any) -> None:
        self.outgoing.put(self.p.StreamingMessage(request_id=self.request_id, **content))

    def expect(self, kind: str, match=lambda m: True) -> Any:
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            try:
                message = self.incoming.get(timeout=max(left, 0.01))
            except queue.Empty:
                raise Failed(f"no {kind} from the worker in {self.timeout:.0f}s") from None
            if message is None:
                raise Failed(f"the worker closed the stream before {kind}")
            got = message.WhichOneof("content")
            if got == "rpc_log":
                self._log(message.rpc_log)
            elif got == kind and match(getattr(message, kind)):
                return getattr(message, kind)
            else:
                print(f"  (unexpected {got} while waiting for {kind})")

    def _log(self, record) -> None:
        self.logs.append(record)
        if record.category.startswith("azure.core.pipeline.policies.http_logging_policy"):
            self.quiet += 1
            return
        level = self.p.RpcLog.Level.Name(record.level)
        where = "System" if record.log_category == self.p.RpcLog.System else "User"
        inv = f" inv={record.invocation_id[:8]}" if record.invocation_id else ""
        text = record.message if len(record.message) <= 200 else record.message[:200] + " ..."
        print(f"  [log {level}/{where} {record.category}{inv}] {text}")

    def stop(self) -> None:
        try:
            self.send(worker_terminate=self.p.WorkerTerminate(grace_period={"seconds": 1}))
        except Exception:
            pass
        self.outgoing.put(None)
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            print(f"worker: stopped (exit {self.process.returncode})")
        self.server.stop(grace=1)


def typed(p, kind: str, value: Any) -> Any:
    return p.TypedData(**{kind: value})


class Run:
    """The scenario on a fresh Azurite: what Azure's host would do with promote's functions."""

    RELEASE = "worker-run"
    USER = "ops@contoso.com"

    def __init__(self, host: Host, p, stack, function_key: str):
        self.host, self.p, self.stack, self.key = host, p, stack, function_key
        self.functions: dict[str, Any] = {}  # name -> RpcFunctionMetadata
        self.invocations = 0

    # the protocol steps -----------------------------------------------------------------------------------
    def init_and_index(self) -> None:
        p, h = self.p, self.host
        start = h.expect("start_stream")
        print(f"== StartStream: worker_id matches: {start.worker_id == h.worker_id}")
        if start.worker_id != h.worker_id:
            raise Failed("StartStream names another worker")
        h.send(
            worker_init_request=p.WorkerInitRequest(
                host_version="4.0.0-promote-worker-host",
                capabilities={"RpcHttpBodyOnly": "true", "TypedDataCollection": "true"},
                worker_directory=str(TOOLS),
                function_app_directory=str(ROOT),
            )
        )
        init = h.expect("worker_init_response")
        meta = init.worker_metadata
        print(
            f"== WorkerInitResponse: {p.StatusResult.Status.Name(init.result.status)}; runtime {meta.runtime_name} "
            f"{meta.runtime_version}, azure-functions-runtime {meta.worker_version}; "
            f"capabilities {', '.join(sorted(init.capabilities))}"
        )
        self._ok(init.result, "WorkerInitRequest (the runtime imports and indexes function_app.py)")
        h.send(functions_metadata_request=p.FunctionsMetadataRequest(function_app_directory=str(ROOT)))
        response = h.expect("function_metadata_response")
        self._ok(response.result, "FunctionsMetadataRequest")
        print(f"== FunctionMetadataResponse: {len(response.function_metadata_results)} functions indexed")
        indexed: dict[str, list[dict]] = {}
        for f in response.function_metadata_results:
            self.functions[f.name] = f
            indexed[f.name] = [json.loads(raw) for raw in f.raw_bindings]
            print(f"- {f.name}  (id {f.function_id}, entry point {f.entry_point}, {f.script_file})")
            for b in indexed[f.name]:
                shown = {k: v for k, v in b.items() if k not in ("type", "direction", "name")}
                print(f"    {b.get('direction', '').lower():3} {b.get('type')} {b.get('name')!r} {json.dumps(shown)}")
        problems = binding_problems(indexed, self.expected())
        print(f"== bindings as Azure must see them: {'all as expected' if not problems else problems}")
        if problems:
            raise Failed("; ".join(problems))
        for f in response.function_metadata_results:
            h.send(function_load_request=p.FunctionLoadRequest(function_id=f.function_id, metadata=f))
            self._ok(h.expect("function_load_response", lambda r, i=f.function_id: r.function_id == i).result, f.name)
        print(f"== FunctionLoadRequest x{len(self.functions)}: all Success")
        began = time.monotonic()
        h.send(worker_status_request=p.WorkerStatusRequest())
        h.expect("worker_status_response")
        print(f"== WorkerStatusRequest answered in {1000 * (time.monotonic() - began):.1f} ms")

    def expected(self) -> dict[str, dict]:
        from shared.application import config

        expected = expected_functions(
            config.TOPIC, config.SUBSCRIPTION, config.SERVICEBUS_CONNECTION, config.OVERRIDES_ROUTE
        )
        infra = (ROOT / "infra" / "modules" / "servicebus.bicep").read_text()
        for name in (config.TOPIC, config.SUBSCRIPTION):  # what infra creates is what the trigger listens to
            if f"'{name}'" not in infra and f"= '{name}'" not in infra:
                raise Failed(f"infra/modules/servicebus.bicep does not create {name!r}")
        for name in ("drift", "judge", "replication", "migrate"):
            expected[name] = {**expected[name], "schedule": importlib.import_module(f"functions.{name}").SCHEDULE}
        expected["notifications"] = {**expected["notifications"], "schedule": config.NOTIFY_SCHEDULE}
        return expected

    def invoke(self, name: str, inputs: dict[str, Any], metadata: dict[str, Any]) -> Any:
        p, f = self.p, self.functions[name]
        invocation_id = str(uuid.uuid4())
        self.host.send(
            invocation_request=p.InvocationRequest(
                invocation_id=invocation_id,
                function_id=f.function_id,
                input_data=[p.ParameterBinding(name=k, data=v) for k, v in inputs.items()],
                trigger_metadata=metadata,
            )
        )
        response = self.host.expect("invocation_response", lambda r: r.invocation_id == invocation_id)
        self.invocations += 1
        status = p.StatusResult.Status.Name(response.result.status)
        print(
            f"   -> InvocationResponse {status}"
            + (f": {response.result.exception.message}" if status != "Success" else "")
        )
        self._ok(response.result, f"invocation of {name}")
        return response

    def trigger_name(self, name: str) -> str:
        return next(
            json.loads(b)["name"] for b in self.functions[name].raw_bindings if "Trigger" in json.loads(b)["type"]
        )

    def sys_metadata(self, method: str) -> Any:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return typed(self.p, "json", json.dumps({"MethodName": method, "UtcNow": now, "RandGuid": str(uuid.uuid4())}))

    def http(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, dict, bytes]:
        """One HTTP request as the host routes it: route match, function-level auth, RpcHttp in, RpcHttp out."""
        p = self.p
        routes = {
            name: (b["route"], b["methods"])
            for name, f in self.functions.items()
            for b in map(json.loads, f.raw_bindings)
            if b["type"] == "httpTrigger"
        }
        headers = {"host": "127.0.0.1:7071", **{k.lower(): v for k, v in (headers or {}).items()}}
        path, _, query = path.partition("?")
        matched = match_route(routes, method, path)
        if matched is None:
            raise Failed(f"no function routes {method} {path}")
        name, params = matched
        level = next(
            json.loads(b).get("authLevel") for b in self.functions[name].raw_bindings if "route" in json.loads(b)
        )
        print(f"-- {method} {path}: function {name} (route {routes[name][0]!r}, params {params}, authLevel {level})")
        if str(level).upper() == "FUNCTION" and headers.get("x-functions-key") != self.key:
            print("   -> 401 from the host (no function key): the worker is not called")
            return 401, {}, b""
        request = p.RpcHttp(
            method=method,
            url=f"http://127.0.0.1:7071{path}" + (f"?{query}" if query else ""),
            headers=headers,
            query=dict(x.split("=", 1) for x in query.split("&") if "=" in x),
            params=params,
            body=typed(p, "bytes", body),
        )
        metadata = {k: typed(p, "string", v) for k, v in params.items()}
        metadata["sys"] = self.sys_metadata(name)
        response = self.invoke(name, {self.trigger_name(name): typed(p, "http", request)}, metadata)
        out = response.return_value.http
        content = out.body.bytes if out.body.WhichOneof("data") == "bytes" else out.body.string.encode()
        status = int(out.status_code or 200)
        shown = content[:160].decode(errors="replace").replace("\n", " ")
        print(f"   -> HTTP {status} {dict(out.headers)} {shown}{' ...' if len(content) > 160 else ''}")
        return status, dict(out.headers), content

    def servicebus(self, event: dict, sequence: int) -> None:
        """One message on the topic, as the Service Bus extension hands it to `events` (promote's own message
        for it: shared/adapters/servicebus.build_message)."""
        from shared.adapters.servicebus import build_message

        p, message = self.p, build_message(event)
        body = str(message)
        metadata = {
            k: typed(p, kind, v)
            for k, (kind, v) in servicebus_trigger_metadata(
                message_id=message.message_id,
                session_id=message.session_id,
                content_type=message.content_type,
                subject=message.subject,
                application_properties={str(k): str(v) for k, v in (message.application_properties or {}).items()},
                delivery_count=1,
                sequence_number=sequence,
                enqueued=time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime()),
            ).items()
        }
        metadata["sys"] = self.sys_metadata("events")
        trigger = self.expected()["events"]
        print(
            f"-- Service Bus message {message.message_id} ({event['type']}) on {trigger['topicName']}/"
            f"{trigger['subscriptionName']}, session {message.session_id}, body as TypedData.string"
        )
        self.invoke("events", {self.trigger_name("events"): typed(p, "string", body)}, metadata)

    def timer(self, name: str) -> None:
        p = self.p
        print(f"-- timer {name}")
        status = {"Schedule": {"AdjustForDST": True}, "ScheduleStatus": None, "IsPastDue": False}
        self.invoke(
            name, {self.trigger_name(name): typed(p, "json", json.dumps(status))}, {"sys": self.sys_metadata(name)}
        )

    def _ok(self, result, what: str) -> None:
        if result.status != self.p.StatusResult.Success:
            raise Failed(f"{what}: {result.exception.message}\n{result.exception.stack_trace}")

    # the scenario --------------------------------------------------------------------------------------------
    def scenario(self) -> None:
        from shared.application import config
        from shared.application.override_proof import PROOF_ATTRIBUTE
        from shared.domain.plan import validate_plan

        s, r = self.stack, self.RELEASE
        plan = {"release": r, "model": "single-step", "approvers": ["ana@contoso.com"], "operators": [self.USER]}
        s.service.apply(validate_plan({**plan, "workloads": [{"name": "web", "assets": ["vm-web-01"]}]}))
        print(f"\n== invocations (release {r!r} applied on Azurite)")
        assert_(self.http("GET", f"/api/releases/{r}")[0] == 401, "the status route without a key")
        status, _, body = self.http("GET", f"/api/releases/{r}", headers={"x-functions-key": self.key})
        assert_(status == 200 and json.loads(body)["release"] == r, "the status route's answer")
        self.servicebus(event_doc("asset-replicated", r, "web", asset="vm-web-01"), 1)
        [entry] = s.store.list_history(r, "web")
        assert_(entry.outcome == "applied", f"the events message's outcome ({entry.outcome}: {entry.reason})")
        signed_in = principal_header(self.USER)
        override = {"release": r, "workload": "web", "action": "pause", "reason": "worker run", "id": "wr-override-1"}
        status, headers, body = self.http(
            "POST",
            f"/api/{config.OVERRIDES_ROUTE}",
            headers={
                "content-type": "application/json",
                "origin": "http://127.0.0.1:7071",
                "x-ms-client-principal": signed_in,
            },
            body=json.dumps(override).encode(),
        )
        doc = json.loads(body)
        assert_(
            status == 202 and doc["id"] == "wr-override-1" and doc["status_url"].endswith(f"/api/releases/{r}"), "202"
        )
        assert_(len(s.store.list_history(r, "web")) == 1, "nothing decided inside the HTTP call")
        queued = self.take_queued()
        assert_(PROOF_ATTRIBUTE in queued and queued["data"]["actor"] == self.USER, "the queued override's proof")
        self.servicebus(queued, 2)
        entries = s.store.list_history(r, "web")
        last = entries[-1]
        print(f"   history: {last.outcome} by {last.actor}: {last.reason}")
        assert_((last.outcome, last.actor) == ("applied", self.USER), "the override, decided as the signed-in user")
        assert_(s.store.get_release(r).release.workloads["web"].paused, "the workload paused")
        status, headers, body = self.http(
            "GET", f"/api/board/releases/{r}", headers={"x-ms-client-principal": signed_in, "accept": "text/html"}
        )
        assert_(status == 200 and r.encode() in body, "the board page")
        for name in ("drift", "notifications", "judge", "replication", "migrate"):
            self.timer(name)

    def take_queued(self) -> dict:
        """The override the endpoint queued (locally the events topic is promote's Azurite queue)."""
        from shared.application import config

        client = self.stack.queue(config.LOCAL_QUEUE)
        messages = list(client.receive_messages(max_messages=32))
        assert_(len(messages) == 1, f"one message queued, found {len(messages)}")
        client.delete_message(messages[0])
        doc = json.loads(messages[0].content)
        attributes = sorted(k for k in doc if k != "data")
        print(f"   queued for the release's session: {doc['type']} {doc['id']}, attributes {attributes}")
        return doc


CHECKED: list[str] = []


def assert_(condition: bool, what: str) -> None:
    if not condition:
        raise Failed(f"not as expected: {what}")
    CHECKED.append(what)


def event_doc(type_: str, release: str, workload: str, **data: Any) -> dict:
    return {
        "specversion": "1.0",
        "id": f"wr-{type_}-{uuid.uuid4().hex[:8]}",
        "source": "worker-run",
        "type": type_,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "datacontenttype": "application/json",
        "data": {"release": release, "workload": workload, **data},
    }


def principal_header(upn: str) -> str:
    """X-MS-CLIENT-PRINCIPAL as App Service authentication sets it for a signed-in Entra ID user."""
    import base64

    claims = [{"typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "val": upn}]
    doc = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": "roles"}
    return base64.b64encode(json.dumps(doc).encode()).decode()


def worker_env(settings: dict[str, str]) -> dict[str, str]:
    """The app settings as the worker's environment. Nothing of this machine's that would make the runtime
    think it runs on Azure (CONTAINER_NAME, WEBSITE_*) or change its imports (PYTHON*, VIRTUAL_ENV)."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if not re.match(r"^(CONTAINER_NAME|WEBSITE_|PYTHON|VIRTUAL_ENV|PROMOTE_)", k)
    }
    return {
        **keep,
        "AzureWebJobsScriptRoot": str(ROOT),
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "FUNCTIONS_WORKER_RUNTIME_VERSION": f"{sys.version_info[0]}.{sys.version_info[1]}",
        **settings,
    }


def run(timeout: float) -> int:
    if sys.prefix != str(VENV) and Path(sys.prefix).resolve() != VENV.resolve():
        print(f"run this with {VENV / 'bin' / 'python'} (make worker)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    import functionrpc as p

    from shared.application.bootstrap import Stack
    from shared.application.config import load_settings
    from shared.local.azurite import start

    began = time.monotonic()
    azurite = start()
    home = Path(tempfile.mkdtemp(prefix="promote-worker-"))
    settings = {
        "PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string,
        "PROMOTE_HOME": str(home),
        "WEBSITE_AUTH_ENABLED": "True",  # App Service sets it with authentication on (Entra ID in front)
        "PROMOTE_OVERRIDE_KEY": secrets.token_urlsafe(48),  # Key Vault's on Azure
    }
    host = Host(p, timeout)
    print(f"host: gRPC FunctionRpc server on 127.0.0.1:{host.port}; Azurite on {azurite.ports}")
    log = home / "worker.log"
    code = 1
    try:
        host.start_worker(worker_env(settings), log)
        run = Run(host, p, Stack(load_settings(settings)), secrets.token_urlsafe(24))
        run.init_and_index()
        run.scenario()
        print(
            f"\nworker run: {len(run.functions)} functions indexed as Azure must bind them, {run.invocations} "
            f"invocations, all as expected ({host.quiet} azure-core HTTP log records not shown; "
            f"{time.monotonic() - began:.1f}s)"
        )
        print(f"{len(CHECKED) + run.invocations} passed, 0 failed")  # each check, and each invocation's Success
        code = 0
    except Failed as exc:
        print(f"\nworker run FAILED: {exc}", file=sys.stderr)
        if log.exists():
            print(
                "worker output (last lines):\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]),
                file=sys.stderr,
            )
    finally:
        host.stop()
        azurite.stop()
        shutil.rmtree(home, ignore_errors=True)
    return code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["setup", "run"])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each answer of the worker")
    options = parser.parse_args()
    if options.command == "setup":
        sys.exit(setup())
    sys.exit(run(options.timeout))
