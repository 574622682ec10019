"""Small built-in lists from which the synthetic population's names and addresses are composed.

Common family and given names, and municipalities with their public local-government codes and postal
prefixes; streets and house numbers are drawn at random. A composed person is fictitious: the lists hold
no real person's data, and any resemblance of a combination to a real person is coincidence.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "ABROAD",
    "FAMILY_NAMES",
    "GIVEN_NAMES_FEMALE",
    "GIVEN_NAMES_MALE",
    "MUNICIPALITIES",
    "TOWNS",
    "Municipality",
    "compose_address",
    "compose_name",
]


class Municipality(NamedTuple):
    """A municipality: 5-digit code (without the check digit), name with prefecture, postal prefix."""

    code: str
    name: str
    postal_prefix: str


FAMILY_NAMES: Final = (
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
    "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水",
    "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川",
    "前田", "岡田", "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本",
)  # fmt: skip
GIVEN_NAMES_MALE: Final = (
    "茂", "博", "誠", "実", "清", "勇", "進", "豊", "明", "隆",
    "正", "弘", "和夫", "一郎", "健一", "修", "勝", "昭", "武", "稔",
)  # fmt: skip
GIVEN_NAMES_FEMALE: Final = (
    "和子", "幸子", "節子", "洋子", "恵子", "京子", "久子", "美智子", "弘子", "正子",
    "悦子", "文子", "照子", "敏子", "千代子", "静子", "良子", "信子", "光子", "春子",
)  # fmt: skip
MUNICIPALITIES: Final = (
    Municipality("01100", "北海道札幌市", "060"),
    Municipality("04100", "宮城県仙台市", "980"),
    Municipality("11100", "埼玉県さいたま市", "330"),
    Municipality("12100", "千葉県千葉市", "260"),
    Municipality("13101", "東京都千代田区", "100"),
    Municipality("13104", "東京都新宿区", "160"),
    Municipality("14100", "神奈川県横浜市", "220"),
    Municipality("15100", "新潟県新潟市", "950"),
    Municipality("17201", "石川県金沢市", "920"),
    Municipality("22100", "静岡県静岡市", "420"),
    Municipality("23100", "愛知県名古屋市", "450"),
    Municipality("26100", "京都府京都市", "600"),
    Municipality("27100", "大阪府大阪市", "530"),
    Municipality("28100", "兵庫県神戸市", "650"),
    Municipality("30201", "和歌山県和歌山市", "640"),
    Municipality("32201", "島根県松江市", "690"),
    Municipality("33100", "岡山県岡山市", "700"),
    Municipality("34100", "広島県広島市", "730"),
    Municipality("40130", "福岡県福岡市", "810"),
    Municipality("43100", "熊本県熊本市", "860"),
)
TOWNS: Final = (
    "本町", "中央", "栄町", "旭町", "緑町", "若葉台", "桜ケ丘", "東町",
    "西町", "南町", "北町", "松原", "青葉", "宮前", "朝日町", "日の出町",
)  # fmt: skip
ABROAD: Final = (
    "アメリカ合衆国カリフォルニア州ロサンゼルス市",
    "アメリカ合衆国ハワイ州ホノルル市",
    "大韓民国ソウル特別市",
    "オーストラリア連邦クイーンズランド州ゴールドコースト市",
    "タイ王国バンコク都",
    "カナダブリティッシュコロンビア州バンクーバー市",
)
_KANJI_DIGITS: Final = "〇一二三四五六七八九"
_FULLWIDTH: Final = str.maketrans("0123456789", "０１２３４５６７８９")


def compose_name(family: int, given: int, female: bool) -> str:
    """A name from list positions (taken modulo the list lengths), family and given name apart by U+3000."""
    names = GIVEN_NAMES_FEMALE if female else GIVEN_NAMES_MALE
    return f"{FAMILY_NAMES[family % len(FAMILY_NAMES)]}\u3000{names[given % len(names)]}"


def compose_address(
    municipality: Municipality, town: int, chome: int, banchi: int, go: int
) -> tuple[str, str]:
    """An address text and a postal code from a municipality and draws (taken modulo their ranges).

    The text reads like 住民票 notation: the 丁目 in kanji numerals, 番 and 号 in full-width digits.
    """
    block = _KANJI_DIGITS[1 + chome % 5]
    number = f"{1 + banchi % 30}番{1 + go % 20}号".translate(_FULLWIDTH)
    text = f"{municipality.name}{TOWNS[town % len(TOWNS)]}{block}丁目{number}"
    postal = f"{municipality.postal_prefix}{(town * 97 + chome) % 10000:04d}"
    return text, postal
