"""Contacts, tags, templates and the audit log."""

STATEMENTS = [
    """CREATE TABLE contact (
        id $pk,
        phone TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        opted_in $bool NOT NULL DEFAULT $true,
        status TEXT NOT NULL DEFAULT 'active',
        attributes $json NOT NULL DEFAULT '{}',
        opted_out_at $ts,
        opt_out_source TEXT,
        last_marketing_at $ts,
        prev_marketing_at $ts,
        created_at $ts NOT NULL,
        updated_at $ts NOT NULL
    )""",
    """CREATE TABLE tag (
        id $pk,
        name TEXT NOT NULL UNIQUE,
        created_at $ts NOT NULL
    )""",
    """CREATE TABLE contact_tag (
        contact_id $id NOT NULL REFERENCES contact (id) ON DELETE CASCADE,
        tag_id $id NOT NULL REFERENCES tag (id) ON DELETE CASCADE,
        created_at $ts NOT NULL,
        PRIMARY KEY (contact_id, tag_id)
    ) $norowid""",
    "CREATE INDEX contact_tag_by_tag ON contact_tag (tag_id, contact_id)",
    """CREATE TABLE template (
        id $pk,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        category TEXT NOT NULL,
        status TEXT NOT NULL,
        parameter_format TEXT NOT NULL DEFAULT 'POSITIONAL',
        components $json NOT NULL DEFAULT '[]',
        parameters $json NOT NULL DEFAULT '[]',
        meta_id TEXT,
        reason TEXT,
        source TEXT NOT NULL DEFAULT 'local',
        updated_at $ts NOT NULL,
        UNIQUE (name, language)
    )""",
    """CREATE TABLE audit_log (
        id $pk,
        at $ts NOT NULL,
        face TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        detail $json NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX audit_log_at ON audit_log (at)",
]
