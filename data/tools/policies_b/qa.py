#!/usr/bin/env python3
"""Write data/eval/qa_gold.part-b.jsonl: clerk questions over the 民政/残联/医保/档案 policies.

Every gold label is checked against the clean source in src/ (it must exist as it stands in the
document), so a typo in a label fails the build instead of silently poisoning the gold set.
Run after build.py:  python3 data/tools/policies_b/qa.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build  # noqa: E402

TODAY = "2026-11-29"

# short keys -> source stem
K = {
    "Y19": "mz-yanglao-butie-2019", "Y24": "mz-yanglao-butie-2024", "JD": "mz-yanglao-butie-jiedu",
    "PG": "mz-zhaohu-pinggu-banfa", "B18": "mz-zhinei-bangkun-2018", "B23": "mz-zhinei-bangkun-2023",
    "XZ": "mz-zhinei-bangkun-xize", "SG": "mz-shengu-yijianshi", "JJ": "cl-jujia-yanghu-banfa",
    "ZW": "cl-zhongcan-wuye-jigou-yanghu", "KN": "cl-kunnan-jigou-yanghu-butie", "CZ": "cl-canjirenzheng-zhinan",
    "ET": "cl-ertong-kangfu-jiuzhu", "YBB": "cl-zhongcan-yibao-butie", "X21": "cl-xinxi-taocan-2021",
    "X24": "cl-xinxi-taocan-2024", "CF": "cl-canjiren-fuwu-yijianshi", "BZ": "cl-baozhangfa-shishi-banfa",
    "GJ": "yb-gongji-shishi-banfa", "KJ": "yb-gongji-caozuo-koujing", "CH21": "yb-changhu-banfa-2021",
    "CH27": "yb-changhu-banfa-2027", "DJ": "yb-changhu-dengji-chaxun", "BX": "yb-baoxiao-yijianshi",
    "LH": "da-lihun-susong-chaxun", "SW": "da-siwang-zhengming-chaxun",
}

OLD = "2021-06-01"

# (question, as_of, [(doc key, article label)], note)
QA = [
    # 养老服务补贴
    ("老人护理评估几级才能拿养老补贴", TODAY, [("Y24", "第四条")], None),
    ("照护二级的低保老人现在每个月养老服务补贴能有多少", TODAY, [("Y24", "第六条")], "新标准400元"),
    ("照护二级的低保老人每个月养老服务补贴是多少钱", OLD, [("Y19", "第五条")], "as-of 旧办法：300元"),
    ("住养老院的照护四级老人，机构那块补贴一个月给多少", OLD, [("Y19", "第六条")], "as-of 旧办法：500元"),
    ("住养老院的照护四级老人，机构那块补贴一个月给多少", TODAY, [("Y24", "第七条")], "新办法：700元，低保900元"),
    ("养老服务补贴能不能直接折成钱打给老人", TODAY, [("Y24", "第五条"), ("JD", "四、")], None),
    ("低收入家庭的老人养老补贴按几成给", TODAY, [("Y24", "第六条")], "80%"),
    ("90多岁一个人住的老人，养老金不算低，也能申请养老补贴吗", TODAY, [("Y24", "第四条"), ("JD", "二、")], None),
    ("办养老补贴要带哪些东西，低保证明还要不要开", TODAY, [("Y24", "第十条")], None),
    ("养老补贴交上去多久审完，从哪个月开始享受", TODAY, [("Y24", "第十一条"), ("JD", "七、")], None),
    ("老人已经在用长护险了，还能不能拿养老服务补贴", TODAY, [("Y24", "第八条"), ("JD", "五、"), ("CH21", "第十三条")], None),
    ("养老补贴是不是只能回户口所在街道的受理中心去申请", OLD, [("Y19", "第七条")], "as-of 旧办法：户籍地受理"),
    ("养老补贴是不是只能回户口所在街道的受理中心去申请", TODAY, [("Y24", "第九条")], "新办法：任一受理中心或一网通办"),
    ("老人重新评估变成一级了，养老补贴还继续发吗", TODAY, [("Y24", "第十三条")], None),
    ("以前已经在拿养老补贴的，新办法出来以后要不要重新申请", TODAY, [("JD", "八、")], None),
    ("养老补贴对象好几个月没用服务，会不会被停掉", OLD, [("Y19", "第十条")], "as-of 旧办法：连续3个月无正当理由停"),
    # 老年照护需求统一评估
    ("老人照护等级评估的结果能管多久", TODAY, [("PG", "第十六条")], None),
    ("家属对评估出来的等级不服，多少天内可以申请复核", TODAY, [("PG", "第十七条")], None),
    ("老人现在还在医院住着，能不能先申请照护评估", TODAY, [("PG", "第八条")], None),
    ("上门评估的来几个人，里面有没有懂医的", TODAY, [("PG", "第十一条")], None),
    ("做照护需求评估老人自己要不要出钱", TODAY, [("PG", "第二十二条")], None),
    ("评估员上门以后几天能出结论", TODAY, [("PG", "第十五条")], None),
    ("上次评估还不到半年，老人身体明显差了，能马上再评吗", TODAY, [("PG", "第十八条"), ("PG", "第八条")], None),
    ("外地户口但在上海交职工医保的老人能做照护评估吗", TODAY, [("PG", "第五条")], None),
    # 支内回沪帮困补助
    ("支内回来的退休金多少以下能补", TODAY, [("B23", "二、（一）")], "保障线4200元"),
    ("支内回沪的人养老金低于多少可以申请帮困补助", OLD, [("B18", "二、（一）")], "as-of 旧通知：3300元"),
    ("支内回沪的老人满80岁有没有多给一点", TODAY, [("B23", "二、（二）")], None),
    ("帮困补助是不是只能在户口所在地的受理中心办", OLD, [("B18", "三、（一）")], "as-of 旧通知"),
    ("帮困补助是不是只能在户口所在地的受理中心办", TODAY, [("B23", "三、（一）"), ("B23", "五、（二）")], "全市通办"),
    ("帮困补助说的那个指定月份是怎么挑的", TODAY, [("B23", "二、（三）"), ("XZ", "二、（一）")], None),
    ("老人拿不出支内调令，还有什么办法证明支援过外地建设", TODAY, [("XZ", "一、（一）")], None),
    ("帮困补助每年要补交什么证明，截止到几号", TODAY, [("B23", "三、（三）"), ("XZ", "六、（一）")], None),
    ("已经吃低保的支内人员还能再领帮困补助吗", TODAY, [("B23", "一、（三）")], None),
    ("帮困补助打到哪张卡上，每个月几号之前到账", TODAY, [("XZ", "五、（二）"), ("B23", "四、")], None),
    ("外地养老金是一个季度发一次的，月收入怎么算", TODAY, [("XZ", "二、（三）")], None),
    ("户口刚迁回上海三个月的支内人员能申请帮困补助吗", TODAY, [("B23", "一、（二）"), ("XZ", "一、（二）")], None),
    ("没按时交收入证明被停发了，补交以后停的那几个月能补回来吗", TODAY, [("XZ", "六、（二）")], None),
    ("帮困补助批下来以后从哪个月开始发", OLD, [("B18", "三、（二）")], "as-of 旧通知：批准的次月"),
    ("帮困补助批下来以后从哪个月开始发", TODAY, [("B23", "三、（二）"), ("XZ", "五、（二）")], "新通知：申请的次月"),
    ("支内人员外地的养老金证明是外文的，要不要翻译", TODAY, [("XZ", "二、（二）")], None),
    # 身故一件事
    ("家里老人走了，后面那些手续能不能在一个窗口一次办掉", TODAY, [("SG", "三、"), ("SG", "二、")], None),
    ("办身故一件事要带什么，纸质的死亡证明一定要交吗", TODAY, [("SG", "四、")], None),
    ("过世的人是残疾人，残疾证找不到了，注销怎么弄", TODAY, [("SG", "四、（四）"), ("CZ", "六、（二）"), ("CZ", "六、（三）")], None),
    # 残疾人居家养护
    ("重残无业的人居家养护政府一个月补多少", TODAY, [("JJ", "第六条")], None),
    ("残疾人居家养护申请要交哪些材料", TODAY, [("JJ", "第七条")], None),
    ("居家养护批下来以后从什么时候开始上门服务", TODAY, [("JJ", "第九条")], None),
    ("残疾人满了60岁，居家养护还能继续吗", TODAY, [("JJ", "第十三条")], None),
    ("三级精神残疾的能申请居家养护吗", TODAY, [("JJ", "第三条")], None),
    ("居家养护一级服务一个月至少上门多少小时", TODAY, [("JJ", "第五条")], None),
    ("居家养护搬家换了地方住，服务怎么转", TODAY, [("JJ", "第十二条")], None),
    # 重残无业机构养护
    ("重残无业的住进养护机构，政府每月贴多少，吃饭的钱谁出", TODAY, [("ZW", "三、")], None),
    ("养护机构护理员和残疾人的比例有规定吗", TODAY, [("ZW", "二、（二）")], None),
    # 困难重度残疾人机构养护
    ("困难重度残疾人去机构养护，年龄上限是多少", TODAY, [("KN", "第三条")], None),
    ("低保家庭的重度残疾人住机构，自己还要贴钱吗", TODAY, [("KN", "第七条")], None),
    ("住在养护机构里想换一家，要怎么办", TODAY, [("KN", "第九条")], None),
    ("住进机构多久以后可以申请养护补贴", TODAY, [("KN", "第十条")], None),
    ("拿了机构养护补贴，重度残疾人护理补贴还有没有", TODAY, [("KN", "第十二条")], None),
    ("重残无业人员能按困难重度残疾人机构养护来办吗", TODAY, [("KN", "第二条")], None),
    ("三级智力残疾住机构，每个月补贴标准是多少", TODAY, [("KN", "第六条")], "金额在附表中，条文指向附表"),
    # 残疾人证
    ("残疾证快到期了，换证要不要重新评残", TODAY, [("CZ", "四、（二）")], None),
    ("残疾证丢了补办要带哪些东西", TODAY, [("CZ", "七、"), ("CZ", "四、（一）")], "材料在七、下的表格"),
    ("户口迁到外省去了，残疾证要办什么手续", TODAY, [("CZ", "五、")], None),
    ("第二代残疾证有效期几年，小孩子的呢", TODAY, [("CZ", "四、（三）")], None),
    ("小孩子办残疾证谁来申请，孩子行动不方便怎么评", TODAY, [("CZ", "三、（三）")], None),
    ("残疾评定和办证要交钱吗", TODAY, [("CZ", "八、（二）")], None),
    ("外地户口有上海居住证的能在上海申领残疾证吗", TODAY, [("CZ", "三、（一）")], None),
    # 残疾儿童康复
    ("5岁孤独症孩子康复训练一年最多能补多少", TODAY, [("ET", "第四条")], None),
    ("外地户口的残疾孩子能申请康复救助吗", TODAY, [("ET", "第二条")], None),
    ("孩子明年还要继续做康复，续申请什么时候交", TODAY, [("ET", "第九条")], None),
    ("孩子康复训练医保已经报过一部分了，剩下的还能救助吗", TODAY, [("ET", "第十一条")], None),
    # 城乡重残居民医保医疗费补贴
    ("重残的居民医保门急诊自己付的部分能补多少，一年封顶多少", TODAY, [("YBB", "二、（一）")], None),
    ("重残人员住院起付线那块残联补不补", TODAY, [("YBB", "二、（三）")], None),
    ("去年看病的医疗费补贴今年最晚什么时候要来申请", TODAY, [("YBB", "三、（一）")], None),
    # 信息消费套餐
    ("盲人手机套餐现在每个月补贴多少", TODAY, [("X24", "三、（一）")], "新通知：80元"),
    ("视力残疾人信息消费套餐每个月补贴多少", "2022-05-01", [("X21", "三、（一）")], "as-of 旧通知：50元"),
    ("听障人士信息卡套餐每月补贴多少", "2022-05-01", [("X21", "三、（二）")], "as-of 旧通知：30元"),
    ("听障人士信息卡套餐每月补贴多少", TODAY, [("X24", "三、（二）")], "新通知：40元"),
    ("听力残疾人的信息卡套餐一年能换几次运营商", TODAY, [("X24", "四、（三）")], None),
    ("外地户口的聋哑人能办信息卡套餐吗，有补贴吗", TODAY, [("X24", "一、（三）")], None),
    # 残疾人服务一件事
    ("办残疾证的时候护理补贴要另外申请吗", TODAY, [("CF", "二、（三）")], None),
    ("残疾人服务一件事里各个部门多久给结果", TODAY, [("CF", "三、（三）")], None),
    # 残疾人保障法实施办法
    ("单位要按多少比例安排残疾人就业", TODAY, [("BZ", "第七条")], None),
    ("盲人坐公交地铁要不要买票", TODAY, [("BZ", "第十二条")], None),
    # 家庭共济
    ("医保家庭共济能把哪些家里人加进来", TODAY, [("GJ", "第四条")], None),
    ("兄弟姐妹能不能加到我的家庭共济网里", TODAY, [("GJ", "第四条")], None),
    ("共济的钱先扣哪个账户，当年账户的钱能给家里人用吗", TODAY, [("GJ", "第七条"), ("KJ", "二、（一）")], None),
    ("共济资金用的方式一年能改几次，改了什么时候生效", TODAY, [("GJ", "第八条"), ("KJ", "二、（二）")], None),
    ("我想退出我爸建的共济网，要不要我爸本人过来", TODAY, [("GJ", "第十条"), ("KJ", "三、（三）")], None),
    ("建共济网的人查明细，能看到家人看了什么病开了什么药吗", TODAY, [("GJ", "第十二条"), ("KJ", "四、（三）")], None),
    ("家庭共济使用明细最多能查几年的", TODAY, [("GJ", "第十三条"), ("KJ", "四、（二）")], None),
    ("成年的子女人没来，能加进共济网吗", TODAY, [("KJ", "一、（二）"), ("GJ", "第五条")], None),
    ("系统提示这个人已经在两个共济网里了，怎么处理", TODAY, [("KJ", "一、（二）"), ("GJ", "第四条")], None),
    ("建共济网的人去世了，这个共济网怎么办", TODAY, [("GJ", "第十一条")], None),
    ("灵活就业交职工医保的能当共济网组建人吗", TODAY, [("KJ", "五、（一）")], None),
    # 长期护理保险
    ("照护三级的老人长护险居家每周上门几个小时", TODAY, [("CH21", "第九条")], "现行令第49号：3小时"),
    ("照护三级的老人长护险居家每周上门几个小时", "2027-03-01", [("CH27", "第九条")], "as-of 新令第31号：4小时"),
    ("住养老院的长护险基金报销几成", TODAY, [("CH21", "第十一条")], "85%"),
    ("住养老院的长护险基金报销几成", "2027-02-01", [("CH27", "第十一条")], "as-of 新令：88%"),
    ("50多岁失能的人能享受长护险待遇吗", TODAY, [("CH21", "第六条")], "现行：须年满60周岁"),
    ("50多岁失能的人能享受长护险待遇吗", "2027-06-01", [("CH27", "第六条")], "as-of 新令：不限60周岁"),
    ("长护险家里人自己护理能不能算服务时间，几级才行", TODAY, [("CH21", "第十条")], None),
    ("长护险按住址查询谁有权限用", TODAY, [("DJ", "二、（二）")], None),
    ("长护险申请号长什么样，几位数", TODAY, [("DJ", "三、（二）")], None),
    ("查长护险显示待遇暂停是什么情况", TODAY, [("DJ", "五、（二）"), ("CH21", "第十六条")], None),
    ("长护险评估状态一直是待派单怎么办", TODAY, [("DJ", "五、（一）")], None),
    # 医保报销一件事
    ("医保零星报销，电子发票还要打印出来交吗", TODAY, [("BX", "二、（一）")], None),
    ("零星报销交上去多久能拿到钱", TODAY, [("BX", "三、（二）"), ("BX", "三、（三）")], None),
    # 档案
    ("离婚判决书能在街道受理中心查吗，要带什么", TODAY, [("LH", "三、（一）"), ("LH", "四、")], None),
    ("律师能代当事人查离婚调解书吗", TODAY, [("LH", "二、（二）"), ("LH", "四、（二）")], None),
    ("离婚案子的庭审笔录能不能查", TODAY, [("LH", "一、（三）")], None),
    ("死亡医学证明的档案谁有资格查", TODAY, [("SW", "三、")], None),
    ("查死亡医学证明档案收不收钱", TODAY, [("SW", "七、")], None),
]

# questions the corpus has no answer for (at least not in this half; checked against the topics
# of the other half: 人社 / 住建 / 卫健 / 综合)
UNANSWERABLE = [
    ("残疾人机动轮椅车燃油补贴一年给多少", "语料中只在事项清单里提到轮椅车申购登记，无补贴规定"),
    ("盲人公交卡丢了怎么补办", "保障法实施办法只规定免费乘车，无补办规定"),
    ("困难肢体残疾人矫正手术补贴最多补多少", "语料未收该政策"),
    ("长护险上门的护理员工资标准是多少", "语料未规定护理员薪酬"),
    ("医保个人账户余额继承要不要去做公证", "身故一件事只列事项，未规定公证要求"),
    ("居家养护能不能让家属当护理员并领工资", "居家养护办法未规定家属护理员"),
    ("结婚登记档案可以在受理中心查吗", "档案文件只涉及离婚诉讼文书和死亡医学证明"),
    ("残疾评定预约日期一个人最多能改几次", "语料未规定改期次数"),
    ("老年人长者食堂吃一顿饭补贴多少钱", "养老服务补贴可用于助餐，但无每餐补贴标准"),
    ("支内回沪人员的子女能不能随迁落户", "帮困补助文件不涉及子女落户"),
]


def has_label(text: str, label: str) -> bool:
    lines = [ln.strip() for ln in text.splitlines()]
    if label.startswith("第"):
        return any(ln.startswith(label) for ln in lines)
    m = re.match(r"^([一二三四五六七八九十]+、)(（[一二三四五六七八九十]+）)?$", label)
    assert m, label
    top, sub = m.group(1), m.group(2)
    try:
        i = next(i for i, ln in enumerate(lines) if ln.startswith(top))
    except StopIteration:
        return False
    if not sub:
        return True
    for ln in lines[i + 1:]:
        if build.RE_TOP.match(ln):
            return False
        if ln.startswith(sub):
            return True
    return False


def main() -> None:
    ext = {name: build.EXT[form] for (name, form, *_rest) in build.DOCS}
    rows = []
    n = 0
    for q, as_of, gold, note in QA:
        n += 1
        g = []
        for key, label in gold:
            stem = K[key]
            src = (build.SRC / f"{stem}.txt").read_text(encoding="utf-8")
            if not has_label(src, label):
                raise SystemExit(f"label {label} not found in {stem}")
            g.append({"source_file": f"policies/{stem}.{ext[stem]}", "article": label})
        row = {"id": f"qa-b-{n:03d}", "question": q, "as_of": as_of, "gold": g, "answerable": True}
        if note:
            row["note"] = note
        rows.append(row)
    for q, note in UNANSWERABLE:
        n += 1
        rows.append({"id": f"qa-b-{n:03d}", "question": q, "as_of": TODAY, "gold": [], "answerable": False,
                     "note": note})
    out = build.EVAL / "qa_gold.part-b.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    asof = sum(1 for r in rows if r["as_of"] != TODAY)
    print(f"{len(rows)} questions ({len(QA)} answerable, {len(UNANSWERABLE)} unanswerable, {asof} with an older/future as_of)")


if __name__ == "__main__":
    main()
