#!/usr/bin/env python3
"""Build the part-A policy corpus (人社 rs-, 住建 zj-, 卫健 wj-, 综合 zh-) from the hand-written
canonical texts in src/, rendering each one in the real-world form it is delivered in.

Deterministic: a fixed random seed; re-running overwrites the same outputs.

Generation-time dependencies (not needed by the project at run time):
  pip install python-docx pillow fpdf2
  apt-get install fonts-noto-cjk            # CJK font for the PDF and the scanned image
  apt-get install tesseract-ocr tesseract-ocr-chi-sim poppler-utils   # only for verify.py

Usage:  python3 build.py            (writes ../../policies/ and ../../eval/metadata_gold.part-a.jsonl)
"""

import datetime as dt
import html
import json
import zipfile
import random
import time
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
DATA = HERE.parent.parent
OUT = DATA / "policies"
EVAL = DATA / "eval"

NOTO_SERIF = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
NOTO_SANS = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NOTO_SANS_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
SC_INDEX = 2  # Noto CJK collections: JP, KR, SC, TC, HK — index 2 is Simplified Chinese

rng = random.Random(20261129)

# ---------------------------------------------------------------------------
# Manifest: source text -> output file, form, and the gold metadata as of 2026-11-29.
# article_count is written by hand and cross-checked against the text by count_articles().
# ---------------------------------------------------------------------------
RS = "上海市人力资源和社会保障局"
CZ = "上海市财政局"
NY = "上海市农业农村委员会"

DOCS = [
    dict(src="rs-01", out="rs-shiyebaoxian-banfa-2024.txt", form="txt",
         title="上海市失业保险办法", doc_number="上海市人民政府令第27号", issuer="上海市人民政府",
         level="政府规章", published="2024-11-25", effective="2025-01-01", expires=None,
         status="现行有效", article_count=27),
    dict(src="rs-02", out="rs-shiyebaoxianjin-shenling-xize-2024.txt", form="txt",
         title=f"{RS} {CZ}关于印发《上海市失业保险金申领发放实施细则》的通知",
         doc_number="沪人社规〔2024〕33号", issuer=f"{RS}、{CZ}", level="规范性文件",
         published="2024-12-16", effective="2025-01-01", expires="2029-12-31",
         status="现行有效", article_count=18),
    dict(src="rs-03", out="rs-shiyedengji-banfa-2023.txt", form="txt",
         title="上海市失业登记管理办法", doc_number="沪人社规〔2023〕18号", issuer=RS,
         level="规范性文件", published="2023-06-20", effective="2023-08-01", expires="2028-07-31",
         status="现行有效", article_count=17),
    dict(src="rs-04", out="rs-kuaqu-feinong-butie-banfa-2024.txt", form="txt",
         title=f"{RS} {CZ} {NY}关于印发《上海市郊区农村富余劳动力跨区非农就业补贴办法》的通知",
         doc_number="沪人社规〔2024〕9号", issuer=f"{RS}、{CZ}、{NY}", level="规范性文件",
         published="2024-04-22", effective="2024-07-01", expires="2029-06-30",
         status="现行有效", article_count=15),
    dict(src="rs-05", out="rs-kuaqu-feinong-butie-2019-ocr.txt", form="ocr",
         title=f"{RS} {CZ}关于印发《上海市鼓励郊区农村富余劳动力跨区非农就业补贴实施办法》的通知",
         doc_number="沪人社规〔2019〕15号", issuer=f"{RS}、{CZ}", level="规范性文件",
         published="2019-06-10", effective="2019-07-01", expires="2024-12-31",
         status="已废止", article_count=11,
         note="repealed from 2024-07-01 by 沪人社规〔2024〕9号 (rs-kuaqu-feinong-butie-banfa-2024.txt), before its own 有效期"),
    dict(src="rs-06", out="rs-kuaqu-feinong-butie-jiedu-2024.html", form="html",
         title="《上海市郊区农村富余劳动力跨区非农就业补贴办法》政策解读",
         doc_number=None, issuer=RS, level="政策解读",
         published="2024-04-30", effective=None, expires=None,
         status="现行有效", article_count=7,
         note="Q&A numbered 一、…七、; published = date under the text"),
    dict(src="rs-07", out="rs-jiuye-chuangye-zheng-banfa-2022.txt", form="txt",
         title="上海市《就业创业证》管理办法", doc_number="沪人社规〔2022〕7号", issuer=RS,
         level="规范性文件", published="2022-03-28", effective="2022-05-01", expires="2027-04-30",
         status="现行有效", article_count=12),
    dict(src="rs-08", out="rs-jiuye-kunnan-rending-2023.txt", form="txt",
         title="上海市就业困难人员认定管理办法", doc_number="沪人社规〔2023〕6号", issuer=RS,
         level="规范性文件", published="2023-02-27", effective="2023-04-01", expires="2028-03-31",
         status="现行有效", article_count=13),
    dict(src="rs-09", out="rs-linghuo-jiuye-tongzhi-2024.txt", form="txt",
         title=f"{RS}关于进一步做好本市灵活就业登记和就业困难人员灵活就业社会保险费补贴工作的通知",
         doc_number="沪人社规〔2024〕14号", issuer=RS, level="规范性文件",
         published="2024-05-08", effective="2024-06-01", expires="2029-05-31",
         status="现行有效", article_count=12),
    dict(src="rs-10", out="rs-shiye-buzhujin-2025.txt", form="txt",
         title=f"{RS} {CZ}关于本市实施失业补助金政策的通知",
         doc_number="沪人社规〔2025〕4号", issuer=f"{RS}、{CZ}", level="规范性文件",
         published="2025-01-24", effective="2025-03-01", expires="2027-12-31",
         status="现行有效", article_count=14,
         note="leaf units: （一） items, plus 四、五、六、 which have no （一） children"),
    dict(src="rs-11", out="rs-xiebao-gangwei-butie-2021-ocr.txt", form="ocr",
         title="上海市协保人员就业岗位补贴办法", doc_number="沪人社规〔2021〕22号", issuer=RS,
         level="规范性文件", published="2021-09-06", effective="2021-10-01", expires="2026-12-31",
         status="现行有效", article_count=10),
    dict(src="rs-12", out="rs-daling-gangwei-butie-2020-scan.png", form="png",
         title=f"{RS}关于实施本市大龄失业人员就业岗位补贴的通知",
         doc_number="沪人社规〔2020〕30号", issuer=RS, level="规范性文件",
         published="2020-11-30", effective="2021-01-01", expires="2025-12-31",
         status="已失效", article_count=5,
         note="scanned image (OCR); expired 2025-12-31, continued and changed by 沪人社规〔2025〕21号"),
    dict(src="rs-19", out="rs-yuandan-chunjie-yicixing-buzhu-2025-scan.pdf", form="pdfimg",
         title=f"{RS} {CZ}关于做好2026年元旦、春节期间家庭生活困难失业人员一次性补助工作的通知",
         doc_number="沪人社规〔2025〕27号", issuer=f"{RS}、{CZ}", level="规范性文件",
         published="2025-12-10", effective="2025-12-20", expires="2026-02-28",
         status="已失效", article_count=5,
         note="image-only PDF page (no text layer, needs OCR); a seasonal notice that has expired with no successor in the corpus"),
    dict(src="rs-20", out="rs-shiye-teshu-kunnan-yiliao-buzhu-2022.txt", form="txt",
         title="上海市失业人员特殊困难医疗补助办法", doc_number="沪人社规〔2022〕16号", issuer=RS,
         level="规范性文件", published="2022-05-30", effective="2022-07-01", expires="2027-06-30",
         status="现行有效", article_count=9),
    dict(src="rs-13", out="rs-daling-gangwei-butie-2025.txt", form="txt",
         title=f"{RS} {CZ}关于延续实施并调整本市大龄失业人员就业岗位补贴政策的通知",
         doc_number="沪人社规〔2025〕21号", issuer=f"{RS}、{CZ}", level="规范性文件",
         published="2025-11-28", effective="2026-01-01", expires="2030-12-31",
         status="现行有效", article_count=10,
         note="leaf units: （一） items, plus 四、五、六、 which have no （一） children"),
    dict(src="rs-14", out="rs-sangzang-fuxu-2023.docx", form="docx",
         title=f"{RS}关于调整失业人员丧葬补助金和抚恤金标准的通知",
         doc_number="沪人社规〔2023〕25号", issuer=RS, level="规范性文件",
         published="2023-08-21", effective="2023-10-01", expires="2028-09-30",
         status="现行有效", article_count=8,
         note="will be repealed on 2027-01-01 by 沪人社规〔2026〕19号 (not yet effective on 2026-11-29)"),
    dict(src="rs-15", out="rs-sangzang-fuxu-2026.txt", form="txt",
         title=f"{RS} {CZ}关于调整失业人员丧葬补助金和抚恤金标准的通知",
         doc_number="沪人社规〔2026〕19号", issuer=f"{RS}、{CZ}", level="规范性文件",
         published="2026-10-28", effective="2027-01-01", expires="2031-12-31",
         status="尚未生效", article_count=9),
    dict(src="rs-16", out="rs-dishouru-nonghu-butie-2024.pdf", form="pdf",
         title="上海市低收入农户就业补贴办法", doc_number="沪人社规〔2024〕20号",
         issuer=f"{RS}、{NY}、{CZ}", level="规范性文件",
         published="2024-07-15", effective="2024-09-01", expires="2029-08-31",
         status="现行有效", article_count=13),
    dict(src="rs-17", out="rs-banshi-zhinan-shiyedengji-feihuji.txt", form="txt",
         title="失业登记（非本市户籍）办事指南", doc_number=None, issuer=RS, level="办事指南",
         published="2025-06-03", effective=None, expires=None,
         status="现行有效", article_count=10, note="published = 更新日期"),
    dict(src="rs-18", out="rs-banshi-zhinan-kuaqu-butie.txt", form="txt",
         title="个人申领郊区农村富余劳动力跨区非农就业补贴办事指南", doc_number=None, issuer=RS,
         level="办事指南", published="2025-03-10", effective=None, expires=None,
         status="现行有效", article_count=10, note="published = 更新日期"),
    dict(src="zj-01", out="zj-peishou-baozhangfang-banfa-2025.pdf", form="pdf",
         title="上海市人民政府办公厅关于印发《上海市配售型保障性住房管理办法（试行）》的通知",
         doc_number="沪府办规〔2025〕8号", issuer="上海市人民政府办公厅", level="规范性文件",
         published="2025-04-18", effective="2025-06-01", expires="2027-05-31",
         status="现行有效", article_count=19),
    dict(src="zj-02", out="zj-peishou-shenqing-xize-2025.docx", form="docx",
         title="上海市住房和城乡建设管理委员会 上海市房屋管理局关于印发《上海市配售型保障性住房申请审核实施细则》的通知",
         doc_number="沪住建规范〔2025〕5号",
         issuer="上海市住房和城乡建设管理委员会、上海市房屋管理局", level="规范性文件",
         published="2025-05-12", effective="2025-06-01", expires="2027-05-31",
         status="现行有效", article_count=12,
         note="leaf units: （一） items, plus 五、 which has none; the 准入标准 table sits in 一、（一）"),
    dict(src="wj-01", out="wj-yuer-butie-fangan-2025.html", form="html",
         title="上海市卫生健康委员会 上海市财政局 上海市民政局关于印发《上海市育儿补贴制度实施方案》的通知",
         doc_number="沪卫规〔2025〕11号",
         issuer="上海市卫生健康委员会、上海市财政局、上海市民政局", level="规范性文件",
         published="2025-09-12", effective="2025-10-01", expires="2030-09-30",
         status="现行有效", article_count=12, note="the 补贴标准 table sits in 二、（二）"),
    dict(src="wj-02", out="wj-yuer-butie-jiedu-2025.md", form="md",
         title="《上海市育儿补贴制度实施方案》政策解读", doc_number=None,
         issuer="上海市卫生健康委员会", level="政策解读",
         published="2025-09-19", effective=None, expires=None,
         status="现行有效", article_count=7, note="Markdown; Q&A numbered 一、…七、 as ## headings"),
    dict(src="zh-01", out="zh-haochaping-banfa-2024.html", form="html",
         title="上海市人民政府办公厅关于印发《上海市政务服务“好差评”管理办法》的通知",
         doc_number="沪府办规〔2024〕15号", issuer="上海市人民政府办公厅", level="规范性文件",
         published="2024-09-20", effective="2024-11-01", expires="2029-10-31",
         status="现行有效", article_count=15),
    dict(src="zh-02", out="zh-quanshi-tongban-tongzhi-2024.txt", form="txt",
         title="上海市人民政府办公厅关于深化社区事务受理“全市通办”工作的通知",
         doc_number="沪府办规〔2024〕11号", issuer="上海市人民政府办公厅", level="规范性文件",
         published="2024-07-05", effective="2024-08-01", expires="2029-07-31",
         status="现行有效", article_count=10),
    dict(src="zh-03", out="zh-yiwangtongban-tiaoli-2023-ocr.txt", form="ocr",
         title="上海市政务服务“一网通办”条例",
         doc_number="上海市人民代表大会常务委员会公告〔十六届〕第十五号",
         issuer="上海市人民代表大会常务委员会", level="地方性法规",
         published="2023-12-28", effective="2024-03-01", expires=None,
         status="现行有效", article_count=21),
]

# Per-document OCR furniture and the deliberate OCR confusions (each applied once, only where
# the context makes the repair unambiguous: 曰 before 起施行 / after a month-day, 己 in 已经/已按,
# Latin O inside a Chinese-numeral year).
OCR = {
    "rs-05": dict(header="上海市人力资源和社会保障局文件", footer_style="page_of",
                  width=31, lines_per_page=24,
                  confusions=[("日起施行", "曰起施行"), ("二〇一九年", "二O一九年"),
                              ("已经", "己经")]),
    "rs-11": dict(header="沪人社规〔2021〕22号", footer_style="dash",
                  width=29, lines_per_page=20,
                  confusions=[("九月六日", "九月六曰"), ("二〇二一年", "二〇二一年".replace("〇", "O")),
                              ("已享受", "己享受")]),
    "zh-03": dict(header="上海市人民代表大会常务委员会公报　2024年第1号", footer_style="page_of",
                  width=33, lines_per_page=26,
                  confusions=[("日起施行。\n\n上海市人民代表大会常务委员会", "曰起施行。\n\n上海市人民代表大会常务委员会"),
                              ("已经提交", "己经提交")]),
}

CN_NUM = "〇一二三四五六七八九十百"

SIGNERS = {x for d in DOCS for x in d["issuer"].split("、")} | {"市长"}


def is_subtitle(s: str) -> bool:
    """The name of the attached 办法/细则/方案 printed as a centred sub-heading."""
    return (len(s) < 40 and not re.search(r"[，。；：]", s) and s.startswith("上海市")
            and s.endswith(("办法", "细则", "方案", "（试行）")))


# ---------------------------------------------------------------------------
# article counting (cross-check of the hand-written gold)
# ---------------------------------------------------------------------------
ART_RE = re.compile(r"^第[一二三四五六七八九十百零〇]+条")
TOP_RE = re.compile(r"^(?:#+\s*)?([一二三四五六七八九十]+)、")
SUB_RE = re.compile(r"^（[一二三四五六七八九十]+）")


def count_articles(text: str) -> int:
    """条-structured: number of 第X条 at line start. Otherwise leaf units of the notice tree:
    each （一） item under a top-level 一、 item, and each top-level item that has no （一）
    children. Inside 条 documents the （一） items are 项 and do not count."""
    lines = [l.strip() for l in text.split("\n")]
    arts = [l for l in lines if ART_RE.match(l)]
    if arts:
        return len(arts)
    n = 0
    children = None
    for l in lines:
        if TOP_RE.match(l):
            if children == 0:
                n += 1
            children = 0
        elif SUB_RE.match(l) and children is not None:
            children += 1
            n += 1
    if children == 0:
        n += 1
    return n


def body_lines(text: str):
    """Split a canonical text into ('p', line) and ('table', rows) blocks."""
    blocks, table = [], None
    for line in text.split("\n"):
        if line.strip() == "【表】":
            table = []
            continue
        if line.strip() == "【表尾】":
            blocks.append(("table", table))
            table = None
            continue
        if table is not None:
            table.append(line.split("|"))
        else:
            blocks.append(("p", line))
    return blocks


def plain(text: str) -> str:
    """Plain-text rendering: tables become tab-separated rows."""
    out = []
    for kind, v in body_lines(text):
        if kind == "p":
            out.append(v)
        else:
            out.extend("\t".join(r) for r in v)
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------
# OCR-style text
# ---------------------------------------------------------------------------
FW = str.maketrans("0123456789", "０１２３４５６７８９")
BAD_LINE_START = re.compile(r"^(第[一二三四五六七八九十百零〇]+[条章节]|（[一二三四五六七八九十]+）|[一二三四五六七八九十]+、|[0-9０-９]+[\.、])")
PUNCT_START = "，。、；：）」』”》？！"


def wrap_para(p: str, width: int):
    if len(p) <= width:
        return [p]
    out, i = [], 0
    while i < len(p):
        j = min(i + width + rng.randint(-2, 1), len(p))
        # never let a continuation line look like an article / item heading, nor start with
        # closing punctuation (a real printer would have kept it on the previous line)
        while j < len(p) and (BAD_LINE_START.match(p[j:]) or p[j] in PUNCT_START):
            j += 1
        out.append(p[i:j])
        i = j
    return out


def ocr_text(key: str, text: str) -> str:
    cfg = OCR[key]
    for old, new in cfg["confusions"]:
        assert old in text, (key, old)
        text = text.replace(old, new, 1)
    text = plain(text)
    lines = []
    for para in text.split("\n"):
        if not para.strip():
            lines.append("")
            continue
        lines.extend(wrap_para(para, cfg["width"]))
    # full-width digits in the body, as the OCR engine of the scanning office produced them
    lines = [l.translate(FW) for l in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    per = cfg["lines_per_page"]
    pages = [lines[i:i + per] for i in range(0, len(lines), per)]
    total = len(pages)
    out = []
    for n, pg in enumerate(pages, 1):
        if n > 1:
            out.append(cfg["header"])
            out.append("")
        out.extend(pg)
        out.append("")
        if cfg["footer_style"] == "page_of":
            out.append(f"第 {n} 页 共 {total} 页")
        else:
            out.append(f"— {n} —")
        out.append("\f" if n < total else "")
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------
# HTML with site chrome
# ---------------------------------------------------------------------------
SITES = {
    "rs-06": dict(site="上海市人力资源和社会保障局", host="rsj.sh.gov.cn",
                  crumbs=["首页", "政务公开", "政策解读"], column="政策解读",
                  icp="沪ICP备10021178号-1", police="沪公网安备 31010102003562号",
                  sponsor="上海市人力资源和社会保障局"),
    "wj-01": dict(site="上海市卫生健康委员会", host="wsjkw.sh.gov.cn",
                  crumbs=["首页", "政务公开", "政策文件", "规范性文件"], column="规范性文件",
                  icp="沪ICP备05022817号-3", police="沪公网安备 31010102005418号",
                  sponsor="上海市卫生健康委员会"),
    "zh-01": dict(site="上海市人民政府", host="www.shanghai.gov.cn",
                  crumbs=["首页", "政务公开", "规范性文件", "市政府办公厅文件"], column="市府办规",
                  icp="沪ICP备05024286号-1", police="沪公网安备 31010102002001号",
                  sponsor="上海市人民政府办公厅"),
}

SIDEBAR = [
    "关于做好2026年本市高校毕业生就业创业工作的通知",
    "上海市就业补助资金管理办法",
    "本市职业技能提升补贴政策问答",
    "关于调整本市最低工资标准的通知",
    "上海市社区事务受理服务中心服务规范",
    "关于开展2026年度政务服务满意度调查的公告",
]


def html_page(key: str, d: dict, text: str) -> str:
    s = SITES[key]
    blocks = body_lines(text)
    # first line is the title, second the 文号 when there is one
    first = blocks[0][1]
    rest = blocks[1:]
    docno = None
    if d["doc_number"] and rest and rest[0][0] == "p" and rest[0][1].strip() == d["doc_number"]:
        docno = rest[0][1].strip()
        rest = rest[1:]
    body = []
    for kind, v in rest:
        if kind == "table":
            rows = ["<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in v[0]) + "</tr>"]
            for r in v[1:]:
                rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
            body.append('<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="4" '
                        'style="border-collapse:collapse;width:100%">\n<tbody>\n'
                        + "\n".join(rows) + "\n</tbody>\n</table>")
        elif v.strip():
            t = html.escape(v.strip())
            if re.match(r"^(第[一二三四五六七八九十]+章|[一二三四五六七八九十]+、)", v.strip()) and len(v) < 30:
                body.append(f'<p style="text-indent:2em;"><strong>{t}</strong></p>')
            elif v.strip() in SIGNERS:
                body.append(f'<p style="text-align:right;">{t}</p>')
            elif is_subtitle(v.strip()):
                body.append(f'<p style="text-align:center;"><strong>{t}</strong></p>')
            elif re.match(r"^(二〇|20)\d*", v.strip()) and len(v.strip()) < 14:
                body.append(f'<p style="text-align:right;">{t}</p>')
            else:
                body.append(f'<p style="text-indent:2em;">{t}</p>')
    crumbs = " &gt; ".join(f'<a href="/{i}/">{c}</a>' for i, c in enumerate(s["crumbs"]))
    side = "\n".join(f'          <li><a href="/xxgk/{rng.randint(100000, 999999)}.html">{html.escape(t)}</a></li>'
                     for t in rng.sample(SIDEBAR, 4))
    info = ""
    if key != "rs-06":
        info = f"""
        <table class="xxgk-info">
          <tr><td>索引号：</td><td>{rng.randint(10000000, 99999999)}/{d['published'][:4]}-{rng.randint(10000, 99999)}</td><td>主题分类：</td><td>社会保障</td></tr>
          <tr><td>发布机构：</td><td>{html.escape(s['sponsor'])}</td><td>发文字号：</td><td>{html.escape(d['doc_number'] or '')}</td></tr>
        </table>"""
    pub = d["published"]
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{html.escape(first)}_{s['column']}_{s['site']}</title>
<meta name="SiteName" content="{s['site']}">
<meta name="ColumnName" content="{s['column']}">
<meta name="ArticleTitle" content="{html.escape(first)}">
<link rel="stylesheet" href="/assets/css/common.css?v=20240611">
<script src="/assets/js/jquery-1.12.4.min.js"></script>
<script>
  var _hmt = _hmt || [];
  (function() {{ var hm = document.createElement("script"); hm.src = "https://{s['host']}/stat/hm.js?9f1e2d";
    var s = document.getElementsByTagName("script")[0]; s.parentNode.insertBefore(hm, s); }})();
  function doZoom(size) {{ document.getElementById('ivs_content').style.fontSize = size + 'px'; }}
</script>
</head>
<body>
<div class="top-bar">
  <div class="w1200"><span>欢迎访问{s['site']}网站</span>
    <a href="/wza/">无障碍</a> | <a href="/eng/">English</a> | <a href="https://zwdt.sh.gov.cn/">一网通办</a> | <a href="/rss/">RSS订阅</a></div>
</div>
<div class="header"><div class="w1200"><a class="logo" href="/"><img src="/assets/img/logo.png" alt="{s['site']}"></a>
  <form class="search" action="/search/"><input type="text" name="q" placeholder="请输入关键词"><button type="submit">搜索</button></form></div></div>
<div class="nav"><ul class="w1200">
  <li><a href="/">首页</a></li><li><a href="/xwzx/">新闻中心</a></li><li class="on"><a href="/xxgk/">政务公开</a></li>
  <li><a href="/bsfw/">办事服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/ztzl/">专题专栏</a></li></ul></div>
<div class="w1200 main">
  <div class="crumbs">当前位置：{crumbs} &gt; 正文</div>
  <div class="content-left">
    <div class="article">{info}
      <h1 id="ivs_title">{html.escape(first)}</h1>
      {f'<p class="docno" style="text-align:center;">{html.escape(docno)}</p>' if docno else ''}
      <div class="article-tools">
        <span>发布日期：{pub}</span>
        <span>来源：{s['sponsor']}</span>
        <span class="zoom">字号：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a></span>
        <a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a>
      </div>
      <div id="ivs_content" class="Article_content">
{chr(10).join('        ' + b for b in body)}
      </div>
      <div class="share">分享到：<a class="wx" href="javascript:;">微信</a> <a class="wb" href="javascript:;">微博</a></div>
    </div>
  </div>
  <div class="content-right">
    <div class="side-box"><h3>相关文件</h3>
      <ul>
{side}
      </ul></div>
    <div class="side-box"><h3>扫码关注</h3><img src="/assets/img/qrcode.png" alt="微信公众号"></div>
  </div>
</div>
<div class="footer"><div class="w1200">
  <p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a> | <a href="/sybz/">使用帮助</a> | <a href="/yssm/">隐私声明</a></p>
  <p>主办单位：{s['sponsor']}　　技术支持：上海市大数据中心</p>
  <p><a href="https://beian.miit.gov.cn/">{s['icp']}</a>　　<img src="/assets/img/ga.png" alt="">{s['police']}　　网站标识码：3100000{rng.randint(100, 999)}</p>
  <p>建议使用1366×768分辨率 / IE10以上浏览器访问本网站</p>
</div></div>
<script src="/assets/js/common.js"></script>
<script>$(function(){{ $('.nav li').hover(function(){{ $(this).addClass('hover'); }}, function(){{ $(this).removeClass('hover'); }}); }});</script>
</body>
</html>
"""


# ---------------------------------------------------------------------------
# Markdown (a 解读 saved from a WeChat-style article editor)
# ---------------------------------------------------------------------------
def md_text(text: str) -> str:
    lines = text.split("\n")
    out = ["# " + lines[0], ""]
    for l in lines[1:]:
        if TOP_RE.match(l):
            out.append("## " + l)
        elif l.startswith(("发布机构", "发布日期")):
            out.append("> " + l + "  ")
        else:
            out.append(l)
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------
# DOCX
# ---------------------------------------------------------------------------
def make_docx(text: str, path: Path):
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    st = doc.styles["Normal"]
    st.font.name = "仿宋_GB2312"
    st.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
    st.font.size = Pt(16)
    doc.core_properties.author = "办公室"
    doc.core_properties.title = ""
    blocks = body_lines(text)
    for i, (kind, v) in enumerate(blocks):
        if kind == "table":
            t = doc.add_table(rows=len(v), cols=len(v[0]))
            t.style = "Table Grid"
            for r, row in enumerate(v):
                for c, cell in enumerate(row):
                    t.cell(r, c).text = cell
                    if r == 0:
                        for run in t.cell(r, c).paragraphs[0].runs:
                            run.bold = True
            continue
        if not v.strip():
            continue
        p = doc.add_paragraph()
        run = p.add_run(v.strip())
        if i == 0:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
            run.font.size = Pt(22)
        elif i == 1 and re.search(r"〔\d{4}〕\d+号$", v.strip()):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif is_subtitle(v.strip()):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run.bold = True
        elif v.strip() in SIGNERS or re.match(r"^(二〇|20\d\d年)", v.strip()):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        else:
            p.paragraph_format.first_line_indent = Pt(32)
    fixed = dt.datetime(2025, 1, 1, 9, 0, 0)
    doc.core_properties.created = fixed
    doc.core_properties.modified = fixed
    doc.core_properties.last_printed = fixed
    doc.save(path)
    _fix_zip_times(path)


def _fix_zip_times(path: Path):
    """Rewrite the DOCX zip with fixed entry timestamps so re-running the build gives equal bytes."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            zi = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 9, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)


# ---------------------------------------------------------------------------
# PDF with a text layer
# ---------------------------------------------------------------------------
def make_pdf(text: str, path: Path, running: str):
    from fpdf import FPDF
    from fpdf.enums import WrapMode

    class Doc(FPDF):
        def header(self):
            if self.page_no() > 1:
                self.set_font("serif", size=9)
                self.cell(0, 6, running, align="C", new_x="LMARGIN", new_y="NEXT")
                self.ln(2)

        def footer(self):
            self.set_y(-15)
            self.set_font("serif", size=10)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = Doc(format="A4")
    pdf.set_margins(28, 25, 26)
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_font("serif", fname=NOTO_SERIF, collection_font_number=SC_INDEX)
    pdf.add_font("sans", fname=NOTO_SANS_BOLD, collection_font_number=SC_INDEX)
    pdf.set_title("")
    pdf.set_creator("WPS 文字")
    pdf.set_creation_date(dt.datetime(2025, 1, 1, 9, 0, 0, tzinfo=dt.timezone.utc))
    pdf.add_page()
    blocks = body_lines(text)
    for i, (kind, v) in enumerate(blocks):
        s = v.strip()
        if not s:
            pdf.ln(3)
            continue
        if i == 0:
            pdf.set_font("sans", size=17)
            pdf.multi_cell(0, 10, s, align="C", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
        elif re.search(r"〔\d{4}〕\d+号$", s) and i < 3:
            pdf.set_font("serif", size=13)
            pdf.multi_cell(0, 9, s, align="C", new_x="LMARGIN", new_y="NEXT")
        elif re.match(r"^第[一二三四五六七八九十]+章", s) or is_subtitle(s):
            pdf.set_font("sans", size=14)
            pdf.multi_cell(0, 9, s, align="C", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
        elif s in SIGNERS or re.match(r"^(二〇|20\d\d年)", s):
            pdf.set_font("serif", size=13)
            pdf.multi_cell(0, 8, s, align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("serif", size=13)
            pdf.multi_cell(0, 8, "　　" + s, align="L", wrapmode=WrapMode.CHAR, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


# ---------------------------------------------------------------------------
# scanned page (image only)
# ---------------------------------------------------------------------------
def make_scan(text: str, path: Path):
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    W, H = 2480, 3508  # A4 at 300 dpi
    img = Image.new("L", (W, H), 250)
    d = ImageDraw.Draw(img)
    f_title = ImageFont.truetype(NOTO_SANS_BOLD, 62, index=SC_INDEX)
    f_body = ImageFont.truetype(NOTO_SANS, 54, index=SC_INDEX)
    # red-header style banner of a 文件 (printed grey on a b/w scanner)
    d.text((W // 2, 260), "上海市人力资源和社会保障局文件", font=ImageFont.truetype(NOTO_SANS_BOLD, 96, index=SC_INDEX),
           fill=70, anchor="mm")
    d.line((220, 400, W - 220, 400), fill=70, width=6)
    left, right = 250, W - 250
    y = 470
    lines = [l for l in text.split("\n")]
    char_w = 56
    per_line = (right - left) // char_w
    for i, l in enumerate(lines):
        s = l.strip()
        if not s:
            y += 30
            continue
        if i == 0:
            # title over two centred lines
            cut = s.index("关于")
            parts = [s[:cut].strip()]
            rest = s[cut:]
            while rest:
                parts.append(rest[:30])
                rest = rest[30:]
            for part in parts:
                d.text((W // 2, y + 40), part, font=f_title, fill=20, anchor="mm")
                y += 95
            continue
        if re.search(r"〔\d{4}〕\d+号$", s):
            d.text((W // 2, y + 30), s, font=f_body, fill=20, anchor="mm")
            y += 90
            continue
        if s in SIGNERS or re.match(r"^20\d\d年", s):
            d.text((right, y), s, font=f_body, fill=20, anchor="ra")
            y += 80
            continue
        indent = 2 if not s.endswith("：") or i > 3 else 0
        first = True
        while s:
            n = per_line - (indent if first else 0)
            seg, s = s[:n], s[n:]
            x = left + (indent * char_w if first else 0)
            d.text((x, y), seg, font=f_body, fill=20)
            y += 84
            first = False
    # an official seal (ring) over the signature, as a grey shape
    d.ellipse((right - 560, y - 330, right - 200, y + 10), outline=205, width=7)
    img = img.rotate(rng.choice((-0.45, 0.35, 0.55)), resample=Image.BICUBIC, expand=False, fillcolor=250)
    # scanner noise: speckles and a faint blur
    px = img.load()
    for _ in range(5000):
        x, yy = rng.randrange(W), rng.randrange(H)
        px[x, yy] = rng.choice((0, 60, 120))
    return img.filter(ImageFilter.GaussianBlur(0.5))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    EVAL.mkdir(parents=True, exist_ok=True)
    gold = []
    for d in DOCS:
        text = (SRC / (d["src"] + ".txt")).read_text(encoding="utf-8")
        n = count_articles(text)
        assert n == d["article_count"], (d["src"], n, d["article_count"])
        assert text.split("\n")[0].strip() == d["title"], (d["src"], text.split("\n")[0])
        if d["doc_number"]:
            assert d["doc_number"] in text, d["src"]
        path = OUT / d["out"]
        form = d["form"]
        if form == "txt":
            path.write_text(plain(text), encoding="utf-8")
        elif form == "ocr":
            path.write_text(ocr_text(d["src"], text), encoding="utf-8")
        elif form == "html":
            path.write_text(html_page(d["src"], d, text), encoding="utf-8")
        elif form == "md":
            path.write_text(md_text(text), encoding="utf-8")
        elif form == "docx":
            make_docx(text, path)
        elif form == "pdf":
            make_pdf(text, path, running=d["title"][:30] if len(d["title"]) < 31 else d["doc_number"])
        elif form == "png":
            make_scan(text, path).save(path, dpi=(300, 300), optimize=True)
        elif form == "pdfimg":
            # image-only PDF: a scanned page with no text layer
            make_scan(text, path).convert("L").save(
                path, "PDF", resolution=300.0,
                creationDate=time.gmtime(1765447200), modDate=time.gmtime(1765447200))
        else:
            raise ValueError(form)
        row = {"source_file": f"policies/{d['out']}"}
        for k in ("title", "doc_number", "issuer", "level", "published", "effective", "expires", "status"):
            row[k] = d[k]
        row["status_as_of"] = "2026-11-29"
        row["article_count"] = d["article_count"]
        row["form"] = {"ocr": "txt-ocr", "pdfimg": "pdf-image-only", "png": "png-scan"}.get(form, form)
        if d.get("note"):
            row["note"] = d["note"]
        gold.append(row)
    with open(EVAL / "metadata_gold.part-a.jsonl", "w", encoding="utf-8") as f:
        for r in gold:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(gold)} policies")


if __name__ == "__main__":
    main()
