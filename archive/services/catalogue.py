"""The fixed vocabularies of the catalogue: filing categories, record types, retention.

Public surface: ``CATEGORIES``, ``DOC_TYPES``, ``DEFAULT_SCHEDULE``, ``DOC_TYPE_CATEGORIES``,
``CUSTOMER_CLASSES``, ``RETENTION_CODES``, ``RETENTION_YEARS``.
"""

# 分类 filing category → the retention code of dossiers in it (保管期限 Y 永久, D30, D10).
CATEGORIES: dict[str, str] = {
    "业扩报装": "Y",
    "变更用电": "Y",
    "电能计量": "D30",
    "用电检查": "D30",
    "抄核收": "D10",
    "客户信息服务": "D10",
}

# 保管期限表 as shipped: record type → (retention code, why). Seeded into the database
# (table retention_schedules), where archivists edit it; the reasons are shown beside it.
DEFAULT_SCHEDULE: dict[str, tuple[str, str]] = {
    "用电申请书": ("Y", "业扩报装的起点，证明用电主体、用电地址与申请容量；供电关系存续期间及其后的"
                   "产权、容量争议都要追溯"),
    "供用电合同": ("Y", "约定双方权利义务与产权分界点，是处理事故责任与电费纠纷的依据；续签后原合同"
                   "仍是历史依据"),
    "身份证复印件": ("D30", "证明办理人身份，供用电关系中的争议可能在多年后提出；"
                     "属个人信息，按最小必要原则不永久保存"),
    "土地使用证明": ("Y", "证明用电地址的合法使用权，与产权分界和供电设施的存续相关"),
    "缴费银行委托书": ("D10", "电费代扣授权，委托终止后只用于追溯扣款争议；诉讼时效三年，十年足够"),
    "担保协议": ("D30", "电费担保，担保责任可能在欠费多年后才被追究"),
    "计量装置装拆表工作单": ("D30", "计量差错退补与窃电追补电量的依据，"
                             "覆盖计量装置的使用寿命与追补期"),
    "验收送电资料": ("Y", "受电工程的技术与安全依据，设备在运期间都要查阅"),
    "受电工程竣工验收单": ("Y", "受电工程合格送电的证明，设备在运期间都要查阅"),
    "安全用电检查记录": ("D30", "证明供电企业履行了检查与告知义务，事故调查时追溯"),
    "违章用电及窃电处理记录": ("D30", "违约使用电费与追补电费的依据；"
                               "窃电可能构成犯罪，追诉期最长二十年"),
    "客户信息变更单": ("D30", "过户、改类、增减容的历史，电费与产权争议时追溯"),
    "其他": ("D10", "未归入以上类型的材料，十年后由档案管理员鉴定"),
}

# 文件类型 record type → default retention period of the record (the shipped schedule).
DOC_TYPES: dict[str, str] = {doc_type: period for doc_type, (period, _) in DEFAULT_SCHEDULE.items()}

# Years each retention code keeps a record; None for 永久 (permanent).
RETENTION_YEARS: dict[str, int | None] = {"Y": None, "D30": 30, "D10": 10}

# 文件类型 → the filing category its dossier has, for filing without a manifest (auto-filing).
DOC_TYPE_CATEGORIES: dict[str, str] = {
    "用电申请书": "业扩报装",
    "供用电合同": "业扩报装",
    "身份证复印件": "业扩报装",
    "土地使用证明": "业扩报装",
    "担保协议": "业扩报装",
    "验收送电资料": "业扩报装",
    "受电工程竣工验收单": "业扩报装",
    "缴费银行委托书": "抄核收",
    "计量装置装拆表工作单": "电能计量",
    "安全用电检查记录": "用电检查",
    "违章用电及窃电处理记录": "用电检查",
    "客户信息变更单": "变更用电",
    "其他": "客户信息服务",
}

RETENTION_CODES = {"Y": "永久", "D30": "30年", "D10": "10年"}
CUSTOMER_CLASSES = ("高压", "低压")
