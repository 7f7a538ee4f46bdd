-- The inputs of one day (engines/day.py) as PostgreSQL queries, read as Arrow through ADBC
-- in one REPEATABLE READ snapshot. {day}, {lookback_date}, {prev_date} are DATE literals,
-- {window_start} a TIMESTAMPTZ literal. engine_day_videos is a temporary table of the
-- video ids the day's logs hold, so the cumulative counts are summed for those alone.

-- relation: day_count
-- How many logs the day holds: its blocks are used when their rows add up to this.
SELECT count(*) AS logs FROM watch_logs WHERE business_date = {day};

-- relation: day_blocks
-- The day's columnar copy (db/log_blocks.py).
SELECT rows, data FROM watch_log_blocks WHERE business_date = {day};

-- relation: day_logs
-- The day's logs when the blocks do not hold them all; their business date is the day,
-- added by the reader (a column of one value costs the server a datum per row to send).
SELECT session_id, video_id, viewer_id, ip, started_at, watched_seconds, ad_ids
FROM watch_logs
WHERE business_date = {day};

-- relation: tail_logs
-- The earlier days' logs inside the repeat window: only their start is used.
SELECT session_id, business_date, video_id, viewer_id, ip, started_at,
       0 AS watched_seconds, CAST(NULL AS integer[]) AS ad_ids
FROM watch_logs
WHERE business_date BETWEEN {lookback_date} AND {prev_date}
  AND started_at >= {window_start};

-- relation: videos
SELECT CAST(v.id AS bigint) AS video_id, CAST(v.creator_id AS bigint) AS creator_id
FROM videos AS v
JOIN engine_day_videos AS d ON d.video_id = v.id;

-- relation: ads
SELECT CAST(id AS bigint) AS ad_id, CAST(owner_id AS bigint) AS owner_id
FROM ads;

-- relation: video_before
SELECT CAST(h.video_id AS bigint) AS video_id, CAST(sum(h.views) AS bigint) AS views_before
FROM daily_video_stats AS h
JOIN engine_day_videos AS d ON d.video_id = h.video_id
WHERE h.business_date < {day}
GROUP BY h.video_id;

-- relation: pair_before
SELECT CAST(h.video_id AS bigint) AS video_id, CAST(h.ad_id AS bigint) AS ad_id,
       CAST(sum(h.ad_views) AS bigint) AS ad_views_before
FROM daily_ad_settlements AS h
JOIN engine_day_videos AS d ON d.video_id = h.video_id
WHERE h.business_date < {day}
GROUP BY h.video_id, h.ad_id;
