"""The fixed vocabularies of the catalogue: filing categories, record types, retention.

Public surface: ``CATEGORIES``, ``DOC_TYPES``, ``DOC_TYPE_CATEGORIES``, ``CUSTOMER_CLASSES``,
``RETENTION_CODES``.
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

# 文件类型 record type → default retention period of the record.
DOC_TYPES: dict[str, str] = {
    "用电申请书": "Y",
    "供用电合同": "Y",
    "身份证复印件": "Y",
    "土地使用证明": "Y",
    "缴费银行委托书": "D30",
    "担保协议": "D30",
    "计量装置装拆表工作单": "D30",
    "验收送电资料": "Y",
    "受电工程竣工验收单": "Y",
    "安全用电检查记录": "D30",
    "违章用电及窃电处理记录": "D30",
    "客户信息变更单": "D30",
    "其他": "D10",
}

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
