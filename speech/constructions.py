"""Readings that a construction decides where word segmentation leaves a polyphone standing
alone: 以…为… and 为 before a role (wéi), 为 before a purpose or someone served (wèi), modal
应 (yīng), 率 ending a rate (lǜ), 没 before someone or something (méi), 行 as a row or a trade
(háng), and more.

Each rule is a pattern over the spoken text with one marked character, the reading it gets and
the reason `tingwen normalize --pinyin --why` gives. Rules come after the lists and before the
dictionaries (speech/pronounce.py sets the order), so each keeps off the words the dictionaries
read right by itself: 为 not after 作, 认, 成, 因…; 应 not in 响应, 适应, 应急…; 率 not in 表率,
率领; 没 not in 淹没, 没收.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from speech.polyphones.features import Context

HAN = "\u4e00-\u9fff"
CLAUSE_START = r"(?:^|(?<=[，。；：、！？“”（）《》\s]))"


@dataclass(frozen=True)
class Construction:
    pattern: re.Pattern[str]  # group "c" is the character read
    syllable: str
    why: str


def _rule(pattern: str, syllable: str, why: str) -> Construction:
    return Construction(re.compile(pattern), syllable, f"the construction rule {why}")


def _words(*groups: str) -> str:
    return "|".join(sorted({w for g in groups for w in g.split()}, key=len, reverse=True))


# What a purpose clause starts with: 为保证工程顺利实施, 为深入贯彻落实, 为切实保障群众权益.
_PURPOSE = _words(
    "保证 保障 保护 保持 保卫 弘扬 传承 继承 发扬 切实 深入 进一步 全面 贯彻 落实 加强 加快 加大 推进 推动 促进",
    "做好 做到 确保 维护 规范 提高 提升 有效 更好 更加 满足 防止 防范 避免 减少 减轻 降低 实现 解决 营造 巩固",
    "扎实 着力 充分 严格 持续 筑牢 打赢 方便 便于 适应 应对 化解 预防 杜绝 强化 健全 完善 优化 助力 支持 配合",
    "迎接 庆祝 纪念 表彰 鼓励 引导 激发 调动 稳定 稳妥 积极 认真 及时 统筹 大力 依法 增强 扩大 拓宽 丰富 推广",
    "宣传 普及 培养 培育 建设 打造 构建 创建 形成 探索 达到 完成 守护 守住 维持 改善 加速 抓好 用好 管好 办好",
    "发挥 坚持 坚决 彻底 尽快 尽早 从严 依规 统一 明确 细化 压实 夯实 提供 保质 切合 适当 合理 科学 逐步",
)
# What is done for someone: 为人民服务, 为群众办实事, 为企业提供, 为其缴纳社会保险.
_SERVED = _words(
    "服务 办实事 办好事 办理 办事 提供 创造 解决 谋 造福 负责 担当 奉献 排忧 纾困 减负 松绑 保驾护航 撑腰 鼓劲",
    "加油 点赞 喝彩 着想 操心 争光 缴纳 补缴 代缴 垫付 发放 开通 减免 兑现 举办 开展 培训 颁发 出具 送 赠送 捐",
    "营造 打造 搭建 带来 赢得 分忧 排忧解难",
    "补贴 报销 申请 申报 提出 作出 做出 付出 安排 配备 建立 出台 制定 设立 量身",
)
# Who is served, right after 为 (为群众营造…, 为企业纾困…) — but 为人民所… is the passive (wéi).
_SERVED_PEOPLE = _words(
    "人民 群众 百姓 老百姓 企业 基层 农牧民 农民 牧民 职工 患者 老年人 老人 儿童 学生 家长 纳税人 市民 居民 村民",
    "游客 旅客 消费者 用户 残疾人 广大 困难群众 经营主体 市场主体 办事 人才 青年 妇女 群众办",
)
# Roles after 为 (wéi): 以人民为中心, 以…为主, 确定为重点地区.
_ROLE = _words(
    "主 辅 重点 核心 中心 抓手 依托 基础 导向 目标 引领 统领 根本 载体 契机 准绳 依据 前提 纽带 突破口",
    "着力点 落脚点 出发点 主体 主线 龙头 支撑 动力 标准 单位 原则 宗旨 指导 首要 重中之重",
)
_ADVERB = "(?:" + _words(
    "积极 有效 认真 不断 迅速 及时 主动 扎实 全面 充分 更好 细致 深入 深刻 努力 自觉 坚定 稳步 持续 逐步 有序",
    "科学 切实 有力 大力 广泛 合理 规范 妥善 高效 精准 统筹 系统 创造性 真正 彻底 耐心 热情 顺利 尽快 更加 进一步",
    "坚决 严格 依法 全力 集中 分别 具体 密切 准确 清醒 客观 公正 公平 公开 按时 如实 定期 深度 快速 稳妥",
) + ")"
# What follows a rate (感染率控制在…, 失业率为…): 率 before anything else may be "lead" (率队, 率军).
_AFTER_A_RATE = _words(
    "的 为 在 达 是 由 从 和 与 及 等 均 已 仍 要 须 应 较 不 提高 提升 下降 降低 超过 保持 控制 稳定 逐年 明显",
    "进一步 高于 低于 必须 预期 目标 持续 继续 大幅 增长 上升 指标 分别 整体 总体 水平",
)
# 以 that is not "take" (以上, 可以, 予以): no 以…为… from these.
_NOT_TAKE = r"(?<![可所予加难得足用借赖藉])以(?![上下来及内外后前便免致至往])"

_NOT_A_WORD = r"(?<![作认成因以称行更改视])"  # 作为, 认为, 成为, 因为 … are words the dictionaries read

CONSTRUCTIONS: tuple[Construction, ...] = (
    _rule(r"(?:列|定|评|改|称|划|转|选|认定|确定|命名|更名|调整|明确|规定|设|作)(?P<c>为)", "wei2", "naming as … (wéi)"),
    # 为 read wèi: a purpose (为…而…, 为保证…), or someone served (为人民服务): these beat 以…为….
    _rule(rf"{_NOT_A_WORD}(?P<c>为)[{HAN}]{{1,16}}?而(?:奋斗|努力|斗争|拼搏|战|工作|献身|牺牲|设立|制定|建立|开展|采取)", "wei4", "为…而… (wèi: for the sake of)"),
    _rule(rf"{CLAUSE_START}(?P<c>为)(?:了)?(?:{_PURPOSE})", "wei4", "为 opening a purpose (wèi: in order to)"),
    _rule(rf"{CLAUSE_START}(?P<c>为)[^，。；：！？]{{1,24}}?(?:{_SERVED})", "wei4", "为 + someone served (wèi: for)"),
    _rule(rf"{_NOT_A_WORD}(?P<c>为)[{HAN}]{{0,10}}?(?:{_SERVED})", "wei4", "为 + someone served (wèi: for)"),
    _rule(rf"{_NOT_A_WORD}(?P<c>为)(?=(?:{_SERVED_PEOPLE}))(?![^，。；]{{0,10}}所)", "wei4", "为 + people served (wèi: for)"),
    # 为 read wéi: "take … as …" and "be …".
    _rule(rf"{_NOT_TAKE}[{HAN}、“”]{{1,14}}?(?<![地着])(?P<c>为)(?=[{HAN}])", "wei2", "以…为… (wéi: take … as …)"),
    _rule(rf"(?P<c>为)(?=(?:{_ROLE})(?:[，。；、的]|$))", "wei2", "为 + a role (wéi: as)"),
    # 应 alone is "should" (yīng): 应加大投入, 应及时报告.
    _rule(rf"(?<![响相适供反对照呼答回感效报顺理内策接承])(?P<c>应)(?=[{HAN}])(?!声|邀|聘|届|运|诺|试|答|对|用|急|变|酬|接|验|征|考|战|援|召)", "ying1", "应 before a verb (yīng: should)"),
    # 率 ending a rate (lǜ): 感染率, 失业率, 覆盖率 — 率领, 率先, 表率 are dictionary words.
    _rule(rf"(?<=[{HAN}])(?<![表统轻草坦直督相大])(?P<c>率)(?=[，。；、！？）]|$|{_AFTER_A_RATE})", "lv4", "率 ending a rate (lǜ)"),
    # 没 before someone or something (méi): 没人干, 没有 — 没收, 淹没 are dictionary words.
    _rule(r"(?<![淹埋沉覆吞湮隐出辱泯])(?P<c>没)(?!收|落|入|顶|齿|世)", "mei2", "没 as not (méi)"),
    # 地 after an adverb and before what is done (de): 有序地推进, 积极地参与.
    _rule(rf"{_ADVERB}(?P<c>地)(?=[{HAN}])", "de5", "adverb + 地 (de)"),
    # 干 as doing (gàn): 没人干, 加油干, 干了再说 — 干部, 干净 are dictionary words.
    _rule(r"(?<=[人要去来能会肯不实苦大就油着起带领拼])(?P<c>干)(?=[，。；！？、]|$|了|好|事|活|实事)", "gan4", "干 as to do (gàn)"),
    # 长 heading a unit (zhǎng): 旗县市区长是第一责任人, 村长负责 — 长期, 长效 are dictionary words.
    _rule(r"(?<=[旗县市区乡镇村局处科厅部省州盟校院所站队组班社团])(?P<c>长)(?=是|为|要|负|担|主持|签|和|、|及|与|兼|亲自|对|在|应|作)", "zhang3", "长 heading a unit (zhǎng)"),
    # 行 as a row or a trade: 第三行, 各行各业, 同行, 内行.
    _rule(rf"(?:第[{HAN}]{{1,3}}|[一二两三四五六七八九十几每末首上下本]|各)(?P<c>行)(?=[，。；、]|$|各业|的|中|里|字|文字)", "hang2", "行 as a row or a trade (háng)"),
    _rule(r"(?:内|外|同|改|转|隔|老本|懂)(?P<c>行)(?!动|走|驶|进|程|为|使|政|李|人|车|星|径|凶|刺|贿|骗|礼|乞|善|医|商|军|文|销|头)", "hang2", "行 as a trade (háng)"),
    # 还 as paying back (huán): 按时还款 is a word; 按期还, 还清, 已经还了 are not.
    _rule(r"(?P<c>还)(?=清|贷|本|息|债|钱|给)", "huan2", "还 as paying back (huán)"),
    _rule(r"(?:按时|按期|及时|到期|逾期|已经|未|需|须|应|要|必须)(?P<c>还)(?=[，。；！？、]|$|了)", "huan2", "还 as paying back (huán)"),
    # 了 alone after a verb is le (V了), but 受不了 / 办得了 (can or cannot) is liǎo.
    _rule(rf"(?<=[{HAN}][不得])(?P<c>了)(?=[，。；！？、]|$)", "liao3", "V不了 / V得了 (liǎo: can)"),
)


def construction_readings(context: Context, settled: set[int]) -> dict[int, tuple[str, str]]:
    """Position → (syllable, why) for each character outside `settled` that a construction
    decides; the first rule that marks a position wins."""
    found: dict[int, tuple[str, str]] = {}
    for construction in CONSTRUCTIONS:
        for match in construction.pattern.finditer(context.sentence):
            at = match.start("c")
            if at not in settled:
                found.setdefault(at, (construction.syllable, construction.why))
    return found
