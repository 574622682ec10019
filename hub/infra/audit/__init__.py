"""The access record and the 情報提供等の記録 on SQLAlchemy: writing, sealing, searching, verifying."""
