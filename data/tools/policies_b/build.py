#!/usr/bin/env python3
"""Build the 民政 / 残联 / 医保 / 档案 half of data/policies/ from the clean sources in src/.

The clean sources in src/ are hand-written (fictional but realistic Shanghai documents). This
script only changes their *form*: OCR-style text with page furniture, crawled HTML with site
chrome, DOCX with tables, a PDF with a text layer and a scanned PNG. It also writes
data/eval/metadata_gold.part-b.jsonl, with leaf-unit article counts computed from the clean sources.

Deterministic: fixed seeds, no network. Needs python-docx, fpdf2, pillow (pip) and the Debian
font fonts-wqy-zenhei. Run from anywhere:  python3 data/tools/policies_b/build.py
"""

from __future__ import annotations

import datetime as dt
import html
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
DATA = HERE.parent.parent
OUT = DATA / "policies"
EVAL = DATA / "eval"
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
AS_OF = "2026-11-29"

CN_NUM = "一二三四五六七八九十百零〇"
RE_TIAO = re.compile(rf"^第[{CN_NUM}]+条")
RE_TOP = re.compile(rf"^[{CN_NUM}]+、")
RE_SUB = re.compile(rf"^（[{CN_NUM}]+）")
# A wrapped OCR line must not start with something that looks like a new article or item,
# otherwise the gold article count would become ambiguous.
RE_BAD_START = re.compile(rf"^(第[{CN_NUM}]+[条章节]|[{CN_NUM}]+、|（[{CN_NUM}]+）|\d+[.．]|（\d+）)")


def article_count(text: str) -> tuple[int, str]:
    """Leaf article count of a clean source (the project's single rule, shared with part a).

    条-structured documents: the number of lines starting 第X条 (their （一） items are 项 and
    do not count). Notice-numbered documents: every （一） item under a top-level 一、 item, plus
    every top-level 一、 item that has no （一） children. This is what the QA gold cites
    ("二、（一）" or a childless "四、"), so one chunk per leaf unit is what retrieval should find.
    （一） lines before the first 一、 belong to no item and are not counted.
    """
    lines = [ln.strip() for ln in text.splitlines()]
    tiao = [ln for ln in lines if RE_TIAO.match(ln)]
    if tiao:
        return len(tiao), "第X条"
    n = 0
    children: int | None = None  # （一） items seen under the current 一、 item; None before the first
    for ln in lines:
        if RE_TOP.match(ln):
            if children == 0:
                n += 1
            children = 0
        elif RE_SUB.match(ln) and children is not None:
            children += 1
            n += 1
    if children == 0:
        n += 1
    return n, "叶子单位：一、下的（一）各计1，无（一）的一、计1"


# --------------------------------------------------------------------------------------------
# Gold metadata (hand-entered; article_count is filled in from the source)
# --------------------------------------------------------------------------------------------

MZ3 = "上海市民政局、上海市财政局、上海市人力资源和社会保障局"
DOCS = [
    # name, form, title, doc_number, issuer, level, published, effective, expires, status, supersedes, note
    ("mz-yanglao-butie-2019", "ocr.txt",
     "上海市民政局 上海市财政局关于印发《上海市养老服务补贴管理办法》的通知", "沪民规〔2019〕15号",
     "上海市民政局、上海市财政局", "规范性文件", "2019-11-20", "2020-01-01", "2024-12-31", "已废止", [],
     "印发通知包着办法：title 取通知标题；被沪民规〔2024〕9号废止。OCR 噪声：页眉文号、第N页共M页、硬换行、全角数字、曰/日 己/已 人/入"),
    ("mz-yanglao-butie-2024", "html",
     "上海市养老服务补贴管理办法", "沪民规〔2024〕9号",
     "上海市民政局、上海市财政局、上海市卫生健康委员会", "规范性文件", "2024-11-22", "2025-01-01", "2029-12-31", "现行有效",
     ["沪民规〔2019〕15号"], "页面信息栏另有发布日期2024-11-29，published 取成文日期；附件为补贴标准表（table）"),
    ("mz-yanglao-butie-jiedu", "md",
     "《上海市养老服务补贴管理办法》政策解读", None,
     "上海市民政局", "政策解读", "2024-11-29", None, None, "现行有效", [], None),
    ("mz-zhaohu-pinggu-banfa", "pdf",
     "上海市老年照护需求统一评估管理办法", "沪民规〔2023〕6号",
     "上海市民政局、上海市卫生健康委员会、上海市医疗保障局", "规范性文件", "2023-03-10", "2023-04-01", "2028-03-31", "现行有效", [],
     "PDF 文字层；页脚“- N -”"),
    ("mz-zhinei-bangkun-2018", "ocr.txt",
     "关于调整本市支援外地建设退休（职）回沪定居人员帮困补助政策的通知", "沪民规〔2018〕11号",
     MZ3, "规范性文件", "2018-06-12", "2018-07-01", "2023-06-30", "已废止", [],
     "被沪民规〔2023〕8号废止（且已过有效期）；OCR 噪声"),
    ("mz-zhinei-bangkun-2023", "docx",
     "关于进一步做好本市支援外地建设退休（职）回沪定居人员帮困补助工作的通知", "沪民规〔2023〕8号",
     MZ3, "规范性文件", "2023-06-20", "2023-07-01", "2028-06-30", "现行有效", ["沪民规〔2018〕11号"],
     "DOCX，附件为新旧标准对照表"),
    ("mz-zhinei-bangkun-xize", "txt",
     "本市支援外地建设退休（职）回沪定居人员帮困补助实施细则", "沪民救〔2023〕21号",
     "上海市民政局", "规范性文件", "2023-07-15", "2023-08-01", "2028-06-30", "现行有效", [], None),
    ("mz-shengu-yijianshi", "txt",
     "上海市“身故一件事”集成服务工作方案", "沪民发〔2024〕18号",
     "上海市民政局、上海市公安局、上海市卫生健康委员会、上海市人力资源和社会保障局、上海市医疗保障局、上海市残疾人联合会",
     "规范性文件", "2024-05-20", "2024-05-20", None, "现行有效", [], "“自印发之日起实施”：effective 取成文日期"),
    ("cl-jujia-yanghu-banfa", "ocr.txt",
     "上海市残疾人居家养护服务管理办法", "沪残联规〔2022〕3号",
     "上海市残疾人联合会、上海市民政局、上海市财政局", "规范性文件", "2022-08-15", "2022-10-01", "2027-09-30", "现行有效", [],
     "OCR 噪声：页眉、“— N —”页码、成文日期中“日”误为“曰”"),
    ("cl-zhongcan-wuye-jigou-yanghu", "md",
     "关于做好本市重残无业人员机构养护服务工作的通知", "沪残联规〔2021〕5号",
     "上海市残疾人联合会、上海市民政局", "规范性文件", "2021-07-26", "2021-09-01", "2026-12-31", "现行有效", [],
     "有效期至2026-12-31，as-of 日仍有效（边界）"),
    ("cl-kunnan-jigou-yanghu-butie", "docx",
     "上海市困难重度残疾人机构养护服务及补贴实施办法", "沪残联规〔2025〕2号",
     "上海市残疾人联合会、上海市民政局、上海市财政局", "规范性文件", "2025-03-18", "2025-05-01", "2030-04-30", "现行有效", [],
     "DOCX，附表为补贴标准表"),
    ("cl-canjirenzheng-zhinan", "html",
     "《中华人民共和国残疾人证》办理服务指南", None,
     "上海市残疾人联合会", "办事指南", "2025-09-01", None, None, "现行有效", [],
     "办事指南；含材料表（table）"),
    ("cl-ertong-kangfu-jiuzhu", "txt",
     "上海市残疾儿童康复救助实施办法", "沪残联规〔2023〕4号",
     "上海市残疾人联合会、上海市教育委员会、上海市民政局、上海市财政局、上海市卫生健康委员会、上海市医疗保障局",
     "规范性文件", "2023-11-30", "2024-01-01", "2028-12-31", "现行有效", [], None),
    ("cl-zhongcan-yibao-butie", "txt",
     "关于本市城乡重残居民医保人员医疗费补贴有关事项的通知", "沪残联规〔2022〕6号",
     "上海市残疾人联合会、上海市医疗保障局、上海市财政局", "规范性文件", "2022-06-08", "2022-07-01", "2027-06-30", "现行有效", [],
     None),
    ("cl-xinxi-taocan-2021", "txt",
     "关于开展视力障碍者信息消费套餐和听力言语残疾人信息卡套餐服务的通知", "沪残联规〔2021〕2号",
     "上海市残疾人联合会、上海市通信管理局", "规范性文件", "2021-01-25", "2021-03-01", "2023-12-31", "已失效", [],
     "有效期届满失效（未被明令废止）；后续文件为沪残联规〔2024〕1号"),
    ("cl-xinxi-taocan-2024", "md",
     "关于继续做好视力障碍者信息消费套餐和听力言语残疾人信息卡套餐服务的通知", "沪残联规〔2024〕1号",
     "上海市残疾人联合会、上海市通信管理局", "规范性文件", "2023-12-20", "2024-01-01", "2028-12-31", "现行有效", [],
     "提到沪残联规〔2021〕2号“已于2023年12月31日有效期届满”——接续而非废止，故 supersedes 为空"),
    ("cl-canjiren-fuwu-yijianshi", "txt",
     "上海市“残疾人服务一件事”工作方案", "沪残联发〔2024〕45号",
     "上海市残疾人联合会、上海市民政局、上海市医疗保障局、上海市人力资源和社会保障局", "规范性文件",
     "2024-09-27", "2024-09-27", None, "现行有效", [], "“自印发之日起实施”：effective 取成文日期"),
    ("cl-baozhangfa-shishi-banfa", "txt",
     "上海市实施《中华人民共和国残疾人保障法》办法", "上海市人民代表大会常务委员会公告〔十六届〕第二十一号",
     "上海市人民代表大会常务委员会", "地方性法规", "2024-10-24", "2025-03-01", None, "现行有效", [],
     "地方性法规，条文不带条标题（“第一条 为了……”）"),
    ("yb-gongji-shishi-banfa", "txt",
     "上海市职工基本医疗保险个人账户家庭共济实施办法", "沪医保规〔2025〕3号",
     "上海市医疗保障局、上海市财政局", "规范性文件", "2025-04-22", "2025-06-01", "2030-05-31", "现行有效", [], None),
    ("yb-gongji-caozuo-koujing", "md",
     "职工医保个人账户家庭共济受理操作口径", None,
     "上海市医疗保险事业管理中心", "办事指南", "2025-05-20", None, None, "现行有效", [],
     "经办口径，按办事指南计；正文引用沪医保规〔2025〕3号但自身无文号"),
    ("yb-changhu-banfa-2021", "txt",
     "上海市长期护理保险办法", "上海市人民政府令第49号",
     "上海市人民政府", "政府规章", "2021-12-30", "2022-01-01", "2026-12-31", "现行有效", [],
     "将被上海市人民政府令第31号（2027-01-01施行）废止；as-of 2026-11-29 仍现行有效"),
    ("yb-changhu-banfa-2027", "pdf",
     "上海市长期护理保险办法", "上海市人民政府令第31号",
     "上海市人民政府", "政府规章", "2026-10-20", "2027-01-01", "2031-12-31", "尚未生效", ["上海市人民政府令第49号"],
     "与旧版同名，只能靠文号区分；PDF 文字层"),
    ("yb-changhu-dengji-chaxun", "md",
     "长期护理保险登记查询（住址）（街道）功能使用口径", None,
     "上海市医疗保险事业管理中心", "办事指南", "2025-10-10", None, None, "现行有效", [], None),
    ("yb-baoxiao-yijianshi", "txt",
     "上海市“医保报销一件事”工作方案", "沪医保发〔2025〕21号",
     "上海市医疗保障局、上海市民政局、上海市财政局", "规范性文件", "2025-06-16", "2025-07-01", None, "现行有效", [],
     "“自2025年7月1日起实施”"),
    ("da-lihun-susong-chaxun", "txt",
     "关于开展离婚诉讼文书电子档案社区查询服务的通知", "沪档发〔2025〕9号",
     "上海市档案局、上海市高级人民法院", "规范性文件", "2025-07-08", "2025-08-01", "2030-07-31", "现行有效", [],
     "施行条款在“六、（三）”中"),
    ("da-siwang-zhengming-chaxun", "png",
     "死亡医学证明档案查询办事指南", None,
     "上海市档案馆", "办事指南", "2025-09-15", None, None, "现行有效", [],
     "扫描图像（300dpi，轻微旋转和噪点），需 OCR"),
]

# `form` labels in the gold use part a's vocabulary, so the merged file has one set of values.
GOLD_FORM = {"ocr.txt": "txt-ocr", "png": "png-scan"}

EXT = {"ocr.txt": "txt", "txt": "txt", "md": "md", "html": "html", "docx": "docx", "pdf": "pdf", "png": "png"}

# --------------------------------------------------------------------------------------------
# Tables carried by some documents (the clean sources only name the 附件)
# --------------------------------------------------------------------------------------------

TABLES = {
    "mz-yanglao-butie-2024": ("附件：上海市养老服务补贴标准表（单位：元/人·月）", [
        ["照护等级", "月度基准标准", "城乡低保家庭（100%）", "低收入困难家庭（80%）", "其他符合条件老年人（50%）"],
        ["照护二级、三级（居家社区）", "400", "400", "320", "200"],
        ["照护四级（居家社区）", "500", "500", "400", "250"],
        ["照护五级、六级（居家社区）", "650", "650", "520", "325"],
        ["照护四级至六级（机构照护）", "700", "900", "700", "700"],
    ]),
    "cl-canjirenzheng-zhinan": ("各类业务所需材料", [
        ["业务类型", "所需材料", "是否需要残疾评定"],
        ["初次申领", "居民身份证或户口簿；近期一寸白底免冠彩色照片2张；《残疾人证申请表》；监护人代办的提供监护关系证明", "是"],
        ["换证（有效期届满、类别等级变化）", "原残疾人证；居民身份证；近期一寸照片2张", "是"],
        ["换证（损坏、遗失）", "居民身份证；近期一寸照片2张；损坏的交回原证，遗失的填写《残疾人证遗失说明》", "否"],
        ["关系迁出本市", "残疾人证；居民身份证；户籍迁移证明", "否"],
        ["注销", "残疾人证（遗失的填写遗失说明）；经办人身份证；因死亡注销的提供死亡证明", "否"],
    ]),
    "mz-zhinei-bangkun-2023": ("帮困补助标准对照表", [
        ["项目", "原规定（沪民规〔2018〕11号）", "本通知"],
        ["保障线", "每月3300元", "每月4200元"],
        ["高龄补贴（80周岁以上）", "无", "每月200元"],
        ["受理地点", "户籍所在地受理中心", "本市任一受理中心（全市通办）"],
        ["审核时限", "街道15个工作日，区10个工作日", "街道10个工作日，区5个工作日"],
        ["发放起始", "批准的次月", "申请的次月"],
        ["年度证明", "每年一次", "每年3月31日前提交上一年度任一月份证明"],
    ]),
    "cl-kunnan-jigou-yanghu-butie": ("困难重度残疾人机构养护服务补贴标准", [
        ["残疾类别和等级", "照护需求", "补贴标准（元/人·月）"],
        ["一级肢体、视力、多重残疾", "全护理", "2600"],
        ["一级、二级智力、精神残疾", "全护理", "2600"],
        ["二级肢体、视力、听力、言语残疾", "半护理", "2000"],
        ["三级智力、精神残疾", "半护理", "1800"],
    ]),
}

# --------------------------------------------------------------------------------------------
# OCR-style text
# --------------------------------------------------------------------------------------------

OCR_SETTINGS = {
    "mz-yanglao-butie-2019": dict(
        header="沪民规〔2019〕15号", footer="第 {n} 页 共 {m} 页", width=31, lines=30, fw=1.0,
        fixes=[("日起施行", "曰起施行"), ("已经完成", "己经完成"), ("入住本市养老机构", "人住本市养老机构")]),
    "mz-zhinei-bangkun-2018": dict(
        header="上海市民政局规范性文件", footer="第 {n} 页 共 {m} 页", width=29, lines=28, fw=0.6,
        fixes=[("已经享受", "己经享受"), ("7月1日起施行", "7月1曰起施行"), ("在30日内", "在30曰内")]),
    "cl-jujia-yanghu-banfa": dict(
        header="上海市残疾人联合会　规范性文件", footer="— {n} —", width=33, lines=32, fw=0.3,
        fixes=[("已经按照", "己经按照"), ("八月十五日", "八月十五曰")]),
}

FW = str.maketrans("0123456789", "０１２３４５６７８９")


def wrap(line: str, width: int) -> list[str]:
    out = []
    while len(line) > width:
        cut = width
        # never let the continuation start like a new article / item
        while cut > width - 6 and RE_BAD_START.match(line[cut:]):
            cut -= 1
        out.append(line[:cut])
        line = line[cut:]
    out.append(line)
    return out


def ocrify(name: str, text: str) -> str:
    cfg = OCR_SETTINGS[name]
    rng = random.Random(f"ocr-{name}")
    for old, new in cfg["fixes"]:
        assert old in text, (name, old)
        text = text.replace(old, new, 1)
    body: list[str] = []
    for para in text.splitlines():
        para = para.strip()
        if not para:
            continue
        if rng.random() < cfg["fw"]:
            para = para.translate(FW)
        body.extend(wrap(para, cfg["width"]))
    per = cfg["lines"]
    pages = [body[i:i + per] for i in range(0, len(body), per)]
    m = len(pages)
    out = []
    for n, page in enumerate(pages, 1):
        if n > 1:
            out.append(cfg["header"])
            out.append("")
        out.extend(page)
        out.append("")
        out.append(cfg["footer"].format(n=n, m=m))
        out.append("\f" if n < m else "")
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

def to_md(text: str) -> str:
    lines = text.splitlines()
    out = [f"# {lines[0].strip()}", ""]
    for ln in lines[1:]:
        s = ln.strip()
        if RE_TOP.match(s) and len(s) <= 20:
            out.append(f"## {s}")
        else:
            out.append(s)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"


# --------------------------------------------------------------------------------------------
# HTML with site chrome
# --------------------------------------------------------------------------------------------

SITES = {
    "mz": dict(name="上海市民政局", host="mzj.sh.gov.cn", icp="沪ICP备20008541号-1",
               police="沪公网安备 31010102004417号", code="3100000031",
               addr="地址：上海市黄浦区某某路200号　邮编：200003",
               nav=["首页", "机构概况", "政务公开", "政务服务", "互动交流", "专题专栏"],
               crumbs=["首页", "政务公开", "政策文件", "规范性文件"],
               side=["上海市养老服务补贴管理办法政策解读", "上海市老年照护需求统一评估管理办法",
                     "关于进一步做好本市支援外地建设退休（职）回沪定居人员帮困补助工作的通知"]),
    "cl": dict(name="上海市残疾人联合会", host="shdisabled.gov.cn", icp="沪ICP备05016788号-1",
               police="沪公网安备 31010602003265号", code="3100000107",
               addr="地址：上海市静安区某某路1500号　邮编：200041",
               nav=["首页", "残联概况", "政务公开", "办事服务", "康复服务", "无障碍"],
               crumbs=["首页", "办事服务", "办事指南", "残疾人证"],
               side=["残疾评定预约日期查询、变更", "上海市残疾人居家养护服务管理办法",
                     "上海市“残疾人服务一件事”工作方案"]),
}


def body_html(text: str) -> tuple[str, list[str]]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = lines[0]
    parts = []
    for ln in lines[1:]:
        e = html.escape(ln)
        if RE_TIAO.match(ln):
            m = re.match(rf"^(第[{CN_NUM}]+条(?:（[^）]*）)?)(.*)$", ln)
            parts.append(f'<p class="tiao"><strong>{html.escape(m.group(1))}</strong>{html.escape(m.group(2))}</p>')
        elif RE_TOP.match(ln) and len(ln) <= 20:
            parts.append(f"<h3>{e}</h3>")
        elif re.match(r"^沪.+〔\d{4}〕\d+号$", ln):
            parts.append(f'<p class="wh" style="text-align:center">{e}</p>')
        else:
            parts.append(f"<p>{e}</p>")
    return title, parts


def table_html(caption: str, rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "\n".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    return (f'<p class="fj"><strong>{html.escape(caption)}</strong></p>\n'
            f'<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="4" width="100%">\n'
            f"<tbody>\n<tr>{head}</tr>\n{body}\n</tbody>\n</table>")


def to_html(name: str, text: str, meta: dict) -> str:
    site = SITES[name[:2]]
    title, parts = body_html(text)
    # the 附件 table: after 第六条 for the 办法, at the 所需材料 item for the 指南
    cap, rows = TABLES[name]
    tbl = table_html(cap, rows)
    if name.startswith("mz-"):
        parts.append(tbl)
    else:
        idx = next(i for i, p in enumerate(parts) if "七、所需材料" in p)
        parts.insert(idx + 2, tbl)
    nav = "".join(f'<li><a href="https://{site["host"]}/{i}/">{n}</a></li>' for i, n in enumerate(site["nav"]))
    crumbs = " &gt; ".join(f'<a href="https://{site["host"]}/c{i}/">{c}</a>' for i, c in enumerate(site["crumbs"]))
    side = "".join(f'<li><a href="https://{site["host"]}/xg/{i}.html" title="{s}">{s}</a></li>'
                   for i, s in enumerate(site["side"]))
    pub = meta["published"]
    fabu = "2024-11-29" if name.startswith("mz-") else pub
    info = (f'<table class="xxgk_table"><tr><td>索引号：</td><td>SH{name[:2].upper()}-{pub[:4]}-0{len(text) % 900 + 100}</td>'
            f'<td>主题分类：</td><td>{"社会保障/养老服务" if name.startswith("mz-") else "残疾人事业/办事指南"}</td></tr>'
            f'<tr><td>发文机关：</td><td>{meta["issuer"]}</td><td>发文字号：</td><td>{meta["doc_number"] or ""}</td></tr>'
            f'<tr><td>成文日期：</td><td>{pub}</td><td>发布日期：</td><td>{fabu}</td></tr></table>')
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<meta name="SiteName" content="{site['name']}">
<meta name="SiteDomain" content="{site['host']}">
<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{fabu} 10:30">
<title>{html.escape(title)}_{site['name']}</title>
<link rel="stylesheet" href="/assets/css/common.css">
<script src="/assets/js/jquery-1.12.4.min.js"></script>
<script>
  var _hmt = _hmt || [];
  (function() {{ var hm = document.createElement("script"); hm.src = "https://tongji.example.gov.cn/hm.js?a81c"; 
    var s = document.getElementsByTagName("script")[0]; s.parentNode.insertBefore(hm, s); }})();
  function doZoom(size) {{ document.getElementById('ivs_content').style.fontSize = size + 'px'; }}
</script>
</head>
<body>
<div class="top-bar"><div class="w1200"><span>欢迎访问{site['name']}网站</span>
<a href="javascript:void(0)" id="wza">无障碍浏览</a> | <a href="https://{site['host']}/en/">English</a> | <a href="https://zwdt.sh.gov.cn/">一网通办</a></div></div>
<div class="header"><div class="w1200"><a href="https://{site['host']}/" class="logo"><img src="/assets/img/logo.png" alt="{site['name']}"></a>
<form class="search" action="/search"><input type="text" name="q" placeholder="请输入关键字"><button type="submit">搜索</button></form></div></div>
<div class="nav"><ul class="w1200">{nav}</ul></div>
<div class="w1200 main">
<div class="crumbs">当前位置：{crumbs} &gt; 正文</div>
<div class="left-content">
{info}
<div class="article">
<h1 id="ivs_title">{html.escape(title)}</h1>
<div class="article-tools">发布时间：{fabu}　来源：{site['name']}　字号：<a href="javascript:doZoom(18)">大</a> <a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(14)">小</a>　<a href="javascript:window.print()">打印本页</a>　<a href="javascript:window.close()">关闭窗口</a></div>
<div id="ivs_content" class="Custom_UnionStyle">
{chr(10).join(parts)}
</div>
<div class="share">分享到：<a href="#" class="wx">微信</a> <a href="#" class="wb">微博</a></div>
</div>
</div>
<div class="sidebar">
<div class="side-box"><h4>相关文件</h4><ul>{side}</ul></div>
<div class="side-box"><h4>热点服务</h4><ul><li><a href="https://zwdt.sh.gov.cn/">一网通办</a></li><li><a href="https://{site['host']}/hdjl/">我要咨询</a></li><li><a href="https://{site['host']}/xxgk/">政府信息公开</a></li></ul></div>
</div>
</div>
<div class="footer"><div class="w1200">
<p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a> | <a href="/yssm/">隐私声明</a></p>
<p>主办单位：{site['name']}　{site['addr']}</p>
<p><a href="https://beian.miit.gov.cn/" target="_blank">{site['icp']}</a>　{site['police']}　网站标识码：{site['code']}</p>
<p>建议使用1920×1080分辨率浏览本网站</p>
</div></div>
<script src="/assets/js/common.js"></script>
<script>$(function(){{ $('.nav li').hover(function(){{ $(this).addClass('on'); }}, function(){{ $(this).removeClass('on'); }}); }});</script>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------

def to_docx(name: str, text: str, path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    st = doc.styles["Normal"]
    st.font.name = "仿宋_GB2312"
    st.font.size = Pt(14)
    st.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = p.add_run(lines[0])
    r.bold = True
    r.font.size = Pt(20)
    p = doc.add_paragraph(lines[1])
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tail_start = len(lines)
    # signature block: trailing issuer lines and date
    for i in range(len(lines) - 1, 1, -1):
        if lines[i].startswith("上海市") or re.search(r"[〇一二三四五六七八九]{4}年", lines[i]):
            tail_start = i
        else:
            break
    for ln in lines[2:tail_start]:
        para = doc.add_paragraph(ln)
        if RE_TIAO.match(ln) or (RE_TOP.match(ln) and len(ln) <= 20):
            for run in para.runs:
                run.bold = True
    for ln in lines[tail_start:]:
        para = doc.add_paragraph(ln)
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    cap, rows = TABLES[name]
    doc.add_page_break()
    doc.add_paragraph("附件" if name.startswith("mz-") else "附表")
    p = doc.add_paragraph(cap)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    t = doc.add_table(rows=len(rows), cols=len(rows[0]))
    t.style = "Table Grid"
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            t.cell(i, j).text = cell
    fixed = dt.datetime(2026, 11, 1, 9, 0, 0)
    doc.core_properties.created = fixed
    doc.core_properties.modified = fixed
    doc.core_properties.last_modified_by = "办公室"
    doc.core_properties.revision = 1
    doc.core_properties.author = "办公室"
    doc.core_properties.title = lines[0]
    doc.save(path)
    _normalise_zip(path)


def _normalise_zip(path: Path) -> None:
    """Rewrite the DOCX zip with fixed entry timestamps so rebuilds are byte-identical."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for fname, data in entries:
            info = zipfile.ZipInfo(fname, date_time=(2026, 11, 1, 9, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)


# --------------------------------------------------------------------------------------------
# PDF with a text layer
# --------------------------------------------------------------------------------------------

def to_pdf(name: str, text: str, path: Path) -> None:
    from fpdf import FPDF

    class Doc(FPDF):
        def footer(self) -> None:  # page furniture, as printed documents have it
            self.set_y(-18)
            self.set_font("wqy", size=10)
            self.cell(0, 8, f"- {self.page_no()} -", align="C")

    pdf = Doc(format="A4")
    pdf.set_margins(26, 28, 26)
    pdf.set_auto_page_break(True, margin=24)
    pdf.add_font("wqy", fname=FONT, collection_font_number=0)
    pdf.set_creator("WPS 文字")
    pdf.set_creation_date(dt.datetime(2026, 11, 1, 9, 0, 0, tzinfo=dt.timezone.utc))
    pdf.set_title(text.splitlines()[0])
    pdf.add_page()
    lines = [ln.strip() for ln in text.splitlines()]
    pdf.set_font("wqy", size=18)
    pdf.multi_cell(0, 11, lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("wqy", size=12)
    pdf.ln(2)
    for ln in lines[1:]:
        if not ln:
            pdf.ln(2)
            continue
        if re.match(r"^(沪.+〔\d{4}〕\d+号|上海市人民政府令第.+号)$", ln) or re.match(rf"^第[{CN_NUM}]+章", ln):
            pdf.multi_cell(0, 8, ln, align="C", new_x="LMARGIN", new_y="NEXT")
        elif ln in ("市长",) or re.match(r"^\d{4}年\d+月\d+日$", ln) or (ln.startswith("上海市") and len(ln) <= 14 and not ln.endswith("办法")):
            pdf.multi_cell(0, 8, ln, align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.multi_cell(0, 8, ln, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


# --------------------------------------------------------------------------------------------
# Scanned page (PNG, ~300 dpi)
# --------------------------------------------------------------------------------------------

def to_png(name: str, text: str, path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    rng = random.Random(f"scan-{name}")
    w, h = 2480, 3508  # A4 at 300 dpi
    img = Image.new("L", (w, h), 250)
    d = ImageDraw.Draw(img)
    f_title = ImageFont.truetype(FONT, 76, index=0)
    f_body = ImageFont.truetype(FONT, 62, index=0)
    left, right, y = 260, w - 260, 300
    lines = [ln.strip() for ln in text.splitlines()]
    tw = d.textlength(lines[0], font=f_title)
    d.text(((w - tw) / 2, y), lines[0], font=f_title, fill=20)
    y += 170
    for ln in lines[1:]:
        if not ln:
            y += 30
            continue
        if ln.startswith("上海市档案馆") or re.match(r"^\d{4}年", ln):
            lw = d.textlength(ln, font=f_body)
            d.text((right - lw, y), ln, font=f_body, fill=25)
            y += 88
            continue
        indent = 0 if RE_TOP.match(ln) else 108
        cur = ""
        x0 = left + indent
        for ch in ln:
            if d.textlength(cur + ch, font=f_body) > right - x0:
                d.text((x0, y), cur, font=f_body, fill=rng.randint(15, 40))
                y += 88
                cur, x0 = "", left
            cur += ch
        d.text((x0, y), cur, font=f_body, fill=rng.randint(15, 40))
        y += 88
    assert y < h - 200, "scan must stay one page"
    # scanner artefacts: slight rotation, speckle noise, blur, uneven border
    img = img.rotate(0.8, resample=Image.BICUBIC, expand=False, fillcolor=235)
    px = img.load()
    for _ in range(9000):
        x, yy = rng.randrange(w), rng.randrange(h)
        px[x, yy] = rng.choice((90, 140, 200))
    img = img.filter(ImageFilter.GaussianBlur(0.3))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, 18], fill=200)
    img.save(path, dpi=(300, 300))


# --------------------------------------------------------------------------------------------

def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    EVAL.mkdir(parents=True, exist_ok=True)
    gold = []
    for (name, form, title, docno, issuer, level, pub, eff, exp, status, sup, note) in DOCS:
        text = (SRC / f"{name}.txt").read_text(encoding="utf-8")
        n, rule = article_count(text)
        out = OUT / f"{name}.{EXT[form]}"
        meta = dict(title=title, doc_number=docno, issuer=issuer, published=pub)
        if form == "txt":
            out.write_text(text, encoding="utf-8")
        elif form == "ocr.txt":
            out.write_text(ocrify(name, text), encoding="utf-8")
        elif form == "md":
            out.write_text(to_md(text), encoding="utf-8")
        elif form == "html":
            out.write_text(to_html(name, text, meta), encoding="utf-8")
        elif form == "docx":
            to_docx(name, text, out)
        elif form == "pdf":
            to_pdf(name, text, out)
        elif form == "png":
            to_png(name, text, out)
        row = {
            "source_file": f"policies/{out.name}", "title": title, "doc_number": docno, "issuer": issuer,
            "level": level, "published": pub, "effective": eff, "expires": exp, "status": status,
            "status_as_of": AS_OF, "article_count": n, "supersedes": sup, "form": GOLD_FORM.get(form, form),
        }
        notes = [f"article_count rule: {rule}"]
        if note:
            notes.append(note)
        row["note"] = "；".join(notes)
        gold.append(row)
        print(f"{out.name:45s} {form:8s} {n:3d} {rule}")
    with open(EVAL / "metadata_gold.part-b.jsonl", "w", encoding="utf-8") as f:
        for row in gold:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(gold)} documents, gold written")


if __name__ == "__main__":
    main()
