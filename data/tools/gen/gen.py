#!/usr/bin/env python3
"""Deterministic generator for data/guides, data/cases and data/catalog.

Usage (from anywhere):  python3 data/tools/gen/gen.py
Python 3 standard library only. Every section uses its own random.Random with
a fixed seed, so the outputs are byte-identical on every run. The hand-written
inputs live beside this file (matters.py, materials.py, hand_guides_*.py,
hand_cases.py, frags_*.py); the generator lays them out and expands the rest.
"""

import csv
import sys
sys.dont_write_bytecode = True  # keep the data folder free of __pycache__
import datetime as dt
import io
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DATA = os.path.normpath(os.path.join(HERE, "..", ".."))

import matters as M  # noqa: E402
import materials as MAT  # noqa: E402
import frags_guides as FG  # noqa: E402
import util as U  # noqa: E402
import hand_guides_a  # noqa: E402
import hand_guides_b  # noqa: E402,F401
import hand_guides_c  # noqa: E402,F401
import hand_guides_d  # noqa: E402,F401

SEED = 20260315
REF_DATE = dt.date(2026, 3, 15)


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def fill(template, **kw):
    s = template.format(**kw)
    assert "{" not in s and "}" not in s, s
    return s


# --------------------------------------------------------------------------- matters
def build_matters():
    ms = M.load()
    for m in ms:
        m["guide_url"] = "https://zwdt.sh.gov.cn/govPortals/bsfw/item/" + U.stable_hex("guide:" + m["code"])
    return ms


STOP_BIGRAMS = {"申请", "请表", "服务", "补贴", "贴申", "证明", "登记", "信息", "人员", "审批", "批表", "情况", "说明",
                "本市", "上海", "海市", "申领", "领表", "查询", "变更", "助申", "理申", "费用", "关系", "凭证", "社会", "会保", "保险", "残疾", "疾人", "居住", "住证"}


EXTRA_NEEDS = {
    "本人银行借记卡": ("补贴", "补助", "津贴", "金", "报销", "奖励", "救助", "待遇", "保障", "提取"),
    "用人单位退工证明": ("失业",), "劳动合同": ("就业", "补贴", "失业"),
    "医疗费用发票": ("报销", "医疗", "大病", "住院", "互助", "救助"), "门急诊病历": ("报销", "医疗", "大病"),
    "出院小结": ("报销", "住院", "互助", "大病"), "医疗费用明细清单": ("报销", "医疗"),
    "老年照护需求统一评估报告": ("养老", "照护", "护理"), "家庭经济状况核对授权书": ("救助", "低保", "低收入", "困难", "住房", "帮"),
}


def bigrams(text):
    text = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    return {text[i:i + 2] for i in range(len(text) - 1)} - STOP_BIGRAMS


def form_base(name):
    base = name.replace("《", "").replace("》", "")
    for suffix in ("申请", "申领"):
        if base.endswith(suffix) and len(base) > len(suffix) + 2:
            base = base[: -len(suffix)]
            break
    return base


# --------------------------------------------------------------------------- materials
def build_materials(ms):
    rng = random.Random(SEED + 1)
    common = MAT.parse_block(MAT.COMMON)
    by_name = {}
    mats = []

    def add(rec):
        assert rec["name"] not in by_name, rec["name"]
        rec["matter_codes"] = []
        by_name[rec["name"]] = rec
        mats.append(rec)
        return rec

    for rec in common:
        add(rec)
    dept_pool = {}
    for d, block in MAT.DEPT.items():
        dept_pool[d] = [add(r)["name"] for r in MAT.parse_block(block)]

    per_matter = {}
    per_situation = {}
    for m in ms:
        base = form_base(m["name"])
        title = f"《{base}申请表》"
        forms = [
            {"name": title, "source_department": m["department"], "exemption": MAT.EXEMPT["原"],
             "sample": fill(rng.choice(MAT.FORM_SAMPLES), title=title)},
            {"name": f"{base}告知承诺书", "source_department": m["department"], "exemption": MAT.EXEMPT["原"],
             "sample": rng.choice(MAT.PROMISE_SAMPLES)},
            {"name": f"{base}授权委托书", "source_department": m["department"], "exemption": MAT.EXEMPT["缺"],
             "sample": rng.choice(MAT.PROXY_SAMPLES)},
        ]
        names = ["居民身份证"]
        for f in forms:
            names.append(add(f)["name"])
        pool = dept_pool.get(m["dept_code"], [])
        ctx = bigrams(m["name"] + "".join(m["keywords"]) + "".join(m["aliases"]) + "".join(m["situations"]))
        scored = sorted(((len(bigrams(n) & ctx), i, n) for i, n in enumerate(pool)), reverse=True)
        top = scored[0][0] if scored else 0
        good = [n for sc, _i, n in scored[:2] if sc >= (3 if n.endswith("表") else 2) and sc >= top - 1]
        if m["code"] in MAT.MATTER_EVIDENCE:
            good = list(MAT.MATTER_EVIDENCE[m["code"]])
        names += good
        extra = [x for x in FG.COMMON_EXTRA.get(m["dept_code"], [])
                 if not EXTRA_NEEDS.get(x) or any(k in m["name"] for k in EXTRA_NEEDS[x])]
        k = rng.randint(0, 2)
        if m["code"] not in MAT.MATTER_EVIDENCE:
            names += rng.sample(extra, min(len(extra), k))
        # dedupe, keep order
        seen = []
        for n in names:
            if n not in seen:
                seen.append(n)
        per_matter[m["code"]] = seen
        if len(m["situations"]) > 1:
            for sit in m["situations"]:
                rec = add({"name": f"{sit}情况说明", "source_department": "申请人自备",
                           "exemption": MAT.EXEMPT["缺"], "sample": rng.choice(MAT.NOTE_SAMPLES)})
                per_situation[(m["code"], sit)] = rec["name"]
    for code, names in per_matter.items():
        for n in names:
            by_name[n]["matter_codes"].append(code)
    for (code, _sit), n in per_situation.items():
        by_name[n]["matter_codes"].append(code)
    for i, rec in enumerate(mats, 1):
        rec["material_id"] = f"CL-{i:06d}"
    # materials nobody uses get attached to the matters of their source department
    dept_of = {v: k for k, v in M.DEPARTMENTS.items()}
    for rec in mats:
        if not rec["matter_codes"]:
            d = dept_of.get(rec["source_department"])
            cands = [m["code"] for m in ms if m["dept_code"] == d] or [m["code"] for m in ms]
            rec["matter_codes"] = sorted(rng.sample(cands, min(2, len(cands))))
    return mats, by_name, per_matter, per_situation


# --------------------------------------------------------------------------- guides
FIELD_VALUES = {
    "失业原因": lambda r: r.choice(["劳动合同期满终止", "用人单位解除劳动合同", "用人单位经济性裁员"]),
    "参保起始年月": lambda r: f"2026-{r.randint(1, 4):02d}",
    "制卡照片来源": lambda r: r.choice(["现场拍照", "调用已有照片"]),
    "领卡方式": lambda r: r.choice(["受理中心领取", "邮寄到家"]),
    "查询起止日期": lambda r: f"2025-{r.randint(1, 6):02d}-01 至 2025-12-31",
    "开始月份": lambda r: f"2026-{r.randint(1, 4):02d}",
    "就业单位名称": lambda r: r.choice(["上海某物流有限公司（虚构）", "上海某餐饮管理有限公司（虚构）", "某物业服务有限公司（虚构）"]),
    "月工资收入": lambda r: f"{r.randrange(4800, 12000, 100)}元",
    "失业时间": lambda r: f"2026-{r.randint(1, 3):02d}-{r.randint(1, 28):02d}",
    "发放银行账户": lambda r: "申请人本人社会保障卡金融账户",
    "联系电话": lambda r: "测试手机号（见上）",
    "通讯地址（路名库选择）": lambda r: "路名库中选择的标准路名，门牌号为虚构",
    "学历": lambda r: r.choice(["高中", "中专", "大专", "本科"]),
    "求职意向": lambda r: r.choice(["保洁", "仓储物流", "餐饮服务", "行政文员", "保安"]),
    "参保类型": lambda r: r.choice(["职工医保", "城乡居民医保"]),
    "费用类型": lambda r: r.choice(["门急诊", "住院"]),
    "就诊医疗机构": lambda r: r.choice(["某区中心医院（虚构）", "某社区卫生服务中心（虚构）"]),
    "发票号码": lambda r: f"测试发票{r.randint(10000000, 99999999)}",
    "报销银行账户": lambda r: "申请人本人社会保障卡金融账户",
    "居住地址": lambda r: "本市某区某路（虚构门牌）",
    "家庭人口数": lambda r: f"{r.randint(1, 4)}人",
    "与户主关系": lambda r: r.choice(["本人", "配偶", "子女"]),
    "月收入": lambda r: f"{r.randrange(800, 3000, 50)}元",
    "居住地址（路名库选择）": lambda r: "路名库中选择的标准路名，门牌号为虚构",
    "服务方式": lambda r: r.choice(["居家", "社区", "机构"]),
    "紧急联系人": lambda r: "子女（虚构）",
    "申请原因": lambda r: r.choice(["因病支出较大", "家庭成员失业", "年老体弱"]),
    "残疾类别": lambda r: r.choice(["肢体", "视力", "听力", "智力", "精神"]),
    "残疾等级": lambda r: r.choice(["一级", "二级", "三级", "四级"]),
    "监护人姓名": lambda r: "测试监护人（虚构）",
    "服务机构": lambda r: "某街道服务机构（虚构）",
    "申请日期": lambda r: "受理当日",
    "居住事由": lambda r: r.choice(["务工", "经商", "投靠亲属"]),
    "房屋性质": lambda r: r.choice(["租赁", "单位宿舍", "自购"]),
    "工作单位": lambda r: "某有限公司（虚构）",
    "入住日期": lambda r: f"2026-{r.randint(1, 3):02d}-{r.randint(1, 28):02d}",
    "档案当事人姓名": lambda r: "与申请人一致",
    "查询年份区间": lambda r: f"{r.randint(1995, 2015)}—{r.randint(2016, 2024)}",
    "档案形成单位": lambda r: "某区相关机关（虚构）",
    "查询用途": lambda r: r.choice(["办理继承", "办理户籍", "办理房产"]),
    "出具方式": lambda r: r.choice(["纸质出具", "电子件推送"]),
    "婴幼儿或服务对象姓名": lambda r: "测试婴幼儿（虚构）",
    "出生日期": lambda r: f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    "监护人关系": lambda r: r.choice(["父亲", "母亲"]),
    "预约日期": lambda r: f"2026-04-{r.randint(1, 28):02d}",
    "子女姓名": lambda r: "测试子女（虚构）",
    "子女出生日期": lambda r: f"{r.randint(1980, 2000)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
    "光荣证编号": lambda r: f"测试{r.randint(100000, 999999)}",
    "发放方式": lambda r: "本人银行账户",
    "家庭成员": lambda r: f"{r.randint(1, 4)}人",
    "现住房情况": lambda r: r.choice(["无自有住房", "租赁公房"]),
    "家庭年收入": lambda r: f"{r.randrange(30000, 120000, 1000)}元",
    "申请房源区域": lambda r: r.choice(["浦东新区", "闵行区", "宝山区"]),
    "租赁合同编号": lambda r: f"测试{r.randint(10000000, 99999999)}",
    "公积金账号": lambda r: f"测试{r.randint(100000000, 999999999)}",
    "提取原因": lambda r: "租赁住房",
    "收款银行账户": lambda r: "申请人本人借记卡",
    "入伍时间": lambda r: f"{r.randint(1985, 2015)}-{r.randint(1, 12):02d}",
    "退役时间": lambda r: f"{r.randint(1990, 2022)}-{r.randint(1, 12):02d}",
    "部队代号（脱敏）": lambda r: "××部队",
    "优抚类别": lambda r: r.choice(["伤残军人", "在乡复员军人", "烈士遗属"]),
    "缴费档次": lambda r: r.choice(["一档", "三档", "五档"]),
    "所属期": lambda r: "2026年度",
    "缴费方式": lambda r: r.choice(["银行代扣", "随申办缴费"]),
    "会员编号": lambda r: f"测试{r.randint(1000000, 9999999)}",
    "住院日期": lambda r: f"2026-{r.randint(1, 3):02d}-{r.randint(1, 28):02d}",
    "疾病名称": lambda r: r.choice(["肺炎", "骨折", "冠心病"]),
    "案件类型": lambda r: r.choice(["劳动报酬", "赡养纠纷", "工伤赔偿"]),
    "对方当事人": lambda r: "某公司（虚构）",
    "经济状况说明": lambda r: "低收入家庭（虚构）",
}

EXPECT = [
    "准入判断通过，提交后生成受理编号，办件状态为“已受理”。",
    "系统校验全部通过，办件推送条线后状态为“条线已接收”。",
    "提交成功，打印受理回执；若准入判断拦截，核对测试人员信息是否按上表录入。",
]


def test_person(rng, age, local, male=None):
    ref = REF_DATE
    a = rng.randint(age[0], age[1])
    name, male = U.make_name(rng, male)
    birth = U.birth_for_age(rng, a, ref)
    district = rng.choice(U.DISTRICTS)
    region = U.SH_REGIONS[district] if local else None
    idn = U.make_id(rng, birth, male, region=region, local=local)
    assert U.id_valid(idn)
    phone = U.make_phone(rng)
    home = f"上海市{district}" if local else "外省市（持上海市居住证）"
    return {"name": name, "male": male, "birth": birth, "age": a, "id": idn, "phone": phone, "home": home}


def render_guide(m, sit, scope, steps, mats, errs, test_lines, expect, person, updated, rng, hand):
    lines = ["+++",
             f'title = "{m["name"]}—{sit}"',
             f'matter_code = "{m["code"]}"',
             f'matter_name = "{m["name"]}"',
             f'situation = "{sit}"',
             f'department = "{m["department"]}"',
             f'updated = "{updated}"',
             "+++", ""]
    lines += ["## 一、适用情形", "", scope, ""]
    lines += ["## 二、受理系统操作步骤", ""]
    lines += [f"{i}. {s}" for i, s in enumerate(steps, 1)] + [""]
    lines += ["## 三、所需材料", ""]
    mat_lead = fill(rng.choice(FG.MAT_LEAD), sit=sit) if not hand else f"办理“{sit}”时收取以下材料："
    lines += [mat_lead] + [f"- {x}" for x in mats] + [""]
    lines += ["## 四、常见错误", ""]
    err_lead = fill(rng.choice(FG.ERR_LEAD), sit=sit)
    lines += [err_lead] + [f"- {x}" for x in errs] + [""]
    lines += ["## 五、测试数据", ""]
    lines += [fill(rng.choice(FG.TEST_LEAD), sit=sit)]
    p = person
    tl = [f"- 姓名：{p['name']}（虚构）",
          f"- 性别：{'男' if p['male'] else '女'}，出生日期：{p['birth']:%Y-%m-%d}（{p['age']}周岁）",
          f"- 证件类型：居民身份证；证件号码：{p['id']}（合成号码，校验位有效）",
          f"- 户籍/居住：{p['home']}",
          f"- 联系电话：{p['phone']}（虚构）"]
    tl += [f"- {x}" for x in test_lines]
    lines += tl + [f"- 预期结果：{expect}", ""]
    return "\n".join(lines)


def build_guides(ms, per_matter, per_situation, by_name):
    rng = random.Random(SEED + 2)
    hand = {(g["code"], g["sit"]): g for g in hand_guides_a.GUIDES}
    out = {}
    hand_count = 0
    for m in ms:
        for idx, sit in enumerate(m["situations"], 1):
            fname = f"{m['code']}-{idx:02d}.md"
            updated = U.rand_date(rng, dt.date(2026, 1, 5), dt.date(2026, 11, 20)).isoformat()
            g = hand.get((m["code"], sit))
            if g:
                hand_count += 1
                person = test_person(rng, g["age"], g["local"], g["male"])
                text = render_guide(m, sit, g["scope"], g["steps"], g["mats"], g["errs"], g["test"],
                                    g["expect"], person, updated, rng, True)
            else:
                text = gen_guide(m, sit, per_matter, per_situation, by_name, rng, updated)
            out[fname] = text
    assert len(out) == 300
    return out, hand_count


def pick_fields(m, sit, rng, n):
    text = m["name"] + sit
    cands = []
    for kws, fs in FG.FIELDS_KW:
        if any(k in text for k in kws):
            cands += [f for f in fs if f not in cands]
    if len(cands) < n:
        cands += [f for f in FG.FIELDS[m["dept_code"]] if f not in cands]
    k = min(n, len(cands))
    # keep the most specific fields first, then shuffle slightly for variety
    head = cands[: k + 1]
    return rng.sample(head, k)


def gen_guide(m, sit, per_matter, per_situation, by_name, rng, updated):
    d = m["dept_code"]
    who = FG.who_for(d, m["name"] + sit, rng)
    alias = rng.choice(m["aliases"])
    scope = f"{who}办理“{m['name']}”（常用名“{alias}”）。" + fill(rng.choice(FG.SCOPE_TAIL), sit=sit)
    chans = [c for c in m["channels"] if c in FG.CHANNEL_SENT]
    if chans:
        c = rng.choice(chans)
        scope += rng.choice(FG.CHANNEL_SENT[c])
    if "窗口" not in m["channels"]:
        scope += "本事项为非窗口受理事项，窗口只能在对应的“一件事”中勾选联办，不能单独受理。"

    mats = per_matter[m["code"]]
    sit_note = per_situation.get((m["code"], sit))
    key_mats = [x for x in mats if x != "居民身份证"]
    form_page = rng.choice(FG.FORM_PAGE.get(d, FG.FORM_PAGE["_"]))
    fields = pick_fields(m, sit, rng, rng.randint(2, 3))
    pool = FG.checks_for(d, m["name"] + sit)
    checks = rng.sample(pool, min(len(pool), rng.randint(1, 2)))
    steps = [fill(rng.choice(FG.ENTRY), alias=alias, name=m["name"], code=m["code"], dept=m["department"]),
             rng.choice(FG.APPLICANT)]
    steps.append("点击【准入判断】，系统调用条线准入接口；不符合条件时会出现“" + "”或“".join(checks)
                 + "”等提示，应按提示向申请人解释，不要跳过准入判断手工提交。")
    steps.append(f"进入{form_page}页，在“业务情形”中选择“{sit}”，依次填写" + "、".join(fields)
                 + rng.choice(["；带*号的为必填项，未填时【下一步】按钮不可用。",
                               "，日期类字段使用日期控件选择，不要手工输入。",
                               "；已由接口带出的字段为灰色只读，如有错误需先到条线系统更正。"]))
    mat_step = rng.choice([
        "进入【材料收取】页，“{a}”选择收取方式（原件核验、复印件或电子证照调取），“{b}”核对后扫描上传。",
        "在【材料收取】页逐项勾选材料：先核验“{a}”，再收取“{b}”，收取方式与材料清单中的两免要求保持一致。",
        "【材料收取】页中，“{a}”和“{b}”为本情形重点核对材料，核对结果须选“一致”方可继续。",
    ])
    a = key_mats[0] if key_mats else "居民身份证"
    b = sit_note or (key_mats[1] if len(key_mats) > 1 else "居民身份证")
    steps.append(fill(mat_step, a=a, b=b))
    if "全市通办" in m["channels"] and rng.random() < 0.5:
        steps.append("申请人户籍或居住地不在本街道的，系统自动标记为“全市通办件”，提交后在【全市通办待办】中可查看属地接单轨迹。")
    steps.append(rng.choice(FG.SUBMIT))

    mat_lines = []
    for n in mats + ([sit_note] if sit_note else []):
        ex = by_name[n]["exemption"].replace("两免：", "")
        mat_lines.append(f"{n}：{ex}")
    text_ms = m["name"] + sit
    pool = [t for kws, t in FG.MISTAKE_KW if kws is None or any(k in text_ms for k in kws)]
    pool += FG.MISTAKE.get(d, [])
    errs = [fill(x, mat=a) if "{mat}" in x else x for x in rng.sample(pool, 2)]
    errs.append(rng.choice([
        f"把“{sit}”误按本事项的其他情形受理，业务情形下拉框选错，条线审核时退回。",
        f"申请人以为“{alias}”可以当场办结，窗口未说明需条线审核，引发投诉。",
        f"没有先查询申请人是否已有“{m['name']}”在办件，造成重复受理。",
    ]))
    fields_t = [f for f in pick_fields(m, sit, rng, 3) if f != "联系电话"][:2]
    test_lines = [f"{f}：{FIELD_VALUES[f](rng)}" for f in fields_t]
    test_lines.append(f"业务情形：{sit}")
    text = m["name"] + sit
    if "百岁" in text:
        age = (100, 103)
    elif any(k in text for k in ("养老", "退休", "老年", "老人", "高龄", "敬老", "助浴", "助餐", "长者", "照护", "精减", "适老", "养老金")):
        age = (60, 88)
    elif any(k in text for k in ("毕业生", "见习", "求职创业")):
        age = (21, 26)
    elif any(k in text for k in ("育儿", "婴幼儿", "生育", "母子", "托育", "托位", "婚前", "新生儿", "儿童")):
        age = (25, 40)
    else:
        age = (22, 58)
    male = False if any(k in text for k in ("母子", "孕", "生育")) else None
    local = not (d == "GA" or ("非本市" in sit) or ("居住证" in sit) or ("港澳台" in text))
    person = test_person(rng, age, local, male)
    return render_guide(m, sit, scope, steps, mat_lines, errs, test_lines, rng.choice(EXPECT), person,
                        updated, rng, False)


# --------------------------------------------------------------------------- main
def main():
    ms = build_matters()
    mats, by_name, per_matter, per_situation = build_materials(ms)
    guides, hand_count = build_guides(ms, per_matter, per_situation, by_name)

    gdir = os.path.join(DATA, "guides")
    os.makedirs(gdir, exist_ok=True)
    for f in os.listdir(gdir):
        if f.endswith(".md"):
            os.remove(os.path.join(gdir, f))
    for fname, text in guides.items():
        write_text(os.path.join(gdir, fname), text)

    cat = os.path.join(DATA, "catalog")
    lines = []
    for m in ms:
        lines.append(jdump({"record_type": "matter", "code": m["code"], "name": m["name"],
                            "department": m["department"], "aliases": m["aliases"], "keywords": m["keywords"],
                            "guide_url": m["guide_url"], "situations": m["situations"], "channels": m["channels"]}))
    write_text(os.path.join(cat, "matters.jsonl"), "\n".join(lines) + "\n")
    lines = [jdump({"record_type": "material", "material_id": r["material_id"], "name": r["name"],
                    "source_department": r["source_department"], "sample": r["sample"],
                    "exemption": r["exemption"], "matter_codes": r["matter_codes"]}) for r in mats]
    write_text(os.path.join(cat, "materials.jsonl"), "\n".join(lines) + "\n")

    import cases as C  # noqa: E402
    import tickets as T  # noqa: E402
    case_rows, manifest, hand_cases = C.build(ms, per_matter, SEED + 3)
    write_text(os.path.join(DATA, "cases", "cases.jsonl"), "\n".join(jdump(c) for c in case_rows) + "\n")
    rows, ticket_pii = T.build(ms, per_matter, SEED + 4)
    manifest["tickets"] = ticket_pii
    manifest["tickets_note"] = ("Tickets in data/catalog/tickets.csv whose problem text carries a synthetic "
                                "phone and/or ID number (办件编号 SL-… are not PII).")
    write_text(os.path.join(HERE, "pii_manifest.json"),
               json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ticket_id", "matter_code", "problem", "handler", "reported_at", "resolved_at", "resolution"])
    for r in rows:
        w.writerow(r)
    write_text(os.path.join(cat, "tickets.csv"), buf.getvalue())

    print(f"matters={len(ms)} situations={sum(len(m['situations']) for m in ms)} "
          f"guides={len(guides)} (hand={hand_count}) materials={len(mats)} cases={len(case_rows)} "
          f"(hand={hand_cases}) tickets={len(rows)} catalog_total={len(ms) + len(mats) + len(rows)}")


if __name__ == "__main__":
    main()
