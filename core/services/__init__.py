"""Services: plain functions taking ``session=`` as a keyword, one per action.

Every mutation checks the actor's role and writes an audit event in the same transaction.
The actor and the clock travel in ``session.info`` (see ``duban.core.db.open_session``).
"""
