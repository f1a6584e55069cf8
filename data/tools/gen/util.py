"""Shared helpers for the data generator: synthetic identities, places, dates.

Everything here is driven by an explicit random.Random instance so that the
generator stays byte-for-byte reproducible. Nothing in this module touches the
network or the real world: names, ID numbers, phones and bank cards are all
fabricated, and ID numbers / bank cards merely satisfy their public checksums
(GB 11643-1999 and Luhn) so that PII detectors can be tested on them.
"""

import datetime as _dt
import hashlib

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"

# Shanghai district division codes (real codes; the people are fictional).
SH_REGIONS = {
    "黄浦区": "310101", "徐汇区": "310104", "长宁区": "310105", "静安区": "310106",
    "普陀区": "310107", "虹口区": "310109", "杨浦区": "310110", "闵行区": "310112",
    "宝山区": "310113", "嘉定区": "310114", "浦东新区": "310115", "金山区": "310116",
    "松江区": "310117", "青浦区": "310118", "奉贤区": "310120", "崇明区": "310151",
}
OUT_REGIONS = ["320102", "320583", "330106", "340104", "341302", "360102", "370102",
               "410105", "420106", "430104", "510107", "610113", "220102", "230103",
               "350102", "450103", "130102", "140105"]

# Streets / towns per district, used to build 受理中心 names.
STREETS = {
    "黄浦区": ["南京东路街道", "外滩街道", "半淞园路街道", "小东门街道", "豫园街道", "老西门街道", "五里桥街道", "打浦桥街道", "淮海中路街道", "瑞金二路街道"],
    "徐汇区": ["天平路街道", "湖南路街道", "斜土路街道", "枫林路街道", "长桥街道", "田林街道", "虹梅路街道", "康健新村街道", "徐家汇街道", "凌云路街道", "龙华街道", "漕河泾街道", "华泾镇"],
    "长宁区": ["华阳路街道", "江苏路街道", "新华路街道", "周家桥街道", "天山路街道", "仙霞新村街道", "虹桥街道", "程家桥街道", "北新泾街道", "新泾镇"],
    "静安区": ["江宁路街道", "石门二路街道", "南京西路街道", "静安寺街道", "曹家渡街道", "天目西路街道", "北站街道", "宝山路街道", "共和新路街道", "大宁路街道", "彭浦新村街道", "临汾路街道", "芷江西路街道", "彭浦镇"],
    "普陀区": ["曹杨新村街道", "长风新村街道", "长寿路街道", "甘泉路街道", "石泉路街道", "宜川路街道", "万里街道", "真如镇街道", "长征镇", "桃浦镇"],
    "虹口区": ["欧阳路街道", "曲阳路街道", "广中路街道", "嘉兴路街道", "凉城新村街道", "四川北路街道", "北外滩街道", "江湾镇街道"],
    "杨浦区": ["定海路街道", "平凉路街道", "江浦路街道", "四平路街道", "控江路街道", "长白新村街道", "延吉新村街道", "殷行街道", "大桥街道", "五角场街道", "新江湾城街道", "长海路街道"],
    "闵行区": ["江川路街道", "古美路街道", "新虹街道", "浦锦街道", "莘庄镇", "七宝镇", "颛桥镇", "华漕镇", "虹桥镇", "梅陇镇", "吴泾镇", "马桥镇", "浦江镇"],
    "宝山区": ["友谊路街道", "吴淞街道", "张庙街道", "罗店镇", "大场镇", "杨行镇", "月浦镇", "罗泾镇", "顾村镇", "高境镇", "庙行镇", "淞南镇"],
    "嘉定区": ["新成路街道", "真新街道", "嘉定镇街道", "南翔镇", "安亭镇", "马陆镇", "徐行镇", "华亭镇", "外冈镇", "江桥镇", "菊园新区"],
    "浦东新区": ["潍坊新村街道", "陆家嘴街道", "周家渡街道", "塘桥街道", "上钢新村街道", "南码头路街道", "沪东新村街道", "金杨新村街道", "洋泾街道", "浦兴路街道", "东明路街道", "花木街道", "川沙新镇", "高桥镇", "北蔡镇", "合庆镇", "唐镇", "曹路镇", "金桥镇", "张江镇", "三林镇", "惠南镇", "周浦镇", "新场镇", "康桥镇", "航头镇", "祝桥镇", "泥城镇", "书院镇", "万祥镇", "老港镇", "宣桥镇"],
    "金山区": ["石化街道", "朱泾镇", "枫泾镇", "张堰镇", "亭林镇", "吕巷镇", "廊下镇", "金山卫镇", "漕泾镇", "山阳镇"],
    "松江区": ["岳阳街道", "永丰街道", "方松街道", "中山街道", "广富林街道", "九里亭街道", "泗泾镇", "佘山镇", "车墩镇", "新桥镇", "洞泾镇", "九亭镇", "泖港镇", "石湖荡镇", "新浜镇", "叶榭镇", "小昆山镇"],
    "青浦区": ["夏阳街道", "盈浦街道", "香花桥街道", "朱家角镇", "练塘镇", "金泽镇", "赵巷镇", "徐泾镇", "华新镇", "重固镇", "白鹤镇"],
    "奉贤区": ["西渡街道", "奉浦街道", "金海街道", "南桥镇", "奉城镇", "庄行镇", "金汇镇", "四团镇", "青村镇", "柘林镇", "海湾镇"],
    "崇明区": ["城桥镇", "堡镇", "新河镇", "庙镇", "竖新镇", "向化镇", "三星镇", "港沿镇", "中兴镇", "陈家镇", "绿华镇", "港西镇", "建设镇", "新海镇", "东平镇", "长兴镇", "新村乡", "横沙乡"],
}
DISTRICTS = list(STREETS.keys())

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_M = ["建国", "志强", "国华", "永康", "海峰", "伟民", "文斌", "德明", "春生", "立新", "宏伟", "金根", "荣华", "卫东", "俊杰", "家豪", "振华", "明辉", "长根", "根宝", "阿福", "秋生", "浩然", "子轩", "宇航", "晨阳", "云飞", "佳俊", "国庆", "雪峰", "耀祖", "庆丰", "兴发", "勇", "斌", "磊", "涛", "军", "杰", "鹏"]
GIVEN_F = ["秀英", "桂英", "美华", "玉珍", "凤英", "丽娟", "雪梅", "静怡", "佳琪", "晓燕", "慧敏", "红霞", "文娟", "小妹", "金娣", "阿娟", "雅婷", "欣怡", "梦瑶", "海燕", "彩凤", "月琴", "爱华", "淑芬", "巧云", "晓雯", "丹", "婷", "琳", "芳", "敏", "莉", "颖", "萍", "倩"]

PHONE_PREFIX = ["139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "186", "185", "156", "133", "153", "189", "177", "181", "173", "199", "188", "187", "182", "183"]
BANK_BINS = ["622202", "621700", "622848", "621661", "622588", "621483", "622262", "623058", "621799", "622609"]


def stable_hex(text: str, n: int = 32) -> str:
    """Deterministic hex digest (Python's hash() is salted per process)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def id_check_digit(first17: str) -> str:
    s = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS))
    return ID_CHECK[s % 11]


def id_valid(idn: str) -> bool:
    return len(idn) == 18 and idn[:17].isdigit() and id_check_digit(idn[:17]) == idn[17]


def make_id(rng, birth: _dt.date, male: bool, region: str | None = None, local: bool = True) -> str:
    if region is None:
        region = rng.choice(list(SH_REGIONS.values())) if local else rng.choice(OUT_REGIONS)
    seq = rng.randint(10, 99)
    sex = rng.choice([1, 3, 5, 7, 9]) if male else rng.choice([0, 2, 4, 6, 8])
    first17 = f"{region}{birth:%Y%m%d}{seq:02d}{sex}"
    return first17 + id_check_digit(first17)


def make_phone(rng) -> str:
    return rng.choice(PHONE_PREFIX) + f"{rng.randint(0, 99999999):08d}"


def luhn_ok(num: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(num)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def make_bank_card(rng) -> str:
    body = rng.choice(BANK_BINS) + "".join(str(rng.randint(0, 9)) for _ in range(12))
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def make_name(rng, male: bool | None = None) -> tuple[str, bool]:
    if male is None:
        male = rng.random() < 0.5
    given = rng.choice(GIVEN_M if male else GIVEN_F)
    return rng.choice(SURNAMES) + given, male


def masked(name: str) -> str:
    """申请人王某某 style; two-character names become 王某."""
    return name[0] + ("某" if len(name) == 2 else "某某")


def birth_for_age(rng, age: int, ref: _dt.date) -> _dt.date:
    start = _dt.date(ref.year - age - 1, ref.month, ref.day) + _dt.timedelta(days=1)
    return start + _dt.timedelta(days=rng.randint(0, 360))


def center(district: str, street: str) -> str:
    return f"{district}{street}社区事务受理服务中心"


def pick_center(rng):
    d = rng.choice(DISTRICTS)
    s = rng.choice(STREETS[d])
    return d, center(d, s)


def rand_date(rng, start: _dt.date, end: _dt.date) -> _dt.date:
    return start + _dt.timedelta(days=rng.randint(0, (end - start).days))
