"""Every purpose code an exchange travels under, declared once: code reads the codes from here.

The purpose table (``contracts/purpose_table.toml``) stays the source of the rules: which bases, roles and
actors each use permits, and the purpose each of the pension system's requests travels under. Code that
names a purpose (a flow checking its use, an adapter writing a counterpart's purpose, a simulator) takes
the code from this module and never spells it again; a unit test keeps the two in step.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ELTAX_PAYMENT_REPORT",
    "ELTAX_TOKUCHO",
    "ELTAX_TOKUCHO_NOTICE",
    "ELTAX_TOKUCHO_TARGET_NOTICE",
    "IB_CLAIM_FORWARDING",
    "IS_CODE_ACQUISITION",
    "IS_DUPLICATE",
    "IS_DUPLICATE_DATA",
    "IS_INFO_QUERY",
    "IS_PROVISION",
    "JLIS_NUMBER_ACQUISITION",
    "JLIS_SURVIVAL_CHANGE",
    "NTA_WITHHOLDING_SLIP",
    "PENSION_CODE_ACQUISITION",
    "PENSION_DEPENDANTS_DECLARATION",
    "PENSION_DUPLICATE_DATA",
    "PENSION_ELTAX",
    "PENSION_IMPLEMENTING_BODIES",
    "PENSION_INFO_QUERY",
    "PENSION_NTA",
    "PENSION_NUMBER_ACQUISITION",
    "PENSION_PAYMENT_REPORT",
    "PENSION_PROVISION",
    "PENSION_SURVIVAL_CHECK",
    "PENSION_TOKUCHO",
]

# --- the hub's outgoing uses of a number: each is a [[use]] of the purpose table ----------------------------

JLIS_SURVIVAL_CHANGE: Final = "jlis.survival_change"
"""J-LIS 生存異動照会 (住基法 第30条の9, 別表第一 19・74・77の9)."""
JLIS_NUMBER_ACQUISITION: Final = "jlis.number_acquisition"
"""J-LIS 個人番号取得 by 4情報 (番号法 第14条第2項)."""
IS_CODE_ACQUISITION: Final = "intermediate_server.code_acquisition"
"""情報提供用個人識別符号の取得 (番号法 第21条の2)."""
IS_INFO_QUERY: Final = "intermediate_server.info_query"
"""情報照会 (番号法 第19条第8号); the table's uses are per row: ``intermediate_server.info_query.<row>``."""
IS_DUPLICATE: Final = "intermediate_server.duplicate"
"""副本登録 (番号法 第19条第8号): the table's use of the 副本 the hub registers."""
ELTAX_PAYMENT_REPORT: Final = "eltax.payment_report"
"""公的年金等支払報告書 (地方税法 第317条の6, 番号法 第9条第4項)."""
ELTAX_TOKUCHO_TARGET_NOTICE: Final = "eltax.tokucho.target_notice"
"""特別徴収 対象者通知 (通知内容 00, 地方税法 第321条の7の4): carries numbers where the layout has them."""
ELTAX_TOKUCHO_NOTICE: Final = "eltax.tokucho.notice"
"""Every other notice of the special collection, either direction (地方税法 第321条の7の2)."""
NTA_WITHHOLDING_SLIP: Final = "nta.withholding_slip"
"""公的年金等の源泉徴収票 to the National Tax Agency (所得税法 第226条第3項, 番号法 第9条第4項)."""
IB_CLAIM_FORWARDING: Final = "implementing_bodies.claim_forwarding"
"""年金請求書等の他の実施機関への電子回付 (厚生年金保険法 第2条の5; 事務 (6), a 構成組合's alone)."""

# --- purposes of counterparts' messages and of the pension system's requests and answers --------------------

IS_DUPLICATE_DATA: Final = "intermediate_server.duplicate_data"
"""副本 messages to and from the intermediate server."""
IS_PROVISION: Final = "intermediate_server.provision"
"""情報提供 notices from the intermediate server."""
ELTAX_TOKUCHO: Final = "eltax.tokucho"
"""The pension system's requests for special-collection notices."""
PENSION_SURVIVAL_CHECK: Final = "pension.survival_check"
PENSION_NUMBER_ACQUISITION: Final = "pension.number_acquisition"
PENSION_DEPENDANTS_DECLARATION: Final = "pension.dependants_declaration"
PENSION_INFO_QUERY: Final = "pension.info_query"
PENSION_CODE_ACQUISITION: Final = "pension.code_acquisition"
PENSION_DUPLICATE_DATA: Final = "pension.duplicate_data"
PENSION_PROVISION: Final = "pension.provision"
"""The hub's notice to the pension system of information it provided."""
PENSION_PAYMENT_REPORT: Final = "pension.payment_report"
PENSION_ELTAX: Final = "pension.eltax"
"""eLTAX's receipts, passed on to the pension system."""
PENSION_TOKUCHO: Final = "pension.tokucho"
"""Special-collection notices from eLTAX, passed on to the pension system."""
PENSION_NTA: Final = "pension.nta"
"""The National Tax Agency's receipts of withholding slips, passed on to the pension system."""
PENSION_IMPLEMENTING_BODIES: Final = "pension.implementing_bodies"
"""The other implementing bodies' receipts of forwarded claims, passed on to the pension system."""
