//! Deterministic synthetic data: residents in households, road names, employment spells,
//! assessments and historical cases.
//!
//! Everything here is fictional. Identity numbers use real Shanghai (and a few other provinces')
//! area codes so that they look right to a validator, carry a correct GB 11643 check digit, and
//! are stored with `synthetic = 1`. The generator is a fixed-seed SplitMix64 so that the same
//! `(seed, today)` always yields the same database.

use chrono::{Datelike, Months, NaiveDate};
use std::collections::HashSet;

/// A small deterministic PRNG (SplitMix64). Not for cryptography; only for reproducible fixtures.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    /// A copy of one element of a non-empty slice.
    pub fn pick_copy<T: Copy>(&mut self, xs: &[T]) -> T {
        *self.pick(xs)
    }
    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// One of Shanghai's 16 districts with its GB/T 2260 area code and its 街道/镇.
#[derive(Debug, Clone, Copy)]
pub struct District {
    /// District name, e.g. `浦东新区`.
    pub name: &'static str,
    /// Six-digit administrative area code.
    pub code: &'static str,
    /// Whether the district is suburban (郊区), where 农村户籍 exists.
    pub suburban: bool,
    /// Its 街道 and 镇.
    pub streets: &'static [&'static str],
}

/// Shanghai's 16 districts.
pub const DISTRICTS: [District; 16] = [
    District {
        name: "黄浦区",
        code: "310101",
        suburban: false,
        streets: &[
            "南京东路街道",
            "外滩街道",
            "半淞园路街道",
            "小东门街道",
            "豫园街道",
            "老西门街道",
            "五里桥街道",
            "打浦桥街道",
            "淮海中路街道",
            "瑞金二路街道",
        ],
    },
    District {
        name: "徐汇区",
        code: "310104",
        suburban: false,
        streets: &[
            "天平路街道",
            "湖南路街道",
            "斜土路街道",
            "枫林路街道",
            "长桥街道",
            "田林街道",
            "虹梅路街道",
            "康健新村街道",
            "徐家汇街道",
            "凌云路街道",
            "龙华街道",
            "漕河泾街道",
            "华泾镇",
        ],
    },
    District {
        name: "长宁区",
        code: "310105",
        suburban: false,
        streets: &[
            "华阳路街道",
            "江苏路街道",
            "新华路街道",
            "周家桥街道",
            "天山路街道",
            "仙霞新村街道",
            "虹桥街道",
            "程家桥街道",
            "北新泾街道",
            "新泾镇",
        ],
    },
    District {
        name: "静安区",
        code: "310106",
        suburban: false,
        streets: &[
            "江宁路街道",
            "石门二路街道",
            "南京西路街道",
            "静安寺街道",
            "曹家渡街道",
            "天目西路街道",
            "北站街道",
            "宝山路街道",
            "芷江西路街道",
            "共和新路街道",
            "大宁路街道",
            "彭浦新村街道",
            "临汾路街道",
            "彭浦镇",
        ],
    },
    District {
        name: "普陀区",
        code: "310107",
        suburban: false,
        streets: &[
            "曹杨新村街道",
            "长风新村街道",
            "长寿路街道",
            "甘泉路街道",
            "石泉路街道",
            "宜川路街道",
            "万里街道",
            "真如镇街道",
            "长征镇",
            "桃浦镇",
        ],
    },
    District {
        name: "虹口区",
        code: "310109",
        suburban: false,
        streets: &[
            "欧阳路街道",
            "曲阳路街道",
            "广中路街道",
            "嘉兴路街道",
            "凉城新村街道",
            "四川北路街道",
            "北外滩街道",
            "江湾镇街道",
        ],
    },
    District {
        name: "杨浦区",
        code: "310110",
        suburban: false,
        streets: &[
            "定海路街道",
            "平凉路街道",
            "江浦路街道",
            "四平路街道",
            "控江路街道",
            "长白新村街道",
            "延吉新村街道",
            "殷行街道",
            "大桥街道",
            "五角场街道",
            "新江湾城街道",
            "长海路街道",
        ],
    },
    District {
        name: "闵行区",
        code: "310112",
        suburban: true,
        streets: &[
            "江川路街道",
            "古美街道",
            "新虹街道",
            "浦锦街道",
            "莘庄镇",
            "七宝镇",
            "颛桥镇",
            "华漕镇",
            "虹桥镇",
            "梅陇镇",
            "吴泾镇",
            "马桥镇",
            "浦江镇",
        ],
    },
    District {
        name: "宝山区",
        code: "310113",
        suburban: true,
        streets: &[
            "吴淞街道",
            "张庙街道",
            "友谊路街道",
            "杨行镇",
            "月浦镇",
            "罗泾镇",
            "罗店镇",
            "顾村镇",
            "大场镇",
            "庙行镇",
            "淞南镇",
            "高境镇",
        ],
    },
    District {
        name: "嘉定区",
        code: "310114",
        suburban: true,
        streets: &[
            "新成路街道",
            "真新街道",
            "嘉定镇街道",
            "南翔镇",
            "安亭镇",
            "马陆镇",
            "徐行镇",
            "华亭镇",
            "外冈镇",
            "江桥镇",
        ],
    },
    District {
        name: "浦东新区",
        code: "310115",
        suburban: true,
        streets: &[
            "潍坊新村街道",
            "陆家嘴街道",
            "周家渡街道",
            "塘桥街道",
            "上钢新村街道",
            "南码头路街道",
            "沪东新村街道",
            "金杨新村街道",
            "洋泾街道",
            "浦兴路街道",
            "东明路街道",
            "花木街道",
            "川沙新镇",
            "高桥镇",
            "北蔡镇",
            "合庆镇",
            "唐镇",
            "曹路镇",
            "金桥镇",
            "高行镇",
            "张江镇",
            "三林镇",
            "惠南镇",
            "周浦镇",
            "新场镇",
            "大团镇",
            "康桥镇",
            "航头镇",
            "祝桥镇",
            "泥城镇",
            "宣桥镇",
            "书院镇",
            "万祥镇",
            "老港镇",
        ],
    },
    District {
        name: "金山区",
        code: "310116",
        suburban: true,
        streets: &[
            "石化街道",
            "朱泾镇",
            "枫泾镇",
            "张堰镇",
            "亭林镇",
            "吕巷镇",
            "廊下镇",
            "金山卫镇",
            "漕泾镇",
            "山阳镇",
        ],
    },
    District {
        name: "松江区",
        code: "310117",
        suburban: true,
        streets: &[
            "岳阳街道",
            "永丰街道",
            "方松街道",
            "中山街道",
            "广富林街道",
            "九里亭街道",
            "泗泾镇",
            "佘山镇",
            "车墩镇",
            "新桥镇",
            "洞泾镇",
            "九亭镇",
            "泖港镇",
            "石湖荡镇",
            "新浜镇",
            "叶榭镇",
            "小昆山镇",
        ],
    },
    District {
        name: "青浦区",
        code: "310118",
        suburban: true,
        streets: &[
            "夏阳街道",
            "盈浦街道",
            "香花桥街道",
            "朱家角镇",
            "练塘镇",
            "金泽镇",
            "赵巷镇",
            "徐泾镇",
            "华新镇",
            "重固镇",
            "白鹤镇",
        ],
    },
    District {
        name: "奉贤区",
        code: "310120",
        suburban: true,
        streets: &[
            "西渡街道",
            "奉浦街道",
            "金海街道",
            "南桥镇",
            "奉城镇",
            "庄行镇",
            "金汇镇",
            "四团镇",
            "青村镇",
            "柘林镇",
            "海湾镇",
        ],
    },
    District {
        name: "崇明区",
        code: "310151",
        suburban: true,
        streets: &[
            "城桥镇",
            "堡镇",
            "新河镇",
            "庙镇",
            "竖新镇",
            "向化镇",
            "三星镇",
            "港沿镇",
            "中兴镇",
            "陈家镇",
            "绿华镇",
            "港西镇",
            "建设镇",
            "新海镇",
            "东平镇",
            "长兴镇",
            "新村乡",
            "横沙乡",
        ],
    },
];

/// Area codes used for residents whose 户籍 is outside Shanghai (with the place name).
pub(crate) const OUTSIDE_AREAS: [(&str, &str); 12] = [
    ("340102", "安徽省合肥市"),
    ("320102", "江苏省南京市"),
    ("410102", "河南省郑州市"),
    ("510104", "四川省成都市"),
    ("420102", "湖北省武汉市"),
    ("330102", "浙江省杭州市"),
    ("360102", "江西省南昌市"),
    ("430102", "湖南省长沙市"),
    ("370102", "山东省济南市"),
    ("350102", "福建省福州市"),
    ("522301", "贵州省兴义市"),
    ("341202", "安徽省阜阳市"),
];

/// Provinces that received 支内 workers from Shanghai in the 1950s–70s.
const ZHINEI_PROVINCES: [&str; 10] = [
    "新疆",
    "安徽",
    "江西",
    "贵州",
    "云南",
    "甘肃",
    "宁夏",
    "黑龙江",
    "四川",
    "湖北",
];

const SURNAMES: [&str; 60] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金",
];
const GIVEN_CHARS: [&str; 96] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "萍", "红", "建", "国", "文", "辉", "力",
    "春", "晓", "海", "燕", "鹏", "云", "莉", "凤", "兰", "俊", "峰", "琳", "琴", "佳", "志", "宇",
    "婷", "雪", "浩", "亮", "斌", "倩", "颖", "慧", "欣", "嘉", "怡", "瑞", "思", "梅", "荣", "德",
    "林", "新", "宏", "成", "蓉", "珍", "彬", "晨", "阳", "凯", "洁", "悦", "翔", "帆", "菁", "淑",
    "冬", "根", "宝", "福", "金", "良", "永", "祥", "雯", "琪", "昊", "蕾", "铭", "逸", "哲", "轩",
];

/// First syllables for generated road names (place-like, not a list of real roads).
const ROAD_HEADS: [&str; 80] = [
    "长", "延", "淮", "兴", "和", "康", "宁", "安", "平", "丰", "永", "新", "宝", "金", "银", "华",
    "东", "西", "南", "北", "春", "秋", "云", "霞", "松", "柏", "桂", "兰", "梅", "竹", "泰", "昌",
    "盛", "瑞", "祥", "嘉", "德", "顺", "汇", "通", "江", "河", "湖", "海", "溪", "泾", "塘", "浦",
    "港", "桥", "荷", "莲", "杏", "枫", "杨", "柳", "樱", "桃", "芦", "蒲", "光", "明", "文", "武",
    "仁", "义", "礼", "智", "信", "忠", "龙", "凤", "鹤", "鹿", "鸿", "雁", "星", "辰", "晨", "曙",
];
const ROAD_TAILS: [&str; 60] = [
    "阳", "乐", "平", "宁", "兴", "华", "丰", "泰", "安", "康", "昌", "盛", "源", "林", "山", "川",
    "园", "苑", "庄", "浜", "泾", "塘", "桥", "港", "湾", "洲", "溪", "池", "泉", "坊", "城", "关",
    "亭", "台", "阁", "楼", "堂", "田", "岭", "坡", "虹", "霞", "辉", "光", "明", "祥", "瑞", "福",
    "寿", "喜", "秀", "美", "和", "顺", "裕", "通", "达", "联", "合", "新",
];
const ROAD_SUFFIXES: [(&str, u64); 9] = [
    ("路", 50),
    ("东路", 6),
    ("西路", 6),
    ("南路", 5),
    ("北路", 5),
    ("支路", 4),
    ("街", 8),
    ("弄", 6),
    ("公路", 10),
];

/// A generated road.
#[derive(Debug, Clone)]
pub struct Road {
    /// Road name.
    pub name: String,
    /// District index into [`DISTRICTS`].
    pub district: usize,
    /// 街道/镇 the road belongs to.
    pub street: &'static str,
    /// Kind: 路, 街, 弄, 公路.
    pub kind: &'static str,
}

/// A synthetic resident.
#[derive(Debug, Clone)]
pub struct Resident {
    /// Row id.
    pub id: i64,
    /// 18-digit resident ID (synthetic; valid checksum).
    pub id_number: String,
    /// Name.
    pub name: String,
    /// 男 / 女.
    pub gender: &'static str,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// Household id.
    pub household_id: i64,
    /// 本市城镇 / 本市农村 / 外省市.
    pub hukou: &'static str,
    /// Where the 户籍 is registered (a district name or a province/city outside Shanghai).
    pub hukou_place: String,
    /// Land expropriated (征地) flag.
    pub land_expropriated: bool,
    /// Holds a 上海市居住证 (only meaningful for 外省市).
    pub residence_permit: bool,
    /// District of residence (index into DISTRICTS).
    pub district: usize,
    /// 街道/镇 of residence.
    pub street: &'static str,
    /// Full address.
    pub address: String,
    /// Mobile number.
    pub mobile: String,
    /// 残疾人证 category, grade and number.
    pub disability: Option<(&'static str, i64, String)>,
    /// Living in an institution (养老/托养机构).
    pub in_institution: bool,
    /// 低保 / 低收入 / none.
    pub low_income: Option<&'static str>,
    /// Retired (drawing a pension).
    pub retired: bool,
    /// Monthly pension in yuan.
    pub pension_monthly: Option<i64>,
    /// 支内: (province, years served, date returned to Shanghai if returned).
    pub zhinei: Option<(&'static str, i64, Option<NaiveDate>)>,
}

/// An employment spell.
#[derive(Debug, Clone)]
pub struct Employment {
    /// Resident row id.
    pub resident_id: i64,
    /// Employer name.
    pub employer: String,
    /// District index of the workplace.
    pub employer_district: usize,
    /// 农业 / 非农.
    pub industry: &'static str,
    /// First contribution month (first day of month).
    pub start: NaiveDate,
    /// Last contribution month (first day), None = ongoing.
    pub end: Option<NaiveDate>,
    /// Contract end date (for ongoing spells).
    pub contract_end: Option<NaiveDate>,
    /// Monthly wage in yuan.
    pub wage: i64,
}

/// A 老年照护需求统一评估 / 长护险 record.
#[derive(Debug, Clone)]
pub struct Assessment {
    /// 申请号.
    pub application_no: String,
    /// Resident row id.
    pub resident_id: i64,
    /// Level 0 (未达等级) to 6.
    pub level: i64,
    /// Assessment date.
    pub assessed_on: NaiveDate,
    /// Valid until.
    pub valid_until: NaiveDate,
    /// Assessing agency.
    pub agency: String,
    /// 街道 where it was registered.
    pub street: &'static str,
    /// 登记状态.
    pub status: &'static str,
}

/// Everything the seeder writes.
#[derive(Debug, Default)]
pub struct World {
    /// Roads.
    pub roads: Vec<Road>,
    /// Residents.
    pub residents: Vec<Resident>,
    /// Employment spells.
    pub employment: Vec<Employment>,
    /// Active unemployment registrations: (resident id, registered on).
    pub unemployment: Vec<(i64, NaiveDate)>,
    /// Assessments.
    pub assessments: Vec<Assessment>,
    /// Existing subsidies: (resident id, matter code, start month, end month).
    pub subsidies: Vec<(i64, &'static str, NaiveDate, NaiveDate)>,
}

/// GB 11643-1999 check character for the first 17 digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (ch, w) in first17.chars().zip(W) {
        sum += ch.to_digit(10)? * w;
    }
    Some(C[(sum % 11) as usize])
}

/// Whether an 18-character resident ID is well formed: checksum and a real birth date.
pub fn id_number_valid(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (head, last) = id.split_at(17);
    let Some(c) = id_check_char(head) else {
        return false;
    };
    if !last.eq_ignore_ascii_case(&c.to_string()) {
        return false;
    }
    NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").is_ok()
}

/// Birth date encoded in an 18-digit ID.
pub fn birth_from_id(id: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(id.get(6..14)?, "%Y%m%d").ok()
}

/// First day of the month containing `d`.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// `d` shifted by `n` months (negative = back); clamps at month ends.
pub fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    if n >= 0 {
        d.checked_add_months(Months::new(n as u32)).unwrap_or(d)
    } else {
        d.checked_sub_months(Months::new(n.unsigned_abs()))
            .unwrap_or(d)
    }
}

/// Whole years between `birth` and `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i64 {
    let mut age = on.year() as i64 - birth.year() as i64;
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

fn make_id(
    rng: &mut Rng,
    area: &str,
    birth: NaiveDate,
    male: bool,
    used: &mut HashSet<String>,
) -> String {
    loop {
        let mut seq = rng.range(1, 998);
        // The 17th digit is odd for men and even for women.
        if (seq % 2 == 1) != male {
            seq += 1;
        }
        let head = format!("{area}{}{:03}", birth.format("%Y%m%d"), seq);
        if let Some(c) = id_check_char(&head) {
            let id = format!("{head}{c}");
            if used.insert(id.clone()) {
                return id;
            }
        }
    }
}

fn make_name(rng: &mut Rng, surname: &str) -> String {
    let mut s = surname.to_string();
    s.push_str(rng.pick_copy(&GIVEN_CHARS));
    if rng.chance(0.7) {
        s.push_str(rng.pick_copy(&GIVEN_CHARS));
    }
    s
}

fn make_mobile(rng: &mut Rng) -> String {
    const PREFIX: [&str; 12] = [
        "139", "138", "137", "136", "135", "158", "159", "186", "189", "133", "177", "199",
    ];
    format!("{}{:08}", rng.pick(&PREFIX), rng.below(100_000_000))
}

/// Roads: about 200 per district, unique per district.
pub fn roads(rng: &mut Rng) -> Vec<Road> {
    let total_weight: u64 = ROAD_SUFFIXES.iter().map(|s| s.1).sum();
    let mut out = Vec::with_capacity(3300);
    for (di, d) in DISTRICTS.iter().enumerate() {
        let mut seen = HashSet::new();
        let want = 190 + rng.below(30) as usize;
        while seen.len() < want {
            let mut w = rng.below(total_weight);
            let mut suffix = ROAD_SUFFIXES[0].0;
            for (s, weight) in ROAD_SUFFIXES {
                if w < weight {
                    suffix = s;
                    break;
                }
                w -= weight;
            }
            // 公路 are long suburban roads; downtown gets 路/街/弄 instead.
            if suffix == "公路" && !d.suburban {
                suffix = "路";
            }
            let head = rng.pick(&ROAD_HEADS);
            let tail = rng.pick(&ROAD_TAILS);
            if head == tail {
                continue;
            }
            let name = format!("{head}{tail}{suffix}");
            if seen.insert(name.clone()) {
                let kind = match suffix {
                    "街" => "街",
                    "弄" => "弄",
                    "公路" => "公路",
                    _ => "路",
                };
                out.push(Road {
                    name,
                    district: di,
                    street: rng.pick_copy(d.streets),
                    kind,
                });
            }
        }
    }
    out
}

/// Build the whole synthetic world relative to `today`.
pub fn world(seed: u64, today: NaiveDate, n_residents: usize) -> World {
    let mut rng = Rng::new(seed);
    let roads = roads(&mut rng);
    let mut w = World {
        roads,
        ..World::default()
    };
    let mut used_ids = HashSet::new();
    let mut household_id = 0i64;
    let mut next_id = 1i64;
    let mut app_seq = 0u64;
    while w.residents.len() < n_residents {
        household_id += 1;
        let road = w.roads[rng.below(w.roads.len() as u64) as usize].clone();
        let d = DISTRICTS[road.district];
        let u = rng.below(100);
        let hukou: &'static str = if d.suburban && u < 35 {
            "本市农村"
        } else if u < 75 {
            "本市城镇"
        } else {
            "外省市"
        };
        let (area, hukou_place) = if hukou == "外省市" {
            let (code, place) = rng.pick(&OUTSIDE_AREAS);
            (code.to_string(), place.to_string())
        } else {
            (d.code.to_string(), d.name.to_string())
        };
        let land = (hukou == "本市农村" && rng.chance(0.3))
            || (hukou == "本市城镇" && d.suburban && rng.chance(0.08));
        let address = if road.kind == "弄" {
            format!(
                "上海市{}{}{}号{}室",
                d.name,
                road.name,
                rng.range(1, 120),
                rng.range(101, 1602)
            )
        } else {
            format!(
                "上海市{}{}{}弄{}号{}室",
                d.name,
                road.name,
                rng.range(1, 1500),
                rng.range(1, 60),
                rng.range(101, 1602)
            )
        };
        let surname = rng.pick(&SURNAMES).to_string();
        // Household composition: a head of household, maybe a spouse, children, a parent.
        let head_age = rng.range(22, 92);
        let mut ages = vec![head_age];
        if rng.chance(0.75) {
            ages.push((head_age + rng.range(-5, 5)).clamp(20, 95));
        }
        if head_age < 70 && rng.chance(0.55) {
            ages.push((head_age - rng.range(22, 34)).max(1));
        }
        if head_age < 60 && rng.chance(0.25) {
            ages.push((head_age + rng.range(24, 32)).min(98));
        }
        for (k, age) in ages.into_iter().enumerate() {
            if w.residents.len() >= n_residents {
                break;
            }
            let male = if k == 1 {
                rng.chance(0.1) ^ (w.residents.last().map(|r| r.gender == "女").unwrap_or(true))
            } else {
                rng.chance(0.5)
            };
            let days_back = age * 365 + rng.range(0, 364) + age / 4;
            let birth = today - chrono::Duration::days(days_back);
            let id_number = make_id(&mut rng, &area, birth, male, &mut used_ids);
            let name = if k == 1 {
                let spouse_surname = *rng.pick(&SURNAMES);
                make_name(&mut rng, spouse_surname)
            } else {
                make_name(&mut rng, &surname)
            };
            let rid = next_id;
            next_id += 1;
            let age_now = age_on(birth, today);
            let retire_age = crate::rules::retirement_age(if male { "男" } else { "女" }, birth);
            let retired = age_now >= retire_age && hukou != "外省市"
                || (age_now >= retire_age + 3 && rng.chance(0.6));
            let disability = if rng.chance(0.07) {
                const CATS: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];
                let cat = *rng.pick(&CATS);
                let grade = rng.range(1, 4);
                Some((
                    cat,
                    grade,
                    format!("{}{}{}", id_number, grade, rng.range(1, 7)),
                ))
            } else {
                None
            };
            let low_income = if rng.chance(0.06) {
                Some("低保")
            } else if rng.chance(0.07) {
                Some("低收入")
            } else {
                None
            };
            let pension = if retired {
                Some(rng.range(1_300, 9_800))
            } else {
                None
            };
            let zhinei = if hukou != "外省市" && age_now >= 68 && rng.chance(0.12) {
                let returned = if rng.chance(0.8) {
                    Some(today - chrono::Duration::days(rng.range(400, 9000)))
                } else {
                    None
                };
                Some((*rng.pick(&ZHINEI_PROVINCES), rng.range(8, 35), returned))
            } else {
                None
            };
            let in_institution =
                age_now >= 75 && rng.chance(0.08) || disability.is_some() && rng.chance(0.05);
            let r = Resident {
                id: rid,
                id_number,
                name,
                gender: if male { "男" } else { "女" },
                birth_date: birth,
                household_id,
                hukou,
                hukou_place: hukou_place.clone(),
                land_expropriated: land,
                residence_permit: hukou == "外省市" && rng.chance(0.7),
                district: road.district,
                street: road.street,
                address: address.clone(),
                mobile: make_mobile(&mut rng),
                disability,
                in_institution,
                low_income,
                retired,
                pension_monthly: pension,
                zhinei,
            };
            employment_for(&mut rng, &r, today, age_now, retire_age, &mut w);
            if age_now >= 60 && rng.chance(0.45) {
                app_seq += 1;
                let level = *rng.pick(&[0, 1, 2, 2, 3, 3, 4, 4, 5, 6]);
                let assessed_on = today - chrono::Duration::days(rng.range(10, 1000));
                let valid_until = add_months(assessed_on, 24);
                let status = if rng.chance(0.85) {
                    "已登记"
                } else {
                    "评估中"
                };
                w.assessments.push(Assessment {
                    application_no: format!("CHX{}{:06}", assessed_on.format("%Y%m"), app_seq),
                    resident_id: rid,
                    level,
                    assessed_on,
                    valid_until,
                    agency: format!(
                        "{}第{}评估所",
                        DISTRICTS[road.district].name,
                        rng.range(1, 4)
                    ),
                    street: road.street,
                    status,
                });
            }
            w.residents.push(r);
        }
    }
    w
}

fn employment_for(
    rng: &mut Rng,
    r: &Resident,
    today: NaiveDate,
    age: i64,
    retire_age: i64,
    w: &mut World,
) {
    if age < 18 {
        return;
    }
    const EMPLOYER_HEAD: [&str; 16] = [
        "申城",
        "浦江",
        "华东",
        "沪联",
        "东海",
        "新沪",
        "长江",
        "金桥",
        "海湾",
        "银河",
        "宏达",
        "汇丰源",
        "恒信",
        "锦程",
        "明华",
        "佳禾",
    ];
    const EMPLOYER_TAIL: [&str; 10] = [
        "物流有限公司",
        "物业管理有限公司",
        "机电设备有限公司",
        "餐饮管理有限公司",
        "电子科技有限公司",
        "服装有限公司",
        "建设工程有限公司",
        "商贸有限公司",
        "食品有限公司",
        "农业专业合作社",
    ];
    let career_start = add_months(
        month_start(r.birth_date),
        ((18 + rng.range(0, 6)) * 12) as i32,
    );
    let this_month = month_start(today);
    let mut cursor = career_start;
    let spells = rng.range(1, 4);
    let working_age = age < retire_age;
    let currently_employed = working_age && rng.chance(0.62);
    for s in 0..spells {
        if cursor >= this_month {
            break;
        }
        let last = s == spells - 1;
        let tail = *rng.pick(&EMPLOYER_TAIL);
        let industry = if tail == "农业专业合作社" {
            "农业"
        } else {
            "非农"
        };
        // Rural residents often work in another district.
        let employer_district = if r.hukou != "外省市"
            && rng.chance(if r.hukou == "本市农村" { 0.6 } else { 0.3 })
        {
            rng.below(16) as usize
        } else {
            r.district
        };
        let employer = format!("上海{}{}", rng.pick(&EMPLOYER_HEAD), tail);
        let wage = rng.range(2_300, 16_000);
        if last && currently_employed {
            let start = if rng.chance(0.5) {
                add_months(this_month, -(rng.range(1, 30) as i32))
            } else {
                cursor.max(add_months(this_month, -120))
            };
            let contract_months = *rng.pick(&[6, 12, 12, 24, 36, 36, 60]);
            let contract_end = add_months(start, contract_months) - chrono::Duration::days(1);
            w.employment.push(Employment {
                resident_id: r.id,
                employer,
                employer_district,
                industry,
                start,
                end: None,
                contract_end: Some(contract_end),
                wage,
            });
            if r.hukou == "本市农村" && employer_district != r.district && rng.chance(0.15) {
                let sub_start = add_months(this_month, -(rng.range(2, 10) as i32)).max(start);
                w.subsidies
                    .push((r.id, "SQ-RS-019", sub_start, add_months(sub_start, 11)));
            }
        } else {
            let limit = if working_age {
                add_months(this_month, -1)
            } else {
                add_months(month_start(r.birth_date), (retire_age * 12) as i32)
            };
            let end = add_months(cursor, rng.range(10, 150) as i32).min(limit);
            if end < cursor {
                break;
            }
            w.employment.push(Employment {
                resident_id: r.id,
                employer,
                employer_district,
                industry,
                start: cursor,
                end: Some(end),
                contract_end: None,
                wage,
            });
            cursor = add_months(end, rng.range(1, 20) as i32);
        }
    }
    if working_age && !currently_employed && rng.chance(0.25) {
        w.unemployment
            .push((r.id, today - chrono::Duration::days(rng.range(5, 300))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_known_example() {
        // The worked example of GB 11643-1999 Annex: 11010519491231002X.
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
        assert!(id_number_valid("11010519491231002X"));
        assert!(!id_number_valid("110105194912310021"));
        assert!(!id_number_valid("11010519491331002X"));
    }

    #[test]
    fn world_is_deterministic_and_valid() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        let a = world(7, today, 800);
        let b = world(7, today, 800);
        assert_eq!(a.residents.len(), 800);
        assert_eq!(
            a.residents.iter().map(|r| &r.id_number).collect::<Vec<_>>(),
            b.residents.iter().map(|r| &r.id_number).collect::<Vec<_>>()
        );
        assert!(a.residents.iter().all(|r| id_number_valid(&r.id_number)));
        assert!(
            a.residents
                .iter()
                .all(|r| birth_from_id(&r.id_number) == Some(r.birth_date))
        );
        assert!(a.roads.len() >= 3000);
        let districts: HashSet<_> = a.roads.iter().map(|r| r.district).collect();
        assert_eq!(districts.len(), 16);
    }
}
