#!/usr/bin/env python3
"""Renders the scanned 月养老金收入证明 fixtures of api/tests/ocr_materials.rs.

The people are the fictional residents of data/fixtures/residents.jsonl (synthetic ID
numbers). Run once by hand (needs Pillow and fonts-wqy-zenhei); the outputs are committed,
so the tests need only tesseract and poppler. The renders imitate a phone photo of a
stamped paper: grey paper, slight rotation, speckle, a red seal over the issuer line.
"""
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
OUT = Path(__file__).resolve().parent.parent / "api/tests/data/materials"


def render(lines, seal, name, angle, blur=0.0, noise=0.004, pdf=False, seed=7):
    rnd = random.Random(seed)
    w, h = 1240, 1754  # A4 at 150 dpi
    img = Image.new("L", (w, h), 238)
    d = ImageDraw.Draw(img)
    title = ImageFont.truetype(FONT, 56)
    body = ImageFont.truetype(FONT, 36)
    d.text((w // 2, 180), lines[0], font=title, fill=20, anchor="mm")
    y = 320
    for ln in lines[1:]:
        if ln == "":
            y += 40
            continue
        x = 620 if ln.startswith(">") else 110
        d.text((x, y), ln.lstrip(">"), font=body, fill=25)
        y += 64
    rgb = img.convert("RGB")
    if seal:
        s = ImageDraw.Draw(rgb)
        cx, cy = 1000, y - 110
        s.ellipse((cx - 130, cy - 130, cx + 130, cy + 130), outline=(225, 120, 120), width=8)
        s.text((cx, cy), "★", font=ImageFont.truetype(FONT, 90), fill=(225, 120, 120), anchor="mm")
    px = rgb.load()
    for _ in range(int(w * h * noise)):
        x, yy = rnd.randrange(w), rnd.randrange(h)
        v = rnd.randrange(60, 200)
        px[x, yy] = (v, v, v)
    rgb = rgb.rotate(angle, resample=Image.BICUBIC, expand=False, fillcolor=(230, 230, 230))
    if blur:
        rgb = rgb.filter(ImageFilter.GaussianBlur(blur))
    path = OUT / name
    if pdf:
        rgb.save(path, "PDF", resolution=150)
    else:
        rgb.convert("L").save(path, optimize=True)
    print(path, path.stat().st_size, file=sys.stderr)


HUANG = [
    "养老金收入证明",
    "兹证明黄建华（居民身份证号码：31011019440812455X），",
    "系我省企业退休人员，自2004年9月起按月领取基本养老金，",
    "2026年10月月基本养老金为3,500.00元。",
    "特此证明。",
    "",
    ">贵州省社会保险事业管理局",
    ">2026年11月3日",
]

MA = [
    "养老金收入证明",
    "兹证明马秀兰（居民身份证号码：310109194801260624），",
    "系我省企业退休人员，自2003年2月起按月领取基本养老金，",
    "2026年10月月基本养老金为4,800.00元。",
    "特此证明。",
    "",
    ">江西省社会保险事业管理局",
    ">2026年10月28日",
]

if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    render(HUANG, True, "pension_huang.png", angle=1.2)
    render(HUANG, True, "pension_huang_scan.pdf", angle=-0.8, pdf=True, seed=11)
    render(MA, True, "pension_ma.png", angle=0.6, seed=3)
    render(HUANG, True, "pension_huang_blurred.png", angle=2.0, blur=14.0, noise=0.01, seed=5)
