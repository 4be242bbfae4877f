"""The base of the local stand-ins that speak an outside service's HTTP protocol in the tests
(WeChat's APIs): JSON answers, no request log."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class JsonStandIn(BaseHTTPRequestHandler):
    def reply(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass
