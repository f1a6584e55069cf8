#!/usr/bin/env python3
"""Quality checks for the generated corpus (stdlib only).

python3 data/tools/gen/check.py  -> prints counts, duplicate-paragraph figures,
PII checks; exits non-zero when a hard rule is broken.
"""

import collections
import csv
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
DATA = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.dont_write_bytecode = True
import util as U  # noqa: E402

ID_RE = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")
PHONE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
CARD_RE = re.compile(r"(?<!\d)62\d{14,17}(?!\d)")
MARKER_RE = re.compile(r"\{[a-z_0-9]*\}|\$\{|\{\{|TODO|XXX|<placeholder>")

fail = []


def paragraphs_of_guide(text):
    body = text.split("+++", 2)[2]
    out = []
    for block in body.split("\n\n"):
        b = block.strip()
        if not b or b.startswith("#"):
            continue
        out.append(b)
    return out


def dup_report(label, para_lists):
    where = collections.defaultdict(set)
    for rec, paras in para_lists:
        for p in paras:
            where[p].add(rec)
    multi = {p: s for p, s in where.items() if len(s) > 1}
    mx = max((len(s) for s in where.values()), default=0)
    print(f"{label}: paragraphs={len(where)} repeated_across_records={len(multi)} max_records_sharing_one_paragraph={mx}")
    for p, s in sorted(multi.items(), key=lambda kv: -len(kv[1]))[:3]:
        print(f"   x{len(s)}: {p[:80]}")
    return mx


def main():
    gdir = os.path.join(DATA, "guides")
    files = sorted(f for f in os.listdir(gdir) if f.endswith(".md"))
    print("guides:", len(files))
    if len(files) != 300:
        fail.append("guides != 300")
    plist = []
    line_count = collections.Counter()
    for f in files:
        t = open(os.path.join(gdir, f), encoding="utf-8").read()
        if "\r" in t:
            fail.append(f"CR in {f}")
        if MARKER_RE.search(t):
            fail.append(f"template marker in {f}: {MARKER_RE.search(t).group(0)}")
        if "【测试数据，虚构】" not in t:
            fail.append(f"no test marker in {f}")
        for sec in ["## 一、适用情形", "## 二、受理系统操作步骤", "## 三、所需材料", "## 四、常见错误", "## 五、测试数据"]:
            if sec not in t:
                fail.append(f"{f} lacks {sec}")
        for idn in ID_RE.findall(t):
            if not U.id_valid(idn):
                fail.append(f"bad id {idn} in {f}")
        plist.append((f, paragraphs_of_guide(t)))
        for line in set(t.split("\n")):
            if line.strip() and not line.startswith(("#", "+++", "title", "matter_", "situation", "department", "updated")):
                line_count[line] += 1
    mx = dup_report("guides", plist)
    if mx > 1:
        fail.append("guide paragraph repeated across records")
    top_lines = line_count.most_common(1)
    print(f"guides: most repeated single line appears in {top_lines[0][1]} files: {top_lines[0][0][:60]}")

    cases = [json.loads(x) for x in open(os.path.join(DATA, "cases", "cases.jsonl"), encoding="utf-8")]
    print("cases:", len(cases), "matters covered:", len({c['matter_code'] for c in cases}))
    ids = [c["case_id"] for c in cases]
    if len(set(ids)) != len(ids):
        fail.append("duplicate case ids")
    mx = dup_report("cases", [(c["case_id"], [p for p in c["description"].split("\n\n") if p.strip()]) for c in cases])
    if mx > 1:
        fail.append("case paragraph repeated across records")
    for c in cases:
        if MARKER_RE.search(c["description"]):
            fail.append(f"marker in {c['case_id']}")
    man = json.load(open(os.path.join(HERE, "pii_manifest.json"), encoding="utf-8"))
    byid = {c["case_id"]: c for c in cases}
    kinds = collections.Counter()
    for e in man["cases"]:
        desc = byid[e["case_id"]]["description"]
        for k, v in e["values"].items():
            kinds[k] += 1
            if v not in desc:
                fail.append(f"manifest value missing in {e['case_id']}")
            if k == "id_number" and not U.id_valid(v):
                fail.append("bad manifest id")
            if k == "bank_card" and not U.luhn_ok(v):
                fail.append("bad manifest card")
    listed = {e["case_id"] for e in man["cases"]}
    for c in cases:
        if c["case_id"] not in listed and (ID_RE.search(c["description"]) or PHONE_RE.search(c["description"])):
            fail.append(f"unlisted PII in {c['case_id']}")
    print(f"cases with PII: {len(man['cases'])}/{len(cases)} kinds={dict(kinds)}")

    cat = os.path.join(DATA, "catalog")
    matters = [json.loads(x) for x in open(os.path.join(cat, "matters.jsonl"), encoding="utf-8")]
    mats = [json.loads(x) for x in open(os.path.join(cat, "materials.jsonl"), encoding="utf-8")]
    with open(os.path.join(cat, "tickets.csv"), encoding="utf-8", newline="") as f:
        tickets = list(csv.DictReader(f))
    print(f"catalog: matters={len(matters)} materials={len(mats)} tickets={len(tickets)} total={len(matters) + len(mats) + len(tickets)}")
    print("situations total:", sum(len(m["situations"]) for m in matters))
    probs = collections.Counter(t["problem"] for t in tickets)
    rows = collections.Counter((t["matter_code"], t["problem"], t["resolution"]) for t in tickets)
    print(f"tickets: distinct problems={len(probs)} max_problem_repeat={max(probs.values())} identical_rows={sum(v - 1 for v in rows.values())}")
    if max(probs.values()) > 1:
        fail.append("duplicate ticket problems")
    pii_t = {t["ticket_id"] for t in tickets if ID_RE.search(t["problem"]) or PHONE_RE.search(t["problem"])}
    listed_t = {e["ticket_id"] for e in man["tickets"]}
    print(f"tickets with synthetic phone/ID: {len(pii_t)} (manifest lists {len(listed_t)})")
    if pii_t != listed_t:
        fail.append("ticket PII manifest mismatch")
    tbyid = {t["ticket_id"]: t for t in tickets}
    for e in man["tickets"]:
        for v in e["values"].values():
            if v not in tbyid[e["ticket_id"]]["problem"]:
                fail.append(f"ticket manifest value missing {e['ticket_id']}")
    for t in tickets:
        for idn in ID_RE.findall(t["problem"]):
            if not U.id_valid(idn):
                fail.append("bad ticket id")
        if MARKER_RE.search(t["problem"] + t["resolution"]):
            fail.append(f"marker in ticket {t['ticket_id']}")
    codes = {m["code"] for m in matters}
    for r in mats:
        if not r["matter_codes"] or any(c not in codes for c in r["matter_codes"]):
            fail.append(f"material {r['material_id']} bad matter_codes")
    if len({m["name"] for m in mats}) != len(mats):
        fail.append("duplicate material names")
    if fail:
        print("FAIL:")
        for x in fail[:30]:
            print("  ", x)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
