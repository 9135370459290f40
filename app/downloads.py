"""Delivering stored files to browsers and clients."""

from flask import redirect, send_file
from werkzeug.wrappers import Response

from app.services.storage import get_storage


def send_stored(key: str, name: str, sha256: str) -> Response:
    """Stream a stored file (with HTTP ranges), or redirect to a short-lived storage URL."""
    storage = get_storage()
    url = storage.download_url(key, filename=name)
    if url is not None:
        return redirect(url, code=302)
    response = send_file(storage.local_path(key), download_name=name, as_attachment=True, conditional=True)
    response.headers["X-Content-SHA256"] = sha256
    return response
