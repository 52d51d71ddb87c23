"""Helpers for reading back the generated map HTML."""
from __future__ import annotations

import re
import shutil
import subprocess


def unescape_js(html: str) -> str:
    """Undo ``\\uXXXX`` and ``\\"`` escapes of JS string literals, to look at the text they carry."""
    html = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)
    return html.replace('\\"', '"')


def check_scripts_parse(html: str, tmp_path) -> None:
    """Syntax-check every inline <script> with node (skipped if node is not installed)."""
    node = shutil.which("node")
    if node is None:
        return
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert scripts
    for i, body in enumerate(scripts):
        f = tmp_path / f"script{i}.js"
        f.write_text(body, encoding="utf-8")
        res = subprocess.run([node, "--check", str(f)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
