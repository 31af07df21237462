"""The worker process of `make worker`: Azure Functions' Python runtime behind a gRPC FunctionRpc client.

On Azure, the Functions host starts a Python worker and speaks FunctionRpc with it over one gRPC EventStream.
For Python 3.13 and later that worker is two parts: a small "proxy worker" that holds the gRPC stream, and the
`azure-functions-runtime` library (the v2 programming model), whose request handlers do all the work: import
and index function_app.py, decode each trigger's data, call the function, encode its result. The proxy
worker ships only inside the Functions host and Core Tools, not on PyPI; `azure-functions-runtime` is on
PyPI. So this module is our own stand-in for the proxy part, nothing more: it connects to the host, sends
StartStream, hands each request to the runtime's handler coroutines (`worker_init_request`,
`functions_metadata_request`, `function_load_request`, `invocation_request`,
`function_environment_reload_request`, with `properties={"protos": ..., "host": ...}` as the proxy does),
sends their responses back, answers WorkerStatusRequest, and forwards log records as RpcLog.

Run by tools/worker_host.py with the worker environment's Python (.venv/worker, Python >= 3.13):

    python tools/worker_proxy.py --host 127.0.0.1 --port P --workerId W --requestId R --grpcMaxMessageLength N
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import queue
import sys
import threading
import traceback
from typing import Any

# Loggers whose records the host files as System logs (the worker's own); everything else is the app's (User).
SYSTEM_LOGGERS = ("azure.functions", "azure_functions_runtime", "promote.worker")
LEVELS = (
    (logging.CRITICAL, "Critical"),
    (logging.ERROR, "Error"),
    (logging.WARNING, "Warning"),
    (logging.INFO, "Information"),
)
log = logging.getLogger("promote.worker")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments the Functions host passes (both spellings it has used)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workerId", "--functions-worker-id", dest="worker_id", required=True)
    parser.add_argument("--requestId", "--functions-request-id", dest="request_id", required=True)
    parser.add_argument(
        "--grpcMaxMessageLength", "--functions-grpc-max-message-length", dest="max_length", type=int, default=2**31 - 1
    )
    parser.add_argument("--functions-uri", dest="uri", default=None)
    return parser.parse_args(argv)


class WorkerRequest:
    """What the runtime's handlers take: the request's name, the StreamingMessage, and the proxy's properties."""

    def __init__(self, name: str, request: Any, properties: dict[str, Any]):
        self.name, self.request, self.properties = name, request, properties


class RpcLogHandler(logging.Handler):
    """Sends log records to the host as RpcLog, tagged with the invocation they belong to."""

    def __init__(self, send, protos, request_id: str):
        super().__init__()
        self.send, self.protos, self.request_id = send, protos, request_id

    def emit(self, record: logging.LogRecord) -> None:
        from azure_functions_runtime import invocation_id_cv

        try:
            p = self.protos
            level = next((name for threshold, name in LEVELS if record.levelno >= threshold), "Debug")
            system = record.name.startswith(SYSTEM_LOGGERS)
            rpc_log = p.RpcLog(
                invocation_id=invocation_id_cv.get() or "",
                category=record.name,
                level=getattr(p.RpcLog, level),
                message=record.getMessage(),
                log_category=p.RpcLog.System if system else p.RpcLog.User,
            )
            if record.exc_info and record.exc_info[1] is not None:
                rpc_log.exception.message = f"{type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
                rpc_log.exception.stack_trace = "".join(traceback.format_exception(*record.exc_info))
            self.send(p.StreamingMessage(request_id=self.request_id, rpc_log=rpc_log))
        except Exception:  # a log record never breaks the worker
            self.handleError(record)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import azure_functions_runtime as runtime
    import functionrpc as protos  # FunctionRpc's generated modules, from a PyPI wheel (tools/worker_host.py setup)
    import grpc

    outgoing: queue.Queue = queue.Queue()
    send = outgoing.put

    def stream():
        yield protos.StreamingMessage(
            request_id=args.request_id, start_stream=protos.StartStream(worker_id=args.worker_id)
        )
        while (message := outgoing.get()) is not None:
            yield message

    options = [("grpc.max_send_message_length", args.max_length), ("grpc.max_receive_message_length", args.max_length)]
    channel = grpc.insecure_channel(f"{args.host}:{args.port}", options=options)
    replies = protos.FunctionRpcStub(channel).EventStream(stream())
    root = logging.getLogger()
    root.addHandler(RpcLogHandler(send, protos, args.request_id))
    root.setLevel(logging.INFO)  # the level the Functions host's default worker logging passes on
    loop = asyncio.new_event_loop()
    handlers = {
        "worker_init_request": ("worker_init_response", runtime.worker_init_request),
        "functions_metadata_request": ("function_metadata_response", runtime.functions_metadata_request),
        "function_load_request": ("function_load_response", runtime.function_load_request),
        "invocation_request": ("invocation_response", runtime.invocation_request),
        "function_environment_reload_request": (
            "function_environment_reload_response",
            runtime.function_environment_reload_request,
        ),
    }

    async def handle(kind: str, message: Any) -> None:
        reply_field, handler = handlers[kind]
        if kind == "invocation_request":  # the invocation's logs carry its id (a task has its own context)
            runtime.invocation_id_cv.set(message.invocation_request.invocation_id)
        try:
            response = await handler(WorkerRequest(kind, message, {"protos": protos, "host": args.host}))
        except Exception as exc:  # the runtime answers failures itself; this is for its own bugs
            log.exception("%s failed in the runtime", kind)
            if kind != "invocation_request":
                raise
            response = protos.InvocationResponse(
                invocation_id=message.invocation_request.invocation_id,
                result=protos.StatusResult(
                    status=protos.StatusResult.Failure,
                    exception=protos.RpcException(message=f"{type(exc).__name__}: {exc}"),
                ),
            )
        send(protos.StreamingMessage(request_id=message.request_id, **{reply_field: response}))

    def dispatch(message: Any) -> None:
        kind = message.WhichOneof("content")
        if kind == "worker_status_request":
            send(
                protos.StreamingMessage(
                    request_id=message.request_id, worker_status_response=protos.WorkerStatusResponse()
                )
            )
        elif kind == "worker_terminate":
            log.info("WorkerTerminate: stopping")
            loop.stop()
        elif kind in handlers:
            if kind == "worker_init_request":  # the app's directory is importable, as the worker makes it
                directory = message.worker_init_request.function_app_directory
                if directory and directory not in sys.path:
                    sys.path.insert(0, directory)
            loop.create_task(handle(kind, message))
        else:
            log.warning("no handler for %s", kind)

    def read() -> None:
        try:
            for message in replies:
                loop.call_soon_threadsafe(dispatch, message)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                print(f"worker: the stream ended: {exc.code()}", file=sys.stderr)
        finally:
            loop.call_soon_threadsafe(loop.stop)

    runtime.start_threadpool_executor()
    threading.Thread(target=read, name="rpc-reader", daemon=True).start()
    try:
        loop.run_forever()
    finally:
        root.handlers = [h for h in root.handlers if not isinstance(h, RpcLogHandler)]
        outgoing.put(None)
        runtime.stop_threadpool_executor()
        channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
