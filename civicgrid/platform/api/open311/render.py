"""GeoReport v2 output in both formats. JSON is the spec's "Spark convention"
mapping of the XML: a list becomes a plural element holding singular children
(``services`` → ``service``), ``null`` an empty element, booleans ``true``/``false``.
XML has the declaration with the encoding and no namespace, as the spec asks."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

from .errors import Open311Error

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
FORMATS_OFFERED = ("text/xml", "application/json")  # as discovery names them
# Each list's child element.
CHILDREN = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
            "errors": "error", "endpoints": "endpoint", "formats": "format"}
# Characters XML 1.0 cannot carry at all; a client's description may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def respond(data, *, fmt: str, root: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(_element(root, data), encoding="utf-8",
                                                                         xml_declaration=False)
    else:
        body = json.dumps(data, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=FORMATS.get(fmt, FORMATS["json"]))


def error(problem: Open311Error, *, fmt: str) -> HttpResponse:
    return respond(problem.items(), fmt=fmt, root="errors", status=problem.status)


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, list):
        child = CHILDREN[tag]
        element.extend(_element(child, item) for item in value)
    elif isinstance(value, dict):
        element.extend(_element(key, item) for key, item in value.items())
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = _NOT_XML.sub("", str(value))
    return element
