"""Acme's SMS gateway over HTTP: one JSON POST per message, standard library only."""

from __future__ import annotations

import json
from urllib.error import HTTPError, URLError
from urllib.request import HTTPRedirectHandler, Request, build_opener

from civicgrid.plugins.manager import plugin_setting

DEFAULT_TIMEOUT = 5.0  # seconds: a slow gateway must not hold up the outbox relay for long


class GatewayError(Exception):
    """The gateway refused the message or could not be reached."""


class _NoRedirects(HTTPRedirectHandler):
    # urllib would follow a redirect of a POST as a GET and report success.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = build_opener(_NoRedirects)


def send_sms(*, to: str, text: str, reference: str) -> str:
    """Send one message; return the gateway's id for it (empty if it gave none)."""
    endpoint = plugin_setting("ACME_SMS_ENDPOINT") or ""
    if not endpoint.startswith(("http://", "https://")):
        raise GatewayError("ACME_SMS_ENDPOINT is not an http(s) URL")
    body = json.dumps({"to": to, "text": text, "reference": reference}, ensure_ascii=False).encode()
    request = Request(endpoint, data=body, method="POST", headers={
        "Authorization": f"Bearer {plugin_setting('ACME_SMS_API_KEY')}",
        "Content-Type": "application/json; charset=utf-8",
        "Accept": "application/json",
    })
    timeout = float(plugin_setting("ACME_SMS_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        with _opener.open(request, timeout=timeout) as response:
            answer = response.read(64 * 1024)
    except HTTPError as exc:
        raise GatewayError(f"the gateway answered {exc.code} {exc.reason}") from exc
    except (URLError, OSError) as exc:  # refused, unreachable, timed out
        reason = getattr(exc, "reason", exc)
        raise GatewayError(f"the gateway could not be reached: {reason}") from exc
    return _message_id(answer)


def _message_id(answer: bytes) -> str:
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return ""
    return str(data.get("id", ""))[:100] if isinstance(data, dict) else ""
