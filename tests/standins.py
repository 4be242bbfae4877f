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


class FakeAmap(JsonStandIn):
    """AMap's geocoding web service (GET /v3/geocode/geo): the key `k-test`; addresses with
    淮海中路 are found (GCJ-02, as AMap answers), others not; any other key is refused as AMap
    refuses it (status 0, INVALID_USER_KEY)."""

    PLACE = {"formatted_address": "上海市黄浦区淮海中路1号", "location": "121.474500,31.218100"}

    def do_GET(self):  # noqa: N802
        from urllib.parse import parse_qs, urlparse

        url = urlparse(self.path)
        query = parse_qs(url.query)
        if url.path != "/v3/geocode/geo":
            return self.reply({"status": "0", "info": "INVALID_REQUEST", "infocode": "20000"})
        if query.get("key") != ["k-test"]:
            return self.reply({"status": "0", "info": "INVALID_USER_KEY", "infocode": "10001"})
        found = [self.PLACE] if "淮海中路" in query.get("address", [""])[0] else []
        self.reply({"status": "1", "info": "OK", "count": str(len(found)), "geocodes": found})
