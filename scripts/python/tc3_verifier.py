#!/usr/bin/env python3
"""An independent TC3-HMAC-SHA256 verifier: a tiny HTTP server on 127.0.0.1.

It rebuilds the canonical request from what arrives on the wire, following
Tencent Cloud's published algorithm, and computes the signature with the
official Python SDK's `Sign.sign_tc3` -- no code shared with our Rust signer.
A request that verifies gets a success envelope; one that does not gets
AuthFailure.SignatureFailure, as the real gateway answers.

Usage: tc3_verifier.py SECRET_ID SECRET_KEY
Prints `port N` once listening, then one line per request:
`request ACTION ok|CODE SIGNED_HEADERS`. Stops after 100 requests or 120 s.
"""
import hashlib
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

from tencentcloud.common.sign import Sign

SECRET_ID, SECRET_KEY = sys.argv[1], sys.argv[2]
MAX_REQUESTS = 100


def envelope(**fields):
    fields["RequestId"] = str(uuid.uuid4())
    return json.dumps({"Response": fields}).encode()


def check(handler, body):
    auth = handler.headers.get("Authorization", "")
    prefix = "TC3-HMAC-SHA256 "
    if not auth.startswith(prefix):
        return "AuthFailure.InvalidAuthorization", "not TC3-HMAC-SHA256"
    parts = dict(p.strip().split("=", 1) for p in auth[len(prefix):].split(","))
    secret_id, date, service, terminator = parts["Credential"].split("/")
    if secret_id != SECRET_ID:
        return "AuthFailure.SecretIdNotFound", "unknown secret id"
    signed_headers = parts["SignedHeaders"]
    timestamp = int(handler.headers["X-TC-Timestamp"])
    if time.strftime("%Y-%m-%d", time.gmtime(timestamp)) != date or terminator != "tc3_request":
        return "AuthFailure.SignatureFailure", "credential scope does not match the timestamp"
    # The published algorithm: each signed header as `name:value`, the value
    # trimmed and lower-cased (`x-tc-action:describeinstances`).
    canonical_headers = "".join(
        f"{name}:{handler.headers[name].strip().lower()}\n" for name in signed_headers.split(";")
    )
    path, _, query = handler.path.partition("?")
    canonical_request = "\n".join([
        handler.command, "/", query if handler.command == "GET" else "",
        canonical_headers, signed_headers, hashlib.sha256(body).hexdigest(),
    ])
    string_to_sign = "\n".join([
        "TC3-HMAC-SHA256", str(timestamp), f"{date}/{service}/tc3_request",
        hashlib.sha256(canonical_request.encode()).hexdigest(),
    ])
    if Sign.sign_tc3(SECRET_KEY, date, service, string_to_sign) != parts["Signature"]:
        return "AuthFailure.SignatureFailure", "signature does not match"
    return None, None


def signed_headers_of(authorization):
    for part in authorization.split(","):
        name, _, value = part.strip().partition("=")
        if name == "SignedHeaders":
            return value
    return "-"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            code, message = check(self, body)
        except Exception as e:  # a malformed request is an answer too
            code, message = "AuthFailure.InvalidAuthorization", f"cannot parse: {e}"
        action = self.headers.get("X-TC-Action", "?")
        signed = signed_headers_of(self.headers.get("Authorization", ""))
        print(f"request {action} {'ok' if code is None else code} {signed}", flush=True)
        reply = envelope() if code is None else envelope(Error={"Code": code, "Message": message})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST

    def log_message(self, *args):
        pass


def main():
    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    threading.Timer(120, server.shutdown).start()
    for _ in range(MAX_REQUESTS):
        server.handle_request()


if __name__ == "__main__":
    main()
