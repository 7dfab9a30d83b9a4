"""``/docs``: the OpenAPI document rendered as one self-contained HTML page (no scripts, no CDN)."""

from __future__ import annotations

import json
from html import escape

STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2.5rem}
.method{display:inline-block;min-width:3.5rem;font-weight:bold;color:#fff;background:#0b6;padding:0 .4rem;
border-radius:3px;text-align:center}
.post{background:#06c}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.6rem;overflow:auto;font-size:.85rem}
details{margin:.4rem 0}
"""


EXAMPLE = """curl -s -X POST http://127.0.0.1:8000/v1/predict -H 'Content-Type: application/json' -d '{
  "inputs": [{"id": "aduan-17", "text": "Antre dari pagi, petugasnya jutek. Tolong diperbaiki."},
             {"id": "aduan-18", "text": "Terima kasih, urus KTP sekarang cepat dan ramah."}],
  "parameters": {"evidence": true, "return_all_scores": false}
}'"""


def render_docs(spec: dict) -> str:
    """The HTML page for an OpenAPI document."""
    info = spec["info"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(info['title'])}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(info['title'])}</h1><p>{escape(info['description'])}</p>",
        f"<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI {escape(spec['openapi'])}).</p>",
    ]
    if "securitySchemes" in spec.get("components", {}):
        parts.append("<p>Endpoints marked 🔒 need an API key in the <code>X-API-Key</code> header.</p>")
    parts.append(f"<h2>Example</h2><pre>{escape(EXAMPLE)}</pre>")
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            parts.append(_operation_html(path, method, operation))
    parts.append("<h2>Schemas</h2>")
    for name, schema in spec["components"]["schemas"].items():
        parts.append(f"<details id='schema-{escape(name)}'><summary><code>{escape(name)}</code></summary>")
        parts.append(f"<pre>{escape(json.dumps(schema, indent=2, ensure_ascii=False))}</pre></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _operation_html(path: str, method: str, operation: dict) -> str:
    lock = " 🔒" if operation.get("security") else ""
    rows = "".join(
        f"<tr><td>{escape(status)}</td><td>{escape(response['description'])}</td>"
        f"<td>{escape(', '.join(response.get('content', {})))}</td></tr>"
        for status, response in operation["responses"].items()
    )
    html = [
        f"<h2><span class='method {escape(method)}'>{escape(method.upper())}</span> <code>{escape(path)}</code>"
        f"{lock}</h2>",
        f"<p>{escape(operation['summary'])}.</p>",
    ]
    body = operation.get("requestBody")
    if body:
        schema = next(iter(body["content"].values()))["schema"]
        html.append(f"<p>Request body: <code>{escape(schema.get('$ref', '').rsplit('/', 1)[-1])}</code></p>")
    html.append(f"<table><tr><th>Status</th><th>Meaning</th><th>Content</th></tr>{rows}</table>")
    return "\n".join(html)
