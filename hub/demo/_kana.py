"""Readings (フリガナ) of the synthetic population's names, for the eLTAX flows' reports and notices.

The synthetic register (:mod:`adapters.jlis.population`) composes names from short lists of common family and
given names; this table gives each its katakana reading. A name the table does not know reads as ネンキン,
so a reading is always there (the layouts require one), synthetic like the name.
"""

from __future__ import annotations

from typing import Final

__all__ = ["reading"]

_READINGS: Final = {
    "佐藤": "サトウ", "鈴木": "スズキ", "高橋": "タカハシ", "田中": "タナカ", "伊藤": "イトウ",
    "渡辺": "ワタナベ", "山本": "ヤマモト", "中村": "ナカムラ", "小林": "コバヤシ", "加藤": "カトウ",
    "吉田": "ヨシダ", "山田": "ヤマダ", "佐々木": "ササキ", "山口": "ヤマグチ", "松本": "マツモト",
    "井上": "イノウエ", "木村": "キムラ", "林": "ハヤシ", "斎藤": "サイトウ", "清水": "シミズ",
    "山崎": "ヤマザキ", "森": "モリ", "池田": "イケダ", "橋本": "ハシモト", "阿部": "アベ",
    "石川": "イシカワ", "山下": "ヤマシタ", "中島": "ナカシマ", "石井": "イシイ", "小川": "オガワ",
    "前田": "マエダ", "岡田": "オカダ", "長谷川": "ハセガワ", "藤田": "フジタ", "後藤": "ゴトウ",
    "近藤": "コンドウ", "村上": "ムラカミ", "遠藤": "エンドウ", "青木": "アオキ", "坂本": "サカモト",
    "茂": "シゲル", "博": "ヒロシ", "誠": "マコト", "実": "ミノル", "清": "キヨシ", "勇": "イサム",
    "進": "ススム", "豊": "ユタカ", "明": "アキラ", "隆": "タカシ", "正": "タダシ", "弘": "ヒロシ",
    "和夫": "カズオ", "一郎": "イチロウ", "健一": "ケンイチ", "修": "オサム", "勝": "マサル",
    "昭": "アキラ", "武": "タケシ", "稔": "ミノル", "和子": "カズコ", "幸子": "サチコ", "節子": "セツコ",
    "洋子": "ヨウコ", "恵子": "ケイコ", "京子": "キョウコ", "久子": "ヒサコ", "美智子": "ミチコ",
    "弘子": "ヒロコ", "正子": "マサコ", "悦子": "エツコ", "文子": "フミコ", "照子": "テルコ",
    "敏子": "トシコ", "千代子": "チヨコ", "静子": "シズコ", "良子": "ヨシコ", "信子": "ノブコ",
    "光子": "ミツコ", "春子": "ハルコ", "翔太": "ショウタ", "結衣": "ユイ", "陽菜": "ヒナ", "蓮": "レン",
}  # fmt: skip


def reading(name: str) -> str:
    """The katakana reading of a name whose family and given names are apart by U+3000."""
    return "\u3000".join(_READINGS.get(part, "ネンキン") for part in name.split("\u3000"))
