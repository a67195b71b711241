"""Django's ORM against SQL injection, on an in-memory SQLite database (no server, no file).

Run by the inspector (manifest `checks`), which reads the JSON this prints. Each attack string
goes into an ORM filter as a user would type it; the ORM must treat it as a value: no row comes
back that the value does not name, and the table survives. The same strings pasted into a raw
SQL string, as a careless view would do, are the control: they must break out, or this check
could not tell a protected query from an unprotected one.
"""

from __future__ import annotations

import json
import sys

import django
from django.conf import settings

ATTACKS = ("x' OR '1'='1", "x'; DROP TABLE auth_user; --", "%' OR username LIKE '%")


def main() -> int:
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        USE_TZ=True,
    )
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    for name in ("alice", "bob"):
        User.objects.create(username=name)
    orm = {attack: User.objects.filter(username=attack).count() for attack in ATTACKS}
    raw = {}
    for attack in ATTACKS[:1]:  # the control: string formatting, never parameters
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM auth_user WHERE username = '{attack}'")
            raw[attack] = cursor.fetchone()[0]
    intact = User.objects.count() == 2
    print(json.dumps({
        "refused": all(n == 0 for n in orm.values()) and intact,
        "orm_rows": orm,
        "raw_sql_rows": raw,
        "control_broke_out": all(n > 0 for n in raw.values()),
        "table_intact": intact,
        "evidence": (
            f"User.objects.filter(username=ATTACK) returned {sorted(set(orm.values()))} rows for "
            f"{len(ATTACKS)} attack strings; the table kept its 2 rows; the first string pasted "
            f"into raw SQL returned {next(iter(raw.values()))} rows (the control)"
        ),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
