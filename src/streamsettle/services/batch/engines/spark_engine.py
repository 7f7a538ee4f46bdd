"""The Spark engine: the rules of ``rules.sql`` in Spark SQL, over the day as Parquet.

The day's Arrow inputs are written as Parquet files under a location every Spark executor
can read (a local directory for ``local[*]``; shared storage such as S3, GCS, HDFS or NFS
for a cluster, see docs/engines.md), then each relation of the rules is cached as a
temporary view in order, and the result tables come back to the driver as Arrow. The
session (``spark_session``) is made once and reused: its JVM start is a cost of its own,
paid once per process, not per day.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from streamsettle.services.batch.engines.day import RESULT_COLUMNS, DayInputs, DayResults
from streamsettle.services.batch.engines.rules import SPARK, Relation, relations

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"

# The settings a batch session needs whatever its master: UTC (timestamps are UTC without
# a zone), naive Parquet timestamps read as such, and no UI when local.
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}
LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}


def spark_session(master: str = DEFAULT_MASTER, conf: dict[str, str] | None = None) -> SparkSession:
    """A session on ``master``: ``local[N]``, a cluster manager URL (``spark://…``,
    ``k8s://…``, ``yarn``), or a Spark Connect server (``sc://host:15002``)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("streamsettle-batch")
    if master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = builder.master(master)
        if master.startswith("local"):
            # One day on one machine: a few shuffle partitions per core, not Spark's 200
            # (at 1 M logs on 2 cores, 200 made the rules 7 times slower).
            shuffle = {"spark.sql.shuffle.partitions": str(2 * (os.cpu_count() or 1))}
            for key, value in {**LOCAL_CONF, **shuffle}.items():
                builder = builder.config(key, value)
    for key, value in {**BASE_CONF, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def spark_path(uri: str) -> str:
    """The path Spark's Hadoop file systems read for a location pyarrow writes to: S3 is
    ``s3a://`` there; a plain path is a local ``file://`` one."""
    if uri.startswith("s3://"):
        return "s3a://" + uri.removeprefix("s3://")
    if "://" not in uri:
        return "file://" + uri
    return uri


class SparkEngine:
    name = "spark"

    def __init__(self, session: SparkSession, location: str) -> None:
        """``location``: a directory (or ``s3://``, ``gs://``, ``hdfs://`` URI) where each
        computation writes its day's inputs as Parquet, removed once it is done."""
        self.session = session
        self.location = location.rstrip("/") if "://" in location else os.path.abspath(location)

    def compute(self, inputs: DayInputs) -> DayResults:
        folder = f"{self.location}/day-{inputs.params.day.isoformat()}-{uuid.uuid4().hex}"
        fs, root = pafs.FileSystem.from_uri(folder)
        fs.create_dir(root)
        spark = self.session
        views: list[str] = []
        try:
            for name, table in inputs.tables().items():
                pq.write_table(table, f"{root}/{name}.parquet", filesystem=fs)
                spark.read.parquet(spark_path(folder) + f"/{name}.parquet").createOrReplaceTempView(
                    name
                )
                views.append(name)
            rules = relations(SPARK, inputs.params)
            for relation in rules:
                # A relation read again later is cached when first computed; the others
                # stay views, computed inside the queries that read them.
                cached = reused(relation.name, rules)
                verb = "CACHE LAZY TABLE" if cached else "CREATE TEMP VIEW"
                spark.sql(f"{verb} `{relation.name}` AS {relation.sql}")
                views.append(relation.name)
            return DayResults(
                {
                    name: _arrow(spark.table(name).select(*columns).toArrow())
                    for name, columns in RESULT_COLUMNS.items()
                }
            )
        finally:
            for name in views:
                spark.catalog.dropTempView(name)
            fs.delete_dir(root)


def reused(name: str, rules: list[Relation]) -> bool:
    """Whether more than one relation (or result table) reads relation ``name``."""
    word = re.compile(rf"\b{name}\b")
    readers = sum(1 for r in rules if r.name != name and word.search(r.sql))
    return readers + (name in RESULT_COLUMNS) > 1


def _arrow(table: pa.Table) -> pa.Table:
    """Spark's Arrow as the other engines give it (plain strings; a date's own type)."""
    return table.cast(
        pa.schema(
            [
                pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type) else f
                for f in table.schema
            ]
        )
    )
