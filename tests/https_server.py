"""The one way the local stand-ins for Azure (Resource Manager, Monitor, Site Recovery, Compute) are served:
HTTPS on 127.0.0.1, a free port, a thread. HTTPS because the SDKs refuse to send a bearer token over plain
HTTP (azure-core's `enforce_https`): a stand-in must not need that check turned off."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class HttpsServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], cert: Path, key: Path):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
