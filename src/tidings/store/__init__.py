"""The store: SQLite and PostgreSQL behind one SQL text (`db.py`). Where each query lives — the
module of the table area it mainly touches — is set out in `repository.py`'s docstring."""
