"""What each survival/change outcome means for the pension system (the business rules, pure)."""

from __future__ import annotations

from contracts.messages.survival import MoveKind, PensionAction, SurvivalOutcome

__all__ = ["actions_for"]


def actions_for(outcome: SurvivalOutcome, move_kind: MoveKind | None = None) -> tuple[PensionAction, ...]:
    """The actions an outcome implies.

    * alive, or a number change (relinked in the vault, invisible to the pension system): keep paying;
    * dead: 失権 after the month of death;
    * moved: update the address; a move still in flight waits for the 転入; a move abroad also needs a
      現況届, since J-LIS no longer follows the person;
    * name changed: the change waits for documents (戸籍 evidence);
    * not found: 現況届; no number held: acquire one first (基本4情報照会);
    * not permitted (not sent): review the person's role or basis, or drop them from the inquiry.
    """
    if outcome is SurvivalOutcome.DEAD:
        return (PensionAction.TERMINATE_AFTER_MONTH_OF_DEATH,)
    if outcome is SurvivalOutcome.MOVED:
        if move_kind is MoveKind.MOVED_OUT_PENDING:
            return (PensionAction.HOLD_UNTIL_MOVE_IN,)
        if move_kind is MoveKind.MOVED_ABROAD:
            return (PensionAction.UPDATE_ADDRESS, PensionAction.SEND_GENKYO_TODOKE)
        return (PensionAction.UPDATE_ADDRESS,)
    if outcome is SurvivalOutcome.NAME_CHANGED:
        return (PensionAction.REQUEST_NAME_DOCUMENTS,)
    if outcome is SurvivalOutcome.NOT_FOUND:
        return (PensionAction.SEND_GENKYO_TODOKE,)
    if outcome is SurvivalOutcome.NO_NUMBER:
        return (PensionAction.ACQUIRE_NUMBER,)
    if outcome is SurvivalOutcome.NOT_PERMITTED:
        return (PensionAction.REVIEW_PURPOSE,)
    return (PensionAction.CONTINUE_PAYMENT,)
