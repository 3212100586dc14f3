"""A PostgreSQL backend that starts the embedded server on the first connection.

Commands that never touch the database (collectstatic, check) then never start a server.
"""

from urllib.parse import parse_qs, urlsplit

from django.db.backends.postgresql import base

from itf_portal import pgembed


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        uri = urlsplit(pgembed.attach())
        params["host"] = parse_qs(uri.query)["host"][0]
        return params
