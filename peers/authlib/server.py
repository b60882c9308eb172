#!/usr/bin/env python3
"""An RFC 7523 JWT-bearer token endpoint built on Authlib, for gapi's
service-account interop tests (runtime/tests/auth_s2s_authlib.rs).

Authlib's ``JWTBearerGrant`` verifies the assertion: RS256 signature against
the service account's public key, issuer, audience (this endpoint's URL),
expiry (with Authlib's 60 s leeway), and here also the ``scope`` claim and a
lifetime of at most one hour, as Google's endpoint does. A valid assertion
gets a bearer token; anything else gets an OAuth 2.0 error (``invalid_grant``).

    server.py --public-key key.pub.pem --issuer sa@p.iam.gserviceaccount.com \
        --scopes "scope-a scope-b" [--subject user@example.com]

Listens on 127.0.0.1, port 0, and prints ``PORT <n>`` once it serves. Exits
when its standard input closes (the test that started it is gone).
"""

import argparse
import os
import sys
import threading

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerGrant
from flask import Flask
from werkzeug.serving import make_server

JWT_BEARER = JWTBearerGrant.GRANT_TYPE


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--public-key", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--scopes", required=True, help="space-separated allowed scopes")
    p.add_argument("--subject", action="append", default=[], help="users the account may act as")
    args = p.parse_args()

    with open(args.public_key, "rb") as f:
        public_key = f.read()
    allowed_scopes = set(args.scopes.split())
    server_url = {}  # filled once the port is known

    class ServiceAccount(ClientMixin):
        def get_client_id(self):
            return args.issuer

        def get_default_redirect_uri(self):
            return None

        def get_allowed_scope(self, scope):
            return scope

        def check_redirect_uri(self, redirect_uri):
            return False

        def check_client_secret(self, client_secret):
            return False

        def check_endpoint_auth_method(self, method, endpoint):
            return True

        def check_response_type(self, response_type):
            return False

        def check_grant_type(self, grant_type):
            return grant_type == JWT_BEARER

    account = ServiceAccount()

    def scopes_allowed(claims, value):
        return isinstance(value, str) and bool(value.split()) and set(value.split()) <= allowed_scopes

    def lifetime_ok(claims, value):
        iat = claims.get("iat")
        return isinstance(iat, int) and isinstance(value, int) and 0 < value - iat <= 3600

    class GoogleLikeJWTBearerGrant(JWTBearerGrant):
        @property
        def CLAIMS_OPTIONS(self):
            return {
                "iss": {"essential": True, "value": args.issuer},
                "aud": {"essential": True, "value": server_url["token"]},
                "exp": {"essential": True, "validate": lifetime_ok},
                "iat": {"essential": True},
                "scope": {"essential": True, "validate": scopes_allowed},
            }

        def resolve_issuer_client(self, issuer):
            if issuer != args.issuer:
                raise InvalidClientError(description="unknown issuer")
            return account

        def resolve_client_key(self, client, headers, payload):
            return public_key

        def authenticate_user(self, subject):
            return subject if subject in args.subject else None

        def has_granted_permission(self, client, user):
            return True

    app = Flask("gapi-authlib-peer")
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {JWT_BEARER: 3600}
    issued = []

    def save_token(token, request):
        issued.append(token)

    auth = AuthorizationServer(app, query_client=lambda cid: account if cid == args.issuer else None,
                               save_token=save_token)
    auth.register_grant(GoogleLikeJWTBearerGrant)

    @app.route("/token", methods=["POST"])
    def token():
        return auth.create_token_response()

    @app.route("/issued", methods=["GET"])
    def issued_count():
        return {"issued": len(issued)}

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    port = srv.server_port
    server_url["token"] = f"http://127.0.0.1:{port}/token"

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"PORT {port}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
