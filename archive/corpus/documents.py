"""Synthetic customers and the text of their documents (no rendering).

Public surface:

- ``SampleCustomer`` / ``SampleDocument``: frozen records; ``SampleDocument.pages`` is the ground
  truth, the exact lines of every page joined by ``"\\n"``.
- ``make_customers(count, *, seed)`` and ``make_documents(customers, *, seed, per_customer)``:
  deterministic for a given seed.
- ``DOC_TYPES`` (doc_type -> filing category) and ``id_check_digit`` (GB 11643).

Every line is kept to about 28 full-width characters so that it fits an A4 page at ~40 px per
character at 300 dpi; the first line of page 1 is the document title and multi-page documents end
every page with a "第 n 页 共 m 页" footer line.
"""

from __future__ import annotations

import datetime
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["DOC_TYPES", "SampleCustomer", "SampleDocument", "id_check_digit", "make_customers",
           "make_documents"]

# document type -> filing category (业扩报装: new connections; 用电检查; 电能计量: metering)
DOC_TYPES: dict[str, str] = {"用电申请书": "业扩报装", "供用电合同": "业扩报装",
                             "安全用电检查记录": "用电检查", "计量装置装拆表工作单": "电能计量"}

WRAP_WIDTH = 28.0


@dataclass(frozen=True)
class SampleCustomer:
    account: str  # 户号, 10 digits, unique within a generated set
    name: str  # 户名: a person or an enterprise
    customer_class: str  # "高压" (>= 10 kV) or "低压"
    voltage: str  # "0.22kV", "0.4kV", "10kV", "20kV", "35kV"
    address: str
    phone: str  # 11-digit mobile
    id_number: str  # 18 characters with a GB 11643 check digit (the signer's, for enterprises)


@dataclass(frozen=True)
class SampleDocument:
    doc_type: str  # a key of DOC_TYPES
    category: str  # its filing category
    title: str  # the heading on page 1, e.g. "低压非居民用电申请书"
    customer: SampleCustomer
    doc_date: datetime.date
    pages: tuple[str, ...]  # ground truth: the lines of each page joined by "\n"


# (city, district, ID region code, roads); the account prefix reuses the city digits of the code
_DISTRICTS: tuple[tuple[str, str, str, str], ...] = (
    ("杭州市", "西湖区", "330106", "文三路 天目山路 古墩路 教工路"),
    ("杭州市", "拱墅区", "330105", "莫干山路 湖墅南路 上塘路"),
    ("杭州市", "上城区", "330102", "解放路 庆春路 秋涛路"),
    ("杭州市", "滨江区", "330108", "江南大道 滨盛路 长河路"),
    ("杭州市", "萧山区", "330109", "市心路 金城路 北干路"),
    ("宁波市", "海曙区", "330203", "中山西路 望春路"),
    ("宁波市", "鄞州区", "330212", "天童路 四明中路"),
    ("宁波市", "北仑区", "330206", "明州路 新大路"),
    ("温州市", "鹿城区", "330302", "人民路 车站大道"),
    ("温州市", "瓯海区", "330304", "温州大道 南白象路"),
    ("嘉兴市", "南湖区", "330402", "中山路 广益路"),
    ("嘉兴市", "秀洲区", "330411", "洪兴路 新塍路"),
    ("绍兴市", "越城区", "330602", "解放北路 中兴路"),
    ("绍兴市", "柯桥区", "330603", "笛扬路 湖西路"),
    ("金华市", "婺城区", "330702", "八一北街 人民西路"),
    ("金华市", "义乌市", "330782", "稠州北路 城中中路"),
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红建文辉国林志海斌波宁燕鹏飞"
          "云晓俊峰春雪琳丹梅荣新亮宇浩凯鑫佳婷")
_BRANDS = ("明达", "恒通", "华丰", "鑫源", "永盛", "天成", "宏远", "金利", "瑞丰", "嘉禾", "康泰",
           "博远", "兴隆", "长青", "东升", "汇通", "德胜", "安达", "立信", "佳和")
_TRADES = (("纺织", "纺织业"), ("机械", "通用设备制造业"), ("电子", "电子器件制造"),
           ("食品", "食品制造业"), ("塑料", "塑料制品业"), ("包装", "印刷和包装业"),
           ("建材", "非金属矿物制品业"), ("印染", "纺织业"), ("五金", "金属制品业"),
           ("服装", "纺织服装业"), ("物流", "仓储业"), ("酒店管理", "住宿业"),
           ("家具", "家具制造业"), ("汽车配件", "汽车制造业"), ("新材料", "化学原料制造"))
_MOBILE_PREFIXES = ("130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                    "155", "157", "158", "159", "177", "180", "182", "185", "187", "188", "189")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """Return the GB 11643 check character ("0"-"9" or "X") for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _person_name(rng: random.Random) -> str:
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(_SURNAMES) + given


def _id_number(rng: random.Random, region: str) -> str:
    birth = datetime.date(1955, 1, 1) + datetime.timedelta(days=rng.randrange(45 * 365))
    first17 = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_check_digit(first17)


def make_customers(count: int, *, seed: int = 0) -> list[SampleCustomer]:
    """Return ``count`` customers (about a third of them enterprises) with unique accounts."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    customers: list[SampleCustomer] = []
    accounts: set[str] = set()
    while len(customers) < count:
        city, district, region, roads = rng.choice(_DISTRICTS)
        account = f"33{region[2:4]}{rng.randrange(10**6):06d}"
        if account in accounts:
            continue
        accounts.add(account)
        street = f"浙江省{city}{district}{rng.choice(roads.split())}{rng.randint(1, 399)}号"
        if rng.random() < 0.35:
            brand, (trade, _) = rng.choice(_BRANDS), rng.choice(_TRADES)
            name = f"{city[:-1]}{brand}{trade}有限公司"
            voltage = rng.choices(("0.4kV", "10kV", "20kV", "35kV"), weights=(4, 5, 1, 1))[0]
            if rng.random() < 0.5:
                street += f"{rng.randint(1, 12)}号厂房"
        else:
            name = _person_name(rng)
            voltage = rng.choices(("0.22kV", "0.4kV"), weights=(4, 1))[0]
            floor, room = rng.randint(1, 28), rng.randint(1, 4)
            street += f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{floor}0{room}室"
        kv = float(voltage.removesuffix("kV"))
        phone = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        customers.append(SampleCustomer(
            account=account, name=name, customer_class="高压" if kv >= 10 else "低压",
            voltage=voltage, address=street, phone=phone, id_number=_id_number(rng, region),
        ))
    return customers


# ----------------------------------------------------------------------------- text helpers

def _width(text: str) -> float:
    # ASCII glyphs in the CJK fonts are roughly half an em wide
    return sum(0.55 if ord(ch) < 128 else 1.0 for ch in text)


_NO_LINE_START = set("，。、；：）》”！？")


def _wrap(text: str, width: float = WRAP_WIDTH) -> list[str]:
    """Break at display width; ASCII runs stay whole and no line starts with punctuation."""
    lines: list[str] = []
    current = ""
    for token in re.findall(r"[A-Za-z0-9.()/×%-]+|.", text):
        if current and _width(current + token) > width and token not in _NO_LINE_START:
            lines.append(current.strip())
            current = ""
        current += token
    if current.strip():
        lines.append(current.strip())
    return lines


def _date(d: datetime.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _city(customer: SampleCustomer) -> str:
    match = re.search(r"省(.+?)市", customer.address)
    return match.group(1) if match else "城区"


def _supplier(customer: SampleCustomer) -> str:
    return f"{_city(customer)}供电公司"


def _is_enterprise(customer: SampleCustomer) -> bool:
    return customer.name.endswith("公司")


def _contact(customer: SampleCustomer) -> str:
    """The person who signs for the customer; stable per account so every document agrees."""
    if not _is_enterprise(customer):
        return customer.name
    return _person_name(random.Random(customer.account))  # noqa: S311 - derived test data


def _capacity_kva(customer: SampleCustomer) -> int:
    # seeded by account so application, contract and inspection state the same capacity
    local = random.Random(f"capacity:{customer.account}")  # noqa: S311 - derived test data
    kv = float(customer.voltage.removesuffix("kV"))
    if kv < 0.3:
        return local.choice((4, 6, 8, 10, 12, 16))
    if kv < 1:
        sizes = (30, 50, 80, 100, 125, 160) if _is_enterprise(customer) else (10, 16, 20)
        return local.choice(sizes)
    if kv < 30:
        return local.choice((250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000))
    return local.choice((3150, 4000, 5000, 6300, 8000, 10000))


def _usage_class(customer: SampleCustomer, capacity: int) -> str:
    # two-part (大工业) tariffs start at 315 kVA
    if not _is_enterprise(customer):
        return "居民生活用电"
    return "大工业用电" if capacity >= 315 else "一般工商业用电"


def _metering(customer: SampleCustomer, capacity: int) -> str:
    if customer.customer_class == "低压":
        return "低供低计"
    return "高供高计" if capacity >= 315 else "高供低计"


def _fields(*pairs: tuple[str, str]) -> list[str]:
    return [f"{label}：{value}" for label, value in pairs]


def _number_clauses(clauses: Iterable[str]) -> list[str]:
    lines: list[str] = []
    for i, clause in enumerate(clauses, 1):
        lines += _wrap(f"{i}. {clause}")
    return lines


# ----------------------------------------------------------------------------- documents

_Built = tuple[str, list[list[str]]]  # (title, lines of each page)


def _application(c: SampleCustomer, d: datetime.date, rng: random.Random) -> _Built:
    capacity = _capacity_kva(c)
    usage = _usage_class(c, capacity)
    if c.customer_class == "高压":
        title = "高压用电申请书"
    else:
        title = "低压居民用电申请书" if usage == "居民生活用电" else "低压非居民用电申请书"
    if _is_enterprise(c):
        trade = next((t[1] for t in _TRADES if t[0] in c.name), "其他制造业")
        equipment = rng.choice(("生产设备", "空压机", "车间照明", "冷库机组", "注塑机"))
        equipment += f" {rng.randint(2, 40)} 台"
    else:
        trade = "城乡居民生活"
        equipment = f"空调 {rng.randint(1, 4)} 台，热水器 {rng.randint(1, 2)} 台"
    page = [title, f"申请编号：SQ{d:%Y%m%d}-{rng.randrange(10000):04d}"]
    page += _fields(
        ("户号", c.account), ("户名", c.name), ("用电地址", c.address),
        ("联系人", _contact(c)), ("联系电话", c.phone), ("证件类型", "居民身份证"),
        ("证件号码", c.id_number), ("申请类别", rng.choice(("新装", "增容", "新装"))),
        ("供电电压", c.voltage), ("申请容量", f"{capacity} kVA"), ("用电类别", usage),
        ("行业分类", trade), ("主要用电设备", equipment),
        ("预计投运日期", _date(d + datetime.timedelta(days=rng.randint(30, 180)))),
    )
    page += ["申请人承诺："]
    page += _wrap(rng.choice((
        "以上所填内容及提供的资料真实有效，如有不实，愿承担由此产生的一切责任。",
        "本人保证所填内容及所附资料真实、准确，并遵守供电企业的各项规定。",
    )))
    page += [f"申请人（签章）：{c.name}", f"日期：{_date(d)}"]
    accepted = d + datetime.timedelta(days=rng.randint(0, 3))
    page += [f"受理单位（盖章）：{_supplier(c)}", f"受理人：{_person_name(rng)}",
             f"受理日期：{_date(accepted)}"]
    return title, [page]


def _contract(c: SampleCustomer, d: datetime.date, rng: random.Random) -> _Built:
    capacity = _capacity_kva(c)
    usage = _usage_class(c, capacity)
    if c.customer_class == "高压":
        title = "高压供用电合同"
    else:
        title = "低压居民供用电合同" if usage == "居民生活用电" else "低压非居民供用电合同"
    station = rng.choice(("城西", "江南", "新塘", "长河", "凤凰", "东湖", "北站", "云龙"))
    line_no = rng.randint(1, 30)
    page1 = [title, f"合同编号：GDHT-{d.year}-{rng.randrange(10**6):06d}"]
    page1 += _fields(("供电人", _supplier(c)), ("用电人", c.name), ("户号", c.account),
                     ("用电地址", c.address), ("签订日期", _date(d)))
    page1 += _wrap("为明确供电人和用电人在电力供应与使用中的权利和义务，根据《中华人民共和国"
                   "民法典》《中华人民共和国电力法》《电力供应与使用条例》等规定，"
                   "经双方协商一致，订立本合同。")
    page1 += ["第一条 用电性质和用电容量"]
    page1 += _number_clauses((f"用电类别：{usage}。", f"合同约定容量：{capacity} kVA。"))
    page1 += ["第二条 供电方式"]
    if c.customer_class == "高压":
        sources = rng.choice(("单电源", "单电源", "双电源"))
        feeder = f"供电电源引自{station}变电站{line_no}号出线。"
    else:
        sources = "单电源"
        feeder = f"供电电源引自{station}{line_no}号公用配电变压器。"
    page1 += _number_clauses((
        f"供电人以{c.voltage}电压、{sources}方式向用电人供电。", feeder,
        "供电人应按国家规定的电能质量标准向用电人供电。",
    ))
    page1 += ["第三条 产权分界点"]
    page1 += _wrap(rng.choice((
        "产权分界点为用电人进线电缆与公用线路的连接处，分界点电源侧归供电人所有。",
        "产权分界点设在计量装置出线端，分界点以下设施由用电人负责运行维护。",
    )))

    metering = _metering(c, capacity)
    if usage == "大工业用电":
        tariff = "执行两部制电价，基本电费按变压器容量计收。"
    elif usage == "居民生活用电":
        tariff = "执行居民阶梯电价及峰谷分时电价。"
    else:
        tariff = "执行单一制电价及峰谷分时电价。"
    page2 = ["第四条 计量方式"]
    page2 += _number_clauses((
        f"计量方式为{metering}，计量点设在产权分界处。",
        "电能计量装置由供电人安装、维护和管理。",
        "用电人应妥善保护计量装置，发现异常应及时告知供电人。",
    ))
    page2 += ["第五条 电价及电费结算"]
    page2 += _number_clauses((
        "电价按政府主管部门批准的标准执行。", tariff,
        f"电费按月结算，用电人应于每月{rng.choice((15, 20, 25))}日前交清电费。",
        rng.choice(("逾期交费的，按日加收电费违约金。",
                    "用电人逾期未交电费的，应按规定承担电费违约金。")),
    ))
    page2 += ["第六条 违约责任"]
    page2 += _number_clauses((
        "供电人违反本合同约定中断供电的，应承担相应赔偿责任。",
        "用电人擅自超过合同约定容量用电等违约用电行为，应按规定承担违约使用电费。",
        "用电人窃电的，供电人有权中止供电，用电人应补交电费并承担补交电费三倍的违约使用电费。",
    ))

    years = rng.choice((3, 5))
    page3 = ["第七条 合同有效期"]
    page3 += _number_clauses((
        f"本合同有效期为{years}年，自双方签字盖章之日起生效。",
        "合同期满，双方均未提出书面异议的，本合同自动续签，有效期与原合同相同。",
    ))
    page3 += ["第八条 争议解决"]
    page3 += _wrap(rng.choice((
        "双方发生争议时，应协商解决；协商不成的，可向供电人所在地人民法院起诉。",
        "因本合同引起的争议，双方协商解决；协商不成的，提请当地仲裁委员会仲裁。",
    )))
    page3 += ["第九条 其他"]
    copies, each = rng.choice((("两", "一"), ("四", "两")))
    page3 += _wrap(f"本合同一式{copies}份，双方各执{each}份，具有同等法律效力。")
    page3 += [f"供电人（盖章）：{_supplier(c)}", f"委托代理人：{_person_name(rng)}",
              f"日期：{_date(d)}", ""]
    if _is_enterprise(c):
        page3 += [f"用电人（盖章）：{c.name}", f"委托代理人：{_contact(c)}"]
    else:
        page3 += [f"用电人（签字）：{c.name}"]
    page3 += [f"联系电话：{c.phone}", f"日期：{_date(d)}"]
    return title, [page1, page2, page3]


_CHECKS: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("漏电保护器", ("安装齐全，试跳动作正常", "动作可靠，试验记录齐全"),
     (("未按月试跳，无试验记录", "每月试跳漏电保护器并做好记录。"),
      ("总保护器损坏未更换", "立即更换损坏的漏电保护器。"))),
    ("接地装置", ("接地电阻{ohm}欧姆，符合要求",),
     (("接地引下线锈蚀严重", "更换接地引下线并复测接地电阻。"),)),
    ("计量装置", ("封印完好，运行正常", "表计运行正常，接线无误"),
     (("计量箱门锁损坏", "配合供电人修复计量箱门锁。"),)),
    ("配电设备", ("运行正常，无异常发热",),
     (("配电房内堆放杂物", "清理配电房杂物，保持通道畅通。"),
      ("变压器有渗油现象", "尽快安排检修，处理变压器渗油。"))),
    ("电气线路", ("绝缘良好，敷设规范",),
     (("部分线路老化，存在私拉乱接", "更换老化线路，拆除私拉乱接线路。"),)),
    ("自备电源", ("无自备电源", "已装设可靠的闭锁装置"),
     (("自备发电机未装闭锁装置", "加装防倒送电闭锁装置并报供电人备案。"),)),
    ("安全工器具", ("配备齐全，在试验周期内",),
     (("绝缘手套超过试验周期", "将安全工器具送检，合格后方可使用。"),)),
    ("运行记录", ("值班及运行记录齐全",),
     (("运行记录不全", "完善值班及设备运行记录。"),)),
)


def _inspection(c: SampleCustomer, d: datetime.date, rng: random.Random) -> _Built:
    capacity = _capacity_kva(c)
    title = f"{c.customer_class}客户安全用电检查记录"
    page = [title, f"编号：JC{d:%Y%m}-{rng.randrange(10000):04d}"]
    page += _fields(
        ("户号", c.account), ("户名", c.name), ("用电地址", c.address),
        ("供电电压", c.voltage), ("受电容量", f"{capacity} kVA"), ("检查日期", _date(d)),
        ("检查类别", rng.choice(("定期检查", "专项检查", "保电检查", "季节性检查"))),
        ("检查人员", f"{_person_name(rng)}、{_person_name(rng)}"),
    )
    page += ["检查项目及结果："]
    items = _CHECKS if c.customer_class == "高压" else _CHECKS[:6]
    advice: list[str] = []
    for i, (item, ok, faults) in enumerate(items, 1):
        if rng.random() < 0.25:
            finding, fix = rng.choice(faults)
            advice.append(fix)
        else:
            finding = rng.choice(ok).format(ohm=f"{rng.uniform(0.8, 3.9):.1f}")
        page.append(f"{i}. {item}：{finding}")
    if advice:
        page.append(f"检查结论：存在安全隐患{len(advice)}项，需限期整改。")
        page.append("整改意见：")
        page += _number_clauses(advice)
        page.append(f"整改期限：{_date(d + datetime.timedelta(days=rng.choice((15, 30))))}前")
    else:
        page += ["检查结论：未发现安全隐患。", "整改意见：无。"]
    page += [f"用电人签收（签字）：{_contact(c)}", f"检查单位（盖章）：{_supplier(c)}",
             f"日期：{_date(d)}"]
    return title, [page]


def _meter_numbers(rng: random.Random) -> str:
    return f"33{rng.randrange(10**14):014d}"


def _work_order(c: SampleCustomer, d: datetime.date, rng: random.Random) -> _Built:
    capacity = _capacity_kva(c)
    title = "电能计量装置装拆表工作单"
    job = rng.choice(("新装", "换表", "换表", "拆表"))
    page = [title, f"工单编号：ZC{d:%Y%m%d}{rng.randrange(1000):03d}"]
    page += _fields(("户号", c.account), ("户名", c.name), ("用电地址", c.address),
                    ("工作类型", job), ("装拆日期", _date(d)),
                    ("计量方式", _metering(c, capacity)))
    if c.voltage == "0.22kV":
        kind, spec, ct = "单相智能电能表", "220V 5(60)A", None
    elif c.customer_class == "低压":
        direct = capacity <= 50
        kind = "三相四线智能电能表"
        spec = "3×220/380V 10(100)A" if direct else "3×220/380V 1.5(6)A"
        ct = None if direct else rng.choice(("100/5", "150/5", "200/5", "300/5"))
    else:
        kind, spec = "三相三线智能电能表", "3×100V 1.5(6)A"
        ct = rng.choice(("20/5", "30/5", "50/5", "75/5", "100/5"))
    total = rng.uniform(1000, 99999)
    peak = total * rng.uniform(0.35, 0.6)
    if job != "新装":
        page += ["拆除电能表："]
        page += _fields(("表号", _meter_numbers(rng)), ("类型", kind),
                        ("有功总示数", f"{total:.2f}"), ("峰示数", f"{peak:.2f}"),
                        ("谷示数", f"{total - peak:.2f}"))
    if job != "拆表":
        page += ["装出电能表："]
        page += _fields(("表号", _meter_numbers(rng)), ("类型", kind), ("规格", spec),
                        ("有功总示数", "0.00"))
    if ct is not None:
        ratio = int(ct.split("/")[0]) // 5
        if c.customer_class == "高压":
            ratio *= int(float(c.voltage.removesuffix("kV")) * 10)
            page += _fields(("电压互感器变比", f"{c.voltage.removesuffix('kV')}000/100"))
        page += _fields(("电流互感器变比", ct), ("综合倍率", str(ratio)))
    page += _fields(("封印号", f"ZJ{rng.randrange(10**8):08d}"),
                    ("装接人员", f"{_person_name(rng)}、{_person_name(rng)}"))
    page += [f"客户确认（签字）：{_contact(c)}", f"装接单位（盖章）：{_supplier(c)}",
             f"完成日期：{_date(d)}"]
    return title, [page]


_BUILDERS: dict[str, Callable[[SampleCustomer, datetime.date, random.Random], _Built]] = {
    "用电申请书": _application,
    "供用电合同": _contract,
    "安全用电检查记录": _inspection,
    "计量装置装拆表工作单": _work_order,
}


def make_documents(
    customers: Iterable[SampleCustomer], *, seed: int = 0, per_customer: int = 1
) -> list[SampleDocument]:
    """Return ``per_customer`` documents per customer, cycling through the four document types."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    kinds = list(DOC_TYPES)
    offset = rng.randrange(len(kinds))
    documents: list[SampleDocument] = []
    for customer in customers:
        for _ in range(per_customer):
            doc_type = kinds[(offset + len(documents)) % len(kinds)]
            doc_date = datetime.date(2018, 1, 1) + datetime.timedelta(days=rng.randrange(7 * 365))
            title, pages = _BUILDERS[doc_type](customer, doc_date, rng)
            if len(pages) > 1:
                pages = [[*p, f"第 {i} 页 共 {len(pages)} 页"] for i, p in enumerate(pages, 1)]
            documents.append(SampleDocument(
                doc_type=doc_type, category=DOC_TYPES[doc_type], title=title, customer=customer,
                doc_date=doc_date, pages=tuple("\n".join(p) for p in pages),
            ))
    return documents
