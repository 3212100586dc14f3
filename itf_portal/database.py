"""The address of the database a connection is using, for a process of our own that must work on
the same one (a task worker started by a test or a benchmark against its throwaway database)."""

from urllib.parse import quote


def database_url(connection) -> str:
    params = connection.get_connection_params()
    user = quote(params.get("user") or "")
    password = quote(params.get("password") or "")
    host = quote(params.get("host") or "localhost", safe="")
    port = f":{params['port']}" if params.get("port") else ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{host}{port}/{connection.settings_dict['NAME']}"
