#!/usr/bin/env python3
"""Renders the six scanned documents of the extractor's dev form examples (fd- and fe-).

Sources are the clean texts in ingest/tests/forms/scan_src/*.txt, in the source markup of
scripts/render_scans.py (#RED, #NUM, #TITLE, #SUB, #RIGHT, #RIGHT2, #SEAL, #SEAL2; every other
line is a body paragraph). The gold metadata in ingest/tests/forms/metadata_gold.jsonl was
written from those clean texts. Outputs go to ingest/tests/forms/policies/: two single-page
PNGs and two two-page image-only PDFs (no text layer), with the same paper, rotation, speckle,
blur and red seals as the blind set, because the drawing is render_scans.py's own (imported,
not copied).

Needs Pillow and fonts-wqy-zenhei. Deterministic (fixed seeds). Run by hand after editing a
source:

    python3 scripts/render_dev_scans.py            # all six
    python3 scripts/render_dev_scans.py NAME.txt   # only the named source(s)
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import render_scans  # noqa: E402  (scripts/render_scans.py)

ROOT = render_scans.ROOT
SRC = ROOT / "ingest/tests/forms/scan_src"
OUT = ROOT / "ingest/tests/forms/policies"

DOCS = [
    # source, output, form, rotation (deg), seed
    ("fd-zuidi-gongzi-biaozhun-2026-scan.txt", "fd-zuidi-gongzi-biaozhun-2026-scan.png", "png", 0.8, 511),
    ("fd-xuhui-gaoling-duju-jinji-hujiao-2024-scan.txt", "fd-xuhui-gaoling-duju-jinji-hujiao-2024-scan.png", "png", -1.2, 522),
    ("fd-jiating-zhaohu-chuangwei-banfa-2025-scan.txt", "fd-jiating-zhaohu-chuangwei-banfa-2025-scan.pdf", "pdf", 0.5, 533),
    ("fd-yicixing-chuangye-butie-xize-2019-scan.txt", "fd-yicixing-chuangye-butie-xize-2019-scan.pdf", "pdf", -0.7, 544),
    ("fe-tuiyi-junren-kunnan-bangfu-yuanzhu-banfa-2026-scan.txt", "fe-tuiyi-junren-kunnan-bangfu-yuanzhu-banfa-2026-scan.pdf", "pdf", 0.7, 611),
    ("fe-canji-shenghuo-huli-butie-2016-scan.txt", "fe-canji-shenghuo-huli-butie-2016-scan.png", "png", -0.9, 622),
]


def main(argv):
    if not Path(render_scans.FONT).exists():
        raise SystemExit(f"font missing: {render_scans.FONT} (apt-get install fonts-wqy-zenhei)")
    # render_scans.render() reads its module-level SRC and OUT
    render_scans.SRC = SRC
    render_scans.OUT = OUT
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = set(argv)
    unknown = wanted - {d[0] for d in DOCS}
    if unknown:
        raise SystemExit(f"unknown source(s): {', '.join(sorted(unknown))}")
    for doc in DOCS:
        if not wanted or doc[0] in wanted:
            render_scans.render(*doc)


if __name__ == "__main__":
    main(sys.argv[1:])
