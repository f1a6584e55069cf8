#!/usr/bin/env python3
"""Renders the four scanned policy documents of the blind evaluation set (bb- prefix).

Sources are the clean texts in data/tools/blind_scans/*.txt (a folder ingest skips); the
gold metadata of data/eval/blind/metadata_gold.b.jsonl is taken from those clean texts.
Outputs go to data/policies/blind/: two single-page PNGs and two two-page image-only PDFs
(no text layer). The renders imitate a phone/scanner capture of a stamped paper: grey
uneven paper, slight rotation (<= 1.5 degrees), speckle, slight blur, a red seal over the
issuer line. Same approach as scripts/render_certificates.py.

Needs Pillow and fonts-wqy-zenhei. Deterministic (fixed seeds). Run once by hand:

    python3 scripts/render_scans.py

Source markup (one directive per line, everything else is a body paragraph):
    #RED text     red header line (issuing body), centred, large
    #NUM text     document number, centred
    #TITLE text   title, centred, wrapped
    #SUB text     title of an attached document (印发通知), centred, after a page gap
    #RIGHT text   right-aligned line (落款 / date)
    #RIGHT2 text  right-aligned line of a joint 落款
    #SEAL name    red seal over the preceding 落款; #SEAL2 a|b two seals side by side
"""
import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "data/tools/blind_scans"
OUT = ROOT / "data/policies/blind"
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"

W, H = 1240, 1754  # A4 at 150 dpi
# layout: two-page PDFs use 33 px body on 50 px lines; the one-page PNGs a denser set
LAYOUT = {
    "pdf": dict(margin_x=96, top=110, bottom=1620, body=33, line=50, red=54, title=42, sign_gap=50),
    "png": dict(margin_x=72, top=72, bottom=1700, body=32, line=41, red=44, title=40, sign_gap=24),
}
MARGIN_X, TOP, BOTTOM, BODY_PX, LINE_H = 96, 110, 1620, 33, 50
NO_LINE_START = set("，。、；：！？）》」”’％")

DOCS = [
    # source, output, form, rotation (deg), seed
    ("bb-laonianren-tijian-2025-scan.txt", "bb-laonianren-tijian-2025-scan.png", "png", 0.9, 101),
    ("bb-youfu-fuxu-biaozhun-2024-scan.txt", "bb-youfu-fuxu-biaozhun-2024-scan.png", "png", 1.1, 202),
    ("bb-songjiao-shangmen-banfa-2024-scan.txt", "bb-songjiao-shangmen-banfa-2024-scan.pdf", "pdf", 0.6, 303),
    ("bb-yanglaojin-zige-renzheng-xize-scan.txt", "bb-yanglaojin-zige-renzheng-xize-scan.pdf", "pdf", -0.5, 404),
]


def font(px):
    return ImageFont.truetype(FONT, px)


def wrap(text, fnt, width):
    lines, cur = [], ""
    for ch in text:
        if fnt.getlength(cur + ch) > width and cur:
            if ch in NO_LINE_START:  # keep closing punctuation on the line
                cur += ch
                continue
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        lines.append(cur)
    return lines


class Pages:
    """Lays out directives onto as many A4 pages as needed."""

    def __init__(self, multipage):
        self.multipage = multipage
        self.pages = []
        self.seals = []  # (page index, cx, cy, name)
        self.new_page()

    def new_page(self):
        img = Image.new("L", (W, H), 255)
        self.pages.append(img)
        self.d = ImageDraw.Draw(img)
        self.y = TOP

    def need(self, h):
        if self.y + h > BOTTOM:
            if not self.multipage:
                raise SystemExit(f"text does not fit on one page (y={self.y}, need {h})")
            self.new_page()

    def centred(self, text, px, fill=15, gap=18):
        f = font(px)
        lines = wrap(text, f, W - 2 * MARGIN_X - 40)
        if len(lines) > 1:  # balance the lines of a wrapped title
            per = math.ceil(len(text) / len(lines))
            lines = [text[i:i + per] for i in range(0, len(text), per)]
        for ln in lines:
            self.need(px + gap)
            self.d.text((W // 2, self.y + px // 2), ln, font=f, fill=fill, anchor="mm")
            self.y += px + gap

    def para(self, text):
        f = font(BODY_PX)
        first = True
        width = W - 2 * MARGIN_X
        indent = 2 * BODY_PX
        rest = text
        # first line is indented by two characters
        first_lines = wrap(rest, f, width - indent)
        head = first_lines[0]
        tail = rest[len(head):]
        lines = [(indent, head)] + [(0, ln) for ln in wrap(tail, f, width)] if tail else [(indent, head)]
        for off, ln in lines:
            self.need(LINE_H)
            self.d.text((MARGIN_X + off, self.y), ln, font=f, fill=22)
            self.y += LINE_H
            first = False

    def right(self, text):
        f = font(BODY_PX)
        self.need(LINE_H)
        x = W - MARGIN_X - 60 - f.getlength(text)
        self.d.text((x, self.y), text, font=f, fill=22)
        self.last_right = (x, self.y, f.getlength(text))
        self.y += LINE_H

    def seal(self, names):
        # seal centred over the first 落款 line written before it
        x, y, w = self.first_right
        page = len(self.pages) - 1
        if len(names) == 1:
            self.seals.append((page, x + w / 2, y + 10, names[0]))
        else:
            self.seals.append((page, x + w * 0.2, y + 10, names[0]))
            self.seals.append((page, x + w * 0.82, y + 10, names[1]))


def draw_seal(rgb, cx, cy, name, rnd):
    """A red round official seal (ring, arc text, star), multiplied onto the page."""
    r = 118
    layer = Image.new("RGB", rgb.size, (255, 255, 255))
    d = ImageDraw.Draw(layer)
    red = (214, 62, 58)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=7)
    d.text((cx, cy + 4), "★", font=font(78), fill=red, anchor="mm")
    f = font(30)
    n = len(name)
    span = min(250.0, 22.0 * n)  # degrees covered by the arc text
    for i, ch in enumerate(name):
        a = math.radians(-90 - span / 2 + span * (i + 0.5) / n)
        tx, ty = cx + (r - 30) * math.cos(a), cy + (r - 30) * math.sin(a)
        g = Image.new("L", (44, 44), 0)
        ImageDraw.Draw(g).text((22, 22), ch, font=f, fill=255, anchor="mm")
        g = g.rotate(-math.degrees(a) - 90, resample=Image.BICUBIC)
        layer.paste(Image.new("RGB", g.size, red), (int(tx - 22), int(ty - 22)), g)
    # uneven ink: knock out some pixels
    px = layer.load()
    for _ in range(2500):
        x = int(cx + rnd.uniform(-r, r))
        y = int(cy + rnd.uniform(-r, r))
        if 0 <= x < rgb.size[0] and 0 <= y < rgb.size[1]:
            px[x, y] = (255, 255, 255)
    layer = layer.filter(ImageFilter.GaussianBlur(0.7))
    return ImageChops.multiply(rgb, layer)


def age(img, angle, rnd):
    """Grey uneven paper, speckle, rotation and slight blur of a white page."""
    rgb = img.convert("RGB")
    # paper tone with a soft light gradient (phone capture)
    paper = Image.new("L", (W, H))
    pp = paper.load()
    for y in range(0, H, 2):
        for x in range(0, W, 2):
            v = int(226 + 12 * math.cos((x - W * 0.35) / W * 2.2) * math.cos((y - H * 0.3) / H * 1.8))
            v = min(244, max(205, v))
            pp[x, y] = pp[min(x + 1, W - 1), y] = v
            pp[x, min(y + 1, H - 1)] = pp[min(x + 1, W - 1), min(y + 1, H - 1)] = v
    rgb = ImageChops.multiply(rgb, Image.merge("RGB", (paper, paper, paper)))
    px = rgb.load()
    for _ in range(int(W * H * 0.003)):
        x, y = rnd.randrange(W), rnd.randrange(H)
        v = rnd.randrange(70, 190)
        px[x, y] = (v, v, v)
    for _ in range(40):  # a few larger dust blobs
        x, y = rnd.randrange(W), rnd.randrange(H)
        s = rnd.randrange(2, 5)
        ImageDraw.Draw(rgb).ellipse((x, y, x + s, y + s), fill=(120, 120, 120))
    rgb = rgb.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(96, 96, 100))
    return rgb.filter(ImageFilter.GaussianBlur(0.3))


def render(src, out, form, angle, seed):
    global MARGIN_X, TOP, BOTTOM, BODY_PX, LINE_H
    lay = LAYOUT[form]
    MARGIN_X, TOP, BOTTOM = lay["margin_x"], lay["top"], lay["bottom"]
    BODY_PX, LINE_H = lay["body"], lay["line"]
    rnd = random.Random(seed)
    lines = (SRC / src).read_text(encoding="utf-8").splitlines()
    pg = Pages(multipage=(form == "pdf"))
    in_signature = False
    for raw in lines:
        if not raw.strip():
            continue
        tag, _, text = raw.partition(" ") if raw.startswith("#") else ("", "", raw)
        if tag == "#RED":
            pg.centred(text, lay["red"], fill=60, gap=16)
        elif tag == "#NUM":
            pg.y += 6
            pg.centred(text, BODY_PX)
            pg.d.line((MARGIN_X, pg.y + 4, W - MARGIN_X, pg.y + 4), fill=90, width=3)
            pg.y += 26
        elif tag in ("#TITLE", "#SUB"):
            if tag == "#SUB":
                pg.y += 60
            pg.need(140)
            pg.centred(text, lay["title"], fill=10, gap=16)
            pg.y += 12
        elif tag in ("#RIGHT", "#RIGHT2"):
            if not in_signature:
                pg.y += lay["sign_gap"]
                pg.need(3 * LINE_H)
                in_signature = True
                pg.right(text)
                pg.first_right = pg.last_right
            else:
                pg.right(text)
        elif tag in ("#SEAL", "#SEAL2"):
            pg.seal(text.split("|"))
            in_signature = False
        else:
            in_signature = False
            pg.para(text)
    n = len(pg.pages)
    if form == "pdf" and n != 2:
        raise SystemExit(f"{src}: expected 2 pages, got {n}")
    outs = []
    for i, img in enumerate(pg.pages):
        if form == "pdf":
            ImageDraw.Draw(img).text((W // 2, H - 80), f"— {i + 1} —", font=font(30), fill=40, anchor="mm")
        rgb = img.convert("RGB")
        for page, cx, cy, name in pg.seals:
            if page == i:
                rgb = draw_seal(rgb, int(cx), int(cy), name, rnd)
        outs.append(age(rgb, angle + rnd.uniform(-0.3, 0.3) if i else angle, rnd))
    path = OUT / out
    if form == "pdf":
        outs[0].save(path, "PDF", resolution=150, save_all=True, append_images=outs[1:])
    else:
        outs[0].save(path, optimize=True)
    print(path.relative_to(ROOT), f"{n} page(s)", path.stat().st_size, file=sys.stderr)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for doc in DOCS:
        render(*doc)
