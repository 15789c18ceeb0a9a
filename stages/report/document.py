"""A tiny document model rendered to Markdown and to self-contained HTML.

Blocks: ("h", level, text[, anchor]), ("p", text), ("table", headers, rows), ("img", path, caption),
("code", text). A table cell may be a link, ("link", text, anchor). The Markdown links each image
where it lies (under plots/, committed with the results), so it reads on a fresh clone and on the
repository's web page; the HTML embeds them (base64) and stands alone.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path


def fmt(v) -> str:
    if isinstance(v, tuple) and v and v[0] == "link":
        return v[1]
    if isinstance(v, float):
        return f"{v:.4g}"
    return "–" if v is None else str(v)


def md_cell(v) -> str:
    if isinstance(v, tuple) and v and v[0] == "link":
        return f"[{v[1]}](#{v[2]})"
    return fmt(v).replace("|", "\\|")


def to_markdown(blocks: list[tuple], page_dir: Path) -> str:
    """Markdown for a page that will live in ``page_dir``; image links are relative to it."""
    lines = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            if len(b) > 3:
                lines += [f'<a id="{b[3]}"></a>', ""]
            lines += ["#" * b[1] + " " + b[2], ""]
        elif kind == "p":
            lines += [b[1], ""]
        elif kind == "table":
            headers, rows = b[1], b[2]
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            rel = Path(os.path.relpath(Path(b[1]).resolve(), page_dir.resolve())).as_posix()
            lines += [f"![{b[2]}]({rel})", f"*{b[2]}*", ""]
        elif kind == "code":
            lines += ["```", b[1].rstrip(), "```", ""]
    return "\n".join(lines)


def num(v) -> str:
    return " class='n'" if isinstance(v, (int, float)) and not isinstance(v, bool) else ""


def html_cell(v) -> str:
    if isinstance(v, tuple) and v and v[0] == "link":
        return f"<a href='#{html.escape(v[2])}'>{html.escape(v[1])}</a>"
    return html.escape(fmt(v))


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;margin:0.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}td.n{text-align:right}
th{background:#f3f3f3}img{max-width:100%;image-rendering:pixelated}
figure{margin:0.5em 0 1.5em}figcaption{color:#555;font-size:0.9em}pre{background:#f6f6f6;padding:0.6em;overflow:auto}"""


def to_html(blocks: list[tuple], title: str) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{CSS}</style></head><body>"]
    for b in blocks:
        kind = b[0]
        if kind == "h":
            anchor = f" id='{html.escape(b[3])}'" if len(b) > 3 else ""
            parts.append(f"<h{b[1]}{anchor}>{html.escape(b[2])}</h{b[1]}>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(b[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
            body = "".join("<tr>" + "".join(f"<td{num(c)}>{html_cell(c)}</td>" for c in row) + "</tr>" for row in b[2])
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        elif kind == "img":
            data = base64.b64encode(Path(b[1]).read_bytes()).decode()
            parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(b[2])}'>"
                         f"<figcaption>{html.escape(b[2])}</figcaption></figure>")
        elif kind == "code":
            parts.append(f"<pre>{html.escape(b[1])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
