"""A tiny document model rendered to Markdown and to self-contained HTML.

Blocks: ("h", level, text), ("p", text), ("table", headers, rows), ("img", path, caption),
("code", text). Images are copied beside the Markdown and embedded (base64) in the HTML.
"""

from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "–" if v is None else str(v)


def to_markdown(blocks: list[tuple], out_dir: Path, image_dir: str = "images") -> str:
    lines = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            lines += ["#" * b[1] + " " + b[2], ""]
        elif kind == "p":
            lines += [b[1], ""]
        elif kind == "table":
            headers, rows = b[1], b[2]
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif kind == "img":
            src = Path(b[1])
            rel = Path(image_dir) / src.as_posix().replace("/", "__")
            (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out_dir / rel)
            lines += [f"![{b[2]}]({rel.as_posix()})", f"*{b[2]}*", ""]
        elif kind == "code":
            lines += ["```", b[1].rstrip(), "```", ""]
    return "\n".join(lines)


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}
table{border-collapse:collapse;margin:0.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%;image-rendering:pixelated}
figure{margin:0.5em 0 1.5em}figcaption{color:#555;font-size:0.9em}pre{background:#f6f6f6;padding:0.6em;overflow:auto}"""


def to_html(blocks: list[tuple], title: str) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{CSS}</style></head><body>"]
    for b in blocks:
        kind = b[0]
        if kind == "h":
            parts.append(f"<h{b[1]}>{html.escape(b[2])}</h{b[1]}>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(b[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b[1])
            body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>" for row in b[2])
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        elif kind == "img":
            data = base64.b64encode(Path(b[1]).read_bytes()).decode()
            parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(b[2])}'>"
                         f"<figcaption>{html.escape(b[2])}</figcaption></figure>")
        elif kind == "code":
            parts.append(f"<pre>{html.escape(b[1])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
