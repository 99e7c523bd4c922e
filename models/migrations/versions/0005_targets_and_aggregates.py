"""unit targets and daily aggregates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same day numbering as bot/store/totals.py (kept here so the migration never imports the application).
EPOCH = "2020-01-01"
BUCKET_DAYS = 63


def upgrade() -> None:
    op.create_table(
        "unit_target",
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("block_id", sa.Integer(), nullable=True),
        sa.Column("daily", sa.BigInteger(), nullable=True),
        sa.Column("campaign_total", sa.BigInteger(), nullable=True),
        sa.Column("eligible", sa.BigInteger(), nullable=True),
        sa.Column("baseline", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("level", "unit_id", "metric"),
    )
    op.create_index("ix_unit_target_district", "unit_target", ["district_id", "level"], unique=False)
    op.create_table(
        "unit_day_total",
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("level", "unit_id", "day", "metric"),
    )
    op.create_index(
        "ix_unit_day_total_day",
        "unit_day_total",
        ["level", "unit_id", "day", "metric", "value"],
        unique=False,
    )
    op.create_index(
        "ix_unit_day_total_metric_day",
        "unit_day_total",
        ["level", "unit_id", "metric", "day", "value"],
        unique=False,
    )
    op.create_table(
        "unit_day_reported",
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("level", "unit_id", "day"),
    )
    op.create_table(
        "reporting_days",
        sa.Column("sector_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("block_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("workers", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("sector_id", "bucket"),
    )
    op.create_index("ix_reporting_days_block", "reporting_days", ["block_id", "bucket"], unique=False)
    op.create_index(
        "ix_reporting_days_district", "reporting_days", ["district_id", "bucket"], unique=False
    )
    _backfill()


def _backfill() -> None:
    """Aggregates of the reports already stored, so an upgraded database reads right at once."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        day_number = f"(r.day - DATE '{EPOCH}')"
    else:
        day_number = f"CAST(julianday(r.day) - julianday('{EPOCH}') AS INTEGER)"
    for level in ("sector", "block", "district"):
        op.execute(
            f"""
            INSERT INTO unit_day_total (level, unit_id, day, metric, value)
            SELECT '{level}', r.{level}_id, r.day, v.metric, SUM(v.value)
            FROM daily_report r JOIN report_value v ON v.report_id = r.id
            GROUP BY r.{level}_id, r.day, v.metric
            """
        )
        op.execute(
            f"""
            INSERT INTO unit_day_reported (level, unit_id, day, reported)
            SELECT '{level}', r.{level}_id, r.day, COUNT(*)
            FROM daily_report r
            WHERE EXISTS (SELECT 1 FROM report_value v WHERE v.report_id = r.id)
            GROUP BY r.{level}_id, r.day
            """
        )
    # One report per worker and day, so adding the days' bits is the same as or-ing them.
    if bind.dialect.name == "postgresql":
        packed = "string_agg(w.person_id || ':' || w.bits, ' ' ORDER BY w.person_id)"
    else:
        packed = "group_concat(w.person_id || ':' || w.bits, ' ')"
    op.execute(
        f"""
        INSERT INTO reporting_days (sector_id, bucket, block_id, district_id, workers)
        SELECT w.sector_id, w.bucket, MIN(w.block_id), MIN(w.district_id), {packed}
        FROM (
            SELECT r.person_id, r.sector_id, {day_number} / {BUCKET_DAYS} AS bucket,
                   MIN(r.block_id) AS block_id, MIN(r.district_id) AS district_id,
                   SUM(CAST(1 AS BIGINT) << ({day_number} % {BUCKET_DAYS})) AS bits
            FROM daily_report r
            WHERE EXISTS (SELECT 1 FROM report_value v WHERE v.report_id = r.id)
            GROUP BY r.person_id, r.sector_id, {day_number} / {BUCKET_DAYS}
        ) w
        GROUP BY w.sector_id, w.bucket
        """
    )


def downgrade() -> None:
    op.drop_index("ix_reporting_days_district", table_name="reporting_days")
    op.drop_index("ix_reporting_days_block", table_name="reporting_days")
    op.drop_table("reporting_days")
    op.drop_table("unit_day_reported")
    op.drop_index("ix_unit_day_total_metric_day", table_name="unit_day_total")
    op.drop_index("ix_unit_day_total_day", table_name="unit_day_total")
    op.drop_table("unit_day_total")
    op.drop_index("ix_unit_target_district", table_name="unit_target")
    op.drop_table("unit_target")
