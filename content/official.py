"""The words of official documents that several rules look for, each list in one place: the
endings that make a name an organ of government, the words of an addressee line, and the
document types (公文种类) a title ends with."""

from __future__ import annotations

# An organ's name ends so: 内蒙古自治区人民政府, 自治区人民政府办公厅, 发展和改革委员会, 教育厅,
# 统计局, 卫健委, 财政部, 中级人民法院, 妇女联合会 (longest first, so a pattern takes the whole ending).
ORGAN_ENDINGS = ("人民政府", "行政公署", "办公厅", "办公室", "委员会", "公署", "政府", "厅", "局", "委", "部", "院", "会", "办")
# An addressee line (主送机关) names organs, or speaks of them: 各盟行政公署、市人民政府，各有关单位：
ADDRESSEE_WORDS = ORGAN_ENDINGS + ("机关", "单位", "部门", "各")
# The document types a title ends with (GB/T 9704 and what the region's notices use).
KINDS = ("通知", "批复", "命令", "通告", "公告", "决定", "意见", "办法", "规划", "方案", "通报", "复函", "函",
         "规定", "细则", "条例", "纲要", "计划", "公报", "令")  # fmt: skip


def alternatives(words: tuple[str, ...]) -> str:
    """`words` as a regular-expression alternation, longest first."""
    return "|".join(sorted(words, key=len, reverse=True))
