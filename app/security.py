"""Security headers on every response: what a browser may load, frame, sniff and remember for this site."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response

HSTS = "max-age=31536000; includeSubDomains"
# The style attributes Plotly's heatmaps set from script, which no stylesheet can stand in for: an empty one on
# the colour bar's fills, and crisp cells on the heatmap's image (without it, browsers blur the cells together).
PLOTLY_STYLE_ATTRIBUTES = (
    "",
    "image-rendering: optimizeSpeed; image-rendering: -moz-crisp-edges; image-rendering: -o-crisp-edges; "
    "image-rendering: -webkit-optimize-contrast; image-rendering: optimize-contrast; image-rendering: crisp-edges; "
    "image-rendering: pixelated; ",
)


def _hash_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def content_security_policy(store_origin: str | None = None) -> str:
    """The Content-Security-Policy: scripts, styles and requests of this origin only, never inline script.

    store_origin is the S3 store the submit page PUTs files to through presigned URLs, when there is one.
    """
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        # Plotly's own rules come from a stylesheet (templates/_charts.html): no <style> element anywhere,
        # and no style attribute but the exact ones Plotly's heatmaps need.
        "style-src": "'self'",
        "style-src-attr": " ".join(["'unsafe-hashes'", *map(_hash_source, PLOTLY_STYLE_ATTRIBUTES)]),
        # Bootstrap's icons are data: SVGs in its stylesheet; Plotly draws heatmaps as data: PNGs.
        "img-src": "'self' data:",
        "connect-src": " ".join(filter(None, ("'self'", store_origin))),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def store_origin(storage_url: str, endpoint_url: str | None, public_endpoint_url: str | None) -> str | None:
    """The origin browsers send direct uploads to: the S3 store as presigned URLs name it, or None off S3."""
    url = urlsplit(storage_url)
    if url.scheme != "s3":
        return None
    import boto3
    from botocore.config import Config as BotoConfig

    # The store's host comes from boto3's own addressing rules (path or virtual-host style, region),
    # asked with placeholder keys: presigning is local, so nothing is sent and no secret is needed.
    client = boto3.client(
        "s3",
        endpoint_url=public_endpoint_url or endpoint_url,
        aws_access_key_id="placeholder",
        aws_secret_access_key="placeholder",
        config=BotoConfig(signature_version="s3v4"),
    )
    presigned = urlsplit(client.generate_presigned_url("put_object", Params={"Bucket": url.netloc, "Key": "x"}))
    return f"{presigned.scheme}://{presigned.netloc}"


def security_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """The headers every response carries under this configuration; HSTS only in production."""
    origin = store_origin(config["STORAGE_URL"], config.get("S3_ENDPOINT_URL"), config.get("S3_PUBLIC_ENDPOINT_URL"))
    headers = {
        "Content-Security-Policy": content_security_policy(origin),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    # Development serves plain http: a browser told to insist on https would lock itself out of it.
    if config.get("PRODUCTION"):
        headers["Strict-Transport-Security"] = HSTS
    return headers


def register(app: Flask) -> None:
    """Add the security headers to every response of the app, error pages and API answers included."""
    headers = security_headers(app.config)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
