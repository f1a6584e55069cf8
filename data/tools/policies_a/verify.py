#!/usr/bin/env python3
"""Sanity check of the rendered part-A policies: read each file back the way ingest will
(pdftotext for PDF, python-docx for DOCX, tag stripping for HTML, tesseract chi_sim for the scan),
then check that the title, 文号 and the article headings survive.

Needs: poppler-utils, tesseract-ocr tesseract-ocr-chi-sim, python-docx.
Usage:  python3 verify.py
"""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402

FW = str.maketrans("０１２３４５６７８９", "0123456789")


class Strip(HTMLParser):
    """Keeps only the text inside the article body (#ivs_content), heading and 文号 line."""

    def __init__(self):
        super().__init__()
        self.out, self.depth, self.keep = [], 0, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") in ("ivs_content", "ivs_title") or a.get("class") == "docno":
            self.keep, self.depth = True, 0
        if self.keep:
            self.depth += 1
        if tag in ("p", "tr", "h1"):
            self.out.append("\n")

    def handle_endtag(self, tag):
        if self.keep:
            self.depth -= 1
            if self.depth <= 0:
                self.keep = False

    def handle_data(self, data):
        if self.keep:
            self.out.append(data)


def extract(path: Path) -> str:
    ext = path.suffix
    if ext in (".txt", ".md"):
        return path.read_text(encoding="utf-8")
    if ext == ".html":
        p = Strip()
        p.feed(path.read_text(encoding="utf-8"))
        return "".join(p.out)
    if ext == ".pdf" and path.name.endswith("-scan.pdf"):
        # image-only page: rasterise and OCR, as ingest must
        subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", str(path), "/tmp/verify_a_page"], check=True)
        pages = sorted(Path("/tmp").glob("verify_a_page*.png"))
        out = "".join(subprocess.run(["tesseract", str(p), "-", "-l", "chi_sim"], capture_output=True, text=True,
                                     check=True).stdout for p in pages)
        for p in pages:
            p.unlink()
        return out
    if ext == ".pdf":
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    if ext == ".docx":
        import docx
        d = docx.Document(str(path))
        return "\n".join(p.text for p in d.paragraphs)
    if ext == ".png":
        return subprocess.run(["tesseract", str(path), "-", "-l", "chi_sim"], capture_output=True, text=True,
                              check=True).stdout
    raise ValueError(ext)


def main():
    bad = 0
    for d in build.DOCS:
        path = build.OUT / d["out"]
        text = extract(path).translate(FW)
        flat = re.sub(r"\s+", "", text)
        title_ok = re.sub(r"\s+", "", d["title"]) in flat
        no = d["doc_number"]
        no_ok = True if not no else re.sub(r"[〔\[【(（]", "〔", re.sub(r"[〕\]】)）]", "〕", flat)).find(no) >= 0
        # article headings at line start, after re-joining nothing: they must still start a line
        arts = len({m for m in re.findall(r"(?m)^\s*(第[一二三四五六七八九十百]+条)", text)})
        expected = d["article_count"] if arts else None
        status = "ok" if title_ok and no_ok and (expected is None or arts == expected) else "CHECK"
        if status != "ok" and d["form"] not in ("png", "pdfimg"):
            bad += 1
        print(f"{status:5} {d['form']:4} {d['out']:45} title={title_ok} 文号={no_ok} 第X条={arts}")
    print("problems:", bad)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
