"""The HTTP face: the Starlette app, admin auth, the status page, metrics, the server."""
