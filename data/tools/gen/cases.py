"""Closed cases: the hand-written ones from hand_cases.py plus generated ones
built from hand-written story fragments (below), and synthetic PII re-inserted
into about 30% of descriptions for masking tests (see pii_manifest.json)."""

import datetime as dt
import random
import re

import frags_guides as FG
import hand_cases
import util as U

N_CASES = 200
PII_SHARE = 60  # 30% of 200

FEATURES = {
    "RS": ["失业人员", "外地来沪", "农村户籍", "征地人员", "新就业形态劳动者", "慢病患者", "代办", "语言不通"],
    "YB": ["老人", "慢病患者", "外地来沪", "代办", "孕产妇", "婴幼儿家庭", "行动不便"],
    "MZ": ["老人", "高龄老人", "独居", "慢病患者", "低保家庭", "代办", "行动不便", "支内回沪"],
    "CL": ["残疾人", "代办", "视力障碍", "听力障碍", "智力障碍", "精神障碍", "行动不便", "低保家庭"],
    "GA": ["外地来沪", "语言不通", "代办"],
    "DA": ["代办", "老人", "外地来沪", "离异"],
    "WJ": ["婴幼儿家庭", "孕产妇", "外地来沪"],
    "JS": ["老人", "失业人员"],
    "ZJ": ["外地来沪", "单亲家庭", "离异"],
    "GJ": ["外地来沪"],
    "TY": ["退役军人", "老人"],
    "SW": ["新就业形态劳动者", "失业人员"],
    "GH": ["慢病患者"],
    "SF": ["语言不通", "失业人员"],
}
CASE_TAGS = ["反复办理", "连带办理", "一件事", "跨区通办", "投诉转办", "远程虚拟窗口", "容缺受理", "系统故障", "政策咨询", "首办", "退件补正", "上门服务"]
MAT_TAGS = ["重要核对", "可容缺", "需原件", "电子证照", "材料不一致", "补交材料", "委托书", "外省材料"]

FEATURE_PHRASE = {
    "老人": "年事已高，听力也不太好", "高龄老人": "已年过九十，由家人推轮椅陪同", "独居": "平时一个人住，子女在外区",
    "慢病患者": "常年服药，身体状况一般", "外地来沪": "来沪多年，户籍不在本市", "残疾人": "持有残疾人证",
    "语言不通": "只会说家乡方言，普通话沟通比较吃力", "代办": "这次由家属陪同并协助填表", "行动不便": "行走需要拐杖",
    "低保家庭": "家里享受低保", "失业人员": "目前处于失业状态", "新就业形态劳动者": "在平台上跑配送",
    "孕产妇": "刚生完孩子不久", "婴幼儿家庭": "家里有不满三岁的孩子", "视力障碍": "视力残疾，由志愿者陪同",
    "听力障碍": "听力残疾，靠手写和窗口交流", "智力障碍": "智力残疾，由监护人陪同", "精神障碍": "精神残疾，病情稳定，由家属陪同",
    "退役军人": "是退役军人", "农村户籍": "是郊区农业户籍", "征地人员": "早年属于征地安置人员", "支内回沪": "年轻时支援外地建设，退休后回沪定居",
    "离异": "已经离婚", "单亲家庭": "独自抚养孩子",
}

OPEN = [
    "申请人{who}，{age}岁，{phrase}。{when}来中心办理“{alias}”，属于“{sit}”情形。",
    "{when}，{who}（{age}岁）到{center_short}窗口，说要办“{alias}”。经询问，{pron}{phrase}，诉求对应“{sit}”。",
    "本案申请人{who}，{age}岁。{pron}{phrase}。这次要办理的是“{name}”中的“{sit}”。",
    "{when}，{who}带着一叠材料来到综合窗口，想办“{alias}”。{pron}{age}岁，{phrase}。",
]

STORY = {
    "反复办理": [
        "第一次来时缺少“{mat}”，窗口按清单告知后申请人回去准备，{days}天后第二次来才补齐。复盘发现，首次接待时只口头说了材料名称，没有打印材料清单给申请人，这是造成多跑一次的主要原因。",
        "提交后被条线退回，退回意见是“{mat}信息与系统不一致”。窗口电话联系申请人补正，申请人又跑了一趟。事后核查，受理时没有把材料上的关键信息与系统带出的数据逐项比对。",
        "准入判断提示“{msg}”，申请人当时不理解，过了{days}天又到另一个窗口重复办理，同样被拦截。第二次接待的窗口人员调出前次记录，耐心解释原因后，申请人才接受。",
    ],
    "连带办理": [
        "受理过程中，窗口发现申请人同时符合“{other}”的条件，征得同意后一并受理，两个办件在同一次接待中完成。",
        "申请人只知道要办“{alias}”，窗口根据系统带出的信息，主动提示其还可以连带办理“{other}”，避免其日后再跑一次。",
    ],
    "一件事": [
        "窗口在【一件事受理】中选择相应的一件事，系统按申请人身份推荐了包括“{name}”在内的子事项，逐项确认后一次提交，生成一个一件事编号和若干子办件。",
        "本次通过一件事方式受理，“{name}”作为子事项与其他事项共用申请人信息和领取账户，申请人只填了一次表。",
    ],
    "跨区通办": [
        "申请人户籍在{district2}，但在本中心附近居住，按全市通办受理。提交后系统标记为全市通办件，流转至属地，窗口在【全市通办待办】中跟踪到属地当日已接单。",
        "由于属地中心离家较远，申请人选择就近办理。全市通办件提交后，属地{days}天内完成审核，结果通过短信告知申请人。",
    ],
    "投诉转办": [
        "申请人此前通过12345热线投诉“{alias}办了很久没结果”，工单转到中心。中心调出业务轨迹，发现办件停在条线审核节点，随即联系条线催办，并当面向申请人说明进度。",
        "本案源自一次差评：申请人在评价器上给了“不满意”，理由是“跑了两次”。中心回访后重新梳理了该事项的材料告知方式。",
    ],
    "远程虚拟窗口": [
        "申请人在村（居）服务点通过远程虚拟窗口办理，坐席人员在视频中指导其把材料放到高拍仪下，页面字段与窗口受理一致，一次提交成功。",
        "考虑到申请人出行不便，中心安排其在家附近的服务延伸点通过远程虚拟窗口办理，办完后在虚拟窗口终端上完成好差评。",
    ],
    "容缺受理": [
        "申请人暂时拿不出“{mat}”，该材料属于可容缺材料，窗口请其签署告知承诺书后先行受理，约定{days}个工作日内补交。",
        "按照两免要求，“{mat}”可以容缺，窗口在【材料收取】页选择“容缺”，系统自动生成补交提醒短信。",
    ],
    "系统故障": [
        "受理过程中点击【提交】后页面长时间无响应，值班长查看后发现是条线接口超时。窗口先【暂存】办件，{days}小时后接口恢复，再从【我的暂存】中调出提交。",
        "读卡器一度无法读取证件，窗口改用扫码盒扫描随申码完成身份核验，业务未受影响。",
    ],
    "政策咨询": [
        "申请人对条件理解有偏差，以为只要“{alias}”就能领钱。窗口结合准入判断结果“{msg}”逐条解释，并打印办事指南给申请人。",
        "经准入判断，申请人目前不符合条件，系统提示“{msg}”。窗口没有简单拒绝，而是说明了以后在什么情况下可以再来申请。",
    ],
    "首办": [
        "窗口按操作指南依次完成读卡核实、准入判断、表单填写和材料收取，“{mat}”现场核验无误，一次办结。",
        "申请人材料齐全，系统校验全部通过，从取号到拿到受理回执约{days}0分钟。",
    ],
    "退件补正": [
        "办件提交后被条线退回，退回原因写着“{mat}不清晰”。窗口重新扫描上传后再次提交通过。",
        "条线审核发现业务情形选错，退回补正。窗口更正为“{sit}”后重新提交。",
    ],
    "上门服务": [
        "申请人无法到中心，街道安排工作人员带着移动受理终端上门，现场读卡、拍照、签字后提交。",
        "中心为其提供上门帮办，工作人员在家中核验了“{mat}”原件，回中心后补录提交。",
    ],
}

CLOSE = [
    "办结后，申请人在评价器上给了“非常满意”。",
    "本案的经验是：受理前先问清诉求再选情形，可以少走弯路。",
    "中心把本案整理进内部案例库，供新上岗的窗口人员学习。",
    "该办件最终按期办结，未再发生投诉。",
    "窗口人员在交接班记录中备注了本案的处理要点。",
    "",
]

PROCESS = {
    "start": ["窗口读卡核实申请人身份", "扫码盒扫描随申码核验身份", "读取申请人和代办人证件"],
    "check": ["准入判断通过", "准入判断提示不符合条件", "调取条线接口数据核对"],
    "mid": ["填写业务表单", "收取并核验材料", "签署告知承诺书", "容缺受理并约定补交", "通过一件事选择子事项"],
    "end": ["提交并打印受理回执", "条线审核通过后办结", "退回补正后再次提交", "向申请人解释政策后办结"],
}

PRON = ["他", "她"]

BENEFIT = ("补贴", "补助", "津贴", "保险金", "报销", "奖励", "抚恤", "救助", "生活费", "保健金", "扶助", "提取")

TAG_STEPS = {
    "反复办理": ["首次接待时材料不全，告知补齐", "申请人补齐后再次受理"],
    "连带办理": ["提示可连带办理的相关事项", "同一次接待中一并受理"],
    "一件事": ["在【一件事受理】中选择一件事", "逐项确认推荐的子事项"],
    "跨区通办": ["按全市通办受理并流转属地", "在【全市通办待办】跟踪接单"],
    "投诉转办": ["接收12345转办工单", "调取业务轨迹查明卡点", "联系条线催办并答复申请人"],
    "远程虚拟窗口": ["通过远程虚拟窗口视频受理", "高拍仪采集材料"],
    "容缺受理": ["签署告知承诺书容缺受理", "约定期限内补交材料"],
    "系统故障": ["处理读卡或接口异常", "恢复后继续受理"],
    "政策咨询": ["准入判断提示不符合条件", "向申请人解释政策并打印办事指南"],
    "首办": ["收取并核验材料", "一次提交"],
    "退件补正": ["提交后被条线退回", "补正后再次提交通过"],
    "上门服务": ["安排工作人员上门受理", "现场核验材料并签字"],
}

OLD_KW = ("养老", "退休", "老年", "老人", "高龄", "敬老", "助浴", "助餐", "长者", "照护", "支内", "精减", "长护", "适老")
YOUNG_FAMILY_KW = ("育儿", "婴幼儿", "生育", "母子", "托育", "托位", "婚前", "新生儿", "儿童", "孤儿", "子女", "婚姻")
STUDENT_KW = ("毕业生", "见习", "求职创业")


def age_for(rng, m, feats):
    name = m["name"]
    if "百岁" in name:
        return rng.randint(100, 103)
    if any(k in name for k in OLD_KW) or any(f in feats for f in ("老人", "高龄老人", "支内回沪")):
        return rng.randint(88, 96) if "高龄老人" in feats else rng.randint(62, 87)
    if any(k in name for k in STUDENT_KW):
        return rng.randint(21, 26)
    if any(k in name for k in YOUNG_FAMILY_KW):
        return rng.randint(25, 42)
    return rng.randint(24, 58)


def _when(rng, d):
    return rng.choice([f"{d.month}月{d.day}日", f"{d.year}年{d.month}月", "当天", f"{d.month}月初" if d.day < 11 else f"{d.month}月中旬" if d.day < 21 else f"{d.month}月下旬"])


def build(ms, per_matter, seed):
    rng = random.Random(seed)
    by_code = {m["code"]: m for m in ms}
    rows = []
    hand = hand_cases.CASES
    # generated cases first cover matters without a hand case, then random others
    covered = {c["matter_code"] for c in hand}
    todo = [m for m in ms if m["code"] not in covered and "窗口" in m["channels"]]
    rng.shuffle(todo)
    n_gen = N_CASES - len(hand)
    gen_matters = todo[:n_gen]
    while len(gen_matters) < n_gen:
        gen_matters.append(rng.choice(ms))
    items = [("hand", c) for c in hand] + [("gen", m) for m in gen_matters]
    # interleave by closing date so ids look like a real register
    dated = []
    for kind, x in items:
        if kind == "hand":
            dated.append((x["closed_on"], kind, x))
        else:
            d = U.rand_date(rng, dt.date(2025, 1, 6), dt.date(2026, 10, 30)).isoformat()
            dated.append((d, kind, x))
    dated.sort(key=lambda t: (t[0], t[1], t[2].get("code", t[2].get("matter_code"))))
    year_seq = {}
    for closed, kind, x in dated:
        y = closed[:4]
        year_seq[y] = year_seq.get(y, 0) + 1
        case_id = f"AL-{y}-{year_seq[y]:04d}"
        if kind == "hand":
            m = by_code[x["matter_code"]]
            district = x["district"]
            center = U.center(district, rng.choice(U.STREETS[district]))
            row = {"case_id": case_id, "matter_code": m["code"], "matter_name": m["name"], "closed_on": closed,
                   "district": district, "center": center, "applicant_features": x["applicant_features"],
                   "case_tags": x["case_tags"], "material_tags": x["material_tags"], "process": x["process"],
                   "description": "\n\n".join(x["paras"])}
        else:
            row = gen_case(rng, x, closed, case_id, ms, per_matter)
        rows.append(row)
    manifest = inject_pii(rows, random.Random(seed + 100))
    return rows, manifest, len(hand)


def gen_case(rng, m, closed, case_id, ms, per_matter):
    d = m["dept_code"]
    district, center = U.pick_center(rng)
    feats = rng.sample(FEATURES[d], min(len(FEATURES[d]), rng.randint(1, 3)))
    tags = rng.sample(CASE_TAGS, rng.randint(1, 2))
    if "一件事" in tags and "一件事" not in m["name"] and rng.random() < 0.6:
        tags.remove("一件事")
        if not tags:
            tags = ["首办"]
    mtags = rng.sample(MAT_TAGS, rng.randint(1, 3))
    sit = rng.choice(m["situations"])
    alias = rng.choice(m["aliases"])
    male = rng.random() < 0.5
    surname = rng.choice(U.SURNAMES)
    who = surname + rng.choice(["某", "某某"])
    age = age_for(rng, m, feats)
    phrase = "，".join(FEATURE_PHRASE[f] for f in feats)
    dd = dt.date.fromisoformat(closed) - dt.timedelta(days=rng.randint(3, 40))
    mats = [x for x in per_matter[m["code"]] if x != "居民身份证"] or ["居民身份证"]
    mat = rng.choice(mats)
    msg = rng.choice(FG.checks_for(d, m["name"] + sit))
    kws = set(m["keywords"])
    related = [x for x in ms if x["code"] != m["code"] and kws & set(x["keywords"]) and "窗口" in x["channels"]]
    same_dept = related or [x for x in ms if x["dept_code"] == d and x["code"] != m["code"]] or ms
    other = rng.choice(same_dept)["name"]
    d2 = rng.choice([x for x in U.DISTRICTS if x != district])
    kw = dict(who=who, age=age, phrase=phrase, when=_when(rng, dd), alias=alias, sit=sit, name=m["name"],
              center_short=center.replace("社区事务受理服务中心", "中心"), pron=PRON[0] if male else PRON[1],
              mat=mat, msg=msg, other=other, district2=d2, days=rng.randint(2, 9))
    p1 = rng.choice(OPEN).format(**kw)
    p2 = "".join(rng.choice(STORY[t]).format(**kw) for t in tags)
    extra = rng.choice([
        "窗口在【材料收取】页核验了“{mat}”，收取方式与两免要求一致。",
        "受理时系统带出的信息与申请人所述一致，未发现异常。",
        "期间申请人多次询问办理时限，窗口告知以条线审核为准，并留下中心咨询电话。",
        "窗口人员对照操作指南逐步操作，没有跳过准入判断。",
        "",
    ]).format(**kw)
    cd = dt.date.fromisoformat(closed)
    ending = rng.choice([
        "{y}年{m}月{d}日，该件办结。", "办件于{m}月{d}日办结归档。", "{m}月{d}日条线反馈审核完成，本案办结。",
        "最终在{m}月{d}日办结。", "本案于{y}年{m}月{d}日结案。",
    ]).format(y=cd.year, m=cd.month, d=cd.day)
    closes = CLOSE + (["事后回访，申请人表示钱款已按时到账。"] * 2 if any(k in m["name"] for k in BENEFIT) else [])
    paras = [p1, (p2 + extra).strip() + ending + rng.choice(closes)]
    process = [rng.choice(PROCESS["start"])]
    if "政策咨询" not in tags:
        process.append(rng.choice(["准入判断通过", "调取条线接口数据核对"]))
    for t in tags:
        process += TAG_STEPS[t]
    if "政策咨询" not in tags and "退件补正" not in tags:
        process.append(rng.choice(["提交并打印受理回执", "条线审核通过后办结"]))
    return {"case_id": case_id, "matter_code": m["code"], "matter_name": m["name"], "closed_on": closed,
            "district": district, "center": center, "applicant_features": feats, "case_tags": tags,
            "material_tags": mtags, "process": process, "description": "\n\n".join(paras)}


MASKED_RE = re.compile(r"(申请人|老人|组建人|家属)?([\u4e00-\u9fff])(某某|某)")


def inject_pii(rows, rng):
    """Re-insert synthetic PII into PII_SHARE descriptions and record it."""
    chosen = sorted(rng.sample(range(len(rows)), PII_SHARE))
    manifest = []
    kinds_all = ["name", "id_number", "phone", "bank_card"]
    for i in chosen:
        row = rows[i]
        kinds = rng.sample(kinds_all, rng.randint(1, 3))
        paras = row["description"].split("\n\n")
        male = rng.random() < 0.5
        values = {}
        mobj = MASKED_RE.search(paras[0])
        surname = mobj.group(2) if mobj else rng.choice(U.SURNAMES)
        full = surname + rng.choice(U.GIVEN_M if male else U.GIVEN_F)
        if "name" in kinds:
            if mobj:
                paras[0] = paras[0][:mobj.start(2)] + full + paras[0][mobj.end(3):]
            elif "申请人" in paras[0]:
                paras[0] = paras[0].replace("申请人", "申请人" + full, 1)
            else:
                paras[0] = paras[0] + f"登记的申请人姓名为{full}。"
            values["name"] = full
        bits = []
        if "id_number" in kinds:
            age = rng.randint(25, 85)
            birth = U.birth_for_age(rng, age, dt.date(2026, 3, 15))
            idn = U.make_id(rng, birth, male, local=rng.random() < 0.7)
            assert U.id_valid(idn)
            values["id_number"] = idn
            bits.append(rng.choice(["身份证号{v}", "证件号码{v}", "身份证{v}"]).format(v=idn))
        if "phone" in kinds:
            ph = U.make_phone(rng)
            values["phone"] = ph
            bits.append(rng.choice(["联系电话{v}", "手机{v}", "留的电话是{v}"]).format(v=ph))
        if "bank_card" in kinds:
            card = U.make_bank_card(rng)
            assert U.luhn_ok(card)
            values["bank_card"] = card
            bits.append(rng.choice(["发放卡号{v}", "银行卡号{v}", "收款账号{v}"]).format(v=card))
        if bits:
            sent = rng.choice([
                "窗口登记的信息：{b}。",
                "（原始记录中保留了：{b}）",
                "受理单上写着{b}。",
                "回访时核对了{b}。",
            ]).format(b="，".join(bits))
            target = 1 if len(paras) > 1 and rng.random() < 0.5 else 0
            paras[target] = paras[target] + sent
        row["description"] = "\n\n".join(paras)
        manifest.append({"case_id": row["case_id"], "kinds": sorted(values.keys()), "values": values})
    return {"description": "Synthetic PII deliberately left in data/cases/cases.jsonl descriptions (all values fictional; ID numbers pass GB 11643 check, bank cards pass Luhn). Names written as X某/X某某 are already masked and are not listed.",
            "share": f"{len(manifest)}/{len(rows)}", "cases": manifest}
